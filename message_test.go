package eda

// Tests of Message validation and of the SNS JSON notification. Sources:
//   SNS-publish  Amazon SNS API Reference, Publish (Message, Subject, MessageGroupId,
//                MessageDeduplicationId constraints)
//   SNS-attrs    Amazon SNS developer guide, "Amazon SNS message attributes" (items and
//                validation; data types; the 10-attribute limit of raw delivery to SQS)
//   SNS-sqs      Amazon SNS developer guide, "Fanout Amazon SNS notifications to Amazon SQS
//                queues" (the JSON document an SQS subscriber receives)

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edakit/eda/internal/pattern"
)

func TestValidateMessage(t *testing.T) {
	ok := func() Message {
		return Message{Body: []byte("hello"), Attributes: map[string]Attribute{"store": str("example_corp")}}
	}
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	cases := []struct {
		name   string
		source string
		edit   func(m *Message)
		fifo   bool
		lim    messageLimits
		field  string // "" for a valid message
		reason string
	}{
		{"valid", "", func(*Message) {}, false, messageLimits{}, "", ""},
		{"valid FIFO", "SNS-publish", func(m *Message) { m.GroupID = "g-1"; m.DeduplicationID = `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`" }, true, messageLimits{}, "", ""},
		{"binary body", "", func(m *Message) { m.Body = []byte{0, 0xff, 1} }, false, messageLimits{}, "", ""},
		// SNS-attrs: "the message body should not be empty or null".
		{"empty body", "SNS-attrs", func(m *Message) { m.Body = nil }, false, messageLimits{}, "Body", "empty"},
		// SNS-publish: at most 256 KB, counting the attributes (SNS-attrs).
		{"size at limit", "SNS-publish", func(m *Message) {
			m.Body = []byte(long(DefaultMaxMessageSize-len("store")-len("String")-len("example_corp"), "x"))
		}, false, messageLimits{}, "", ""},
		{"size over limit", "SNS-attrs", func(m *Message) {
			m.Body = []byte(long(DefaultMaxMessageSize-len("store")-len("String")-len("example_corp")+1, "x"))
		}, false, messageLimits{}, "Body", "262145 bytes"},
		{"size limit lowered", "", func(*Message) {}, false, messageLimits{MaxSize: 10}, "Body", "more than the limit of 10"},
		{"size limit lifted", "", func(m *Message) { m.Body = []byte(long(DefaultMaxMessageSize+1, "x")) }, false, messageLimits{MaxSize: -1}, "", ""},
		// SNS-publish: Subject.
		{"subject 100", "SNS-publish", func(m *Message) { m.Subject = long(100, "é") }, false, messageLimits{}, "", ""},
		{"subject 101", "SNS-publish", func(m *Message) { m.Subject = long(101, "a") }, false, messageLimits{}, "Subject", "101 characters"},
		{"subject newline", "SNS-publish", func(m *Message) { m.Subject = "a\nb" }, false, messageLimits{}, "Subject", "line breaks"},
		{"subject control", "SNS-publish", func(m *Message) { m.Subject = "a\x7fb" }, false, messageLimits{}, "Subject", "control"},
		{"subject not UTF-8", "SNS-publish", func(m *Message) { m.Subject = "a\xffb" }, false, messageLimits{}, "Subject", "UTF-8"},
		// SNS-publish: MessageGroupId and MessageDeduplicationId.
		{"FIFO without group", "SNS-publish", func(*Message) {}, true, messageLimits{}, "GroupID", "requires"},
		{"group 128", "SNS-publish", func(m *Message) { m.GroupID = long(128, "g") }, true, messageLimits{}, "", ""},
		{"group 129", "SNS-publish", func(m *Message) { m.GroupID = long(129, "g") }, true, messageLimits{}, "GroupID", "129 characters"},
		{"group with space", "SNS-publish", func(m *Message) { m.GroupID = "a b" }, true, messageLimits{}, "GroupID", "punctuation"},
		{"dedup 129", "SNS-publish", func(m *Message) { m.GroupID = "g"; m.DeduplicationID = long(129, "d") }, true, messageLimits{}, "DeduplicationID", "129"},
		{"dedup non-ASCII", "SNS-publish", func(m *Message) { m.GroupID = "g"; m.DeduplicationID = "é" }, true, messageLimits{}, "DeduplicationID", "punctuation"},
		{"standard with group", "SNS-publish", func(m *Message) { m.GroupID = "g" }, false, messageLimits{}, "GroupID", "only FIFO"},
		{"standard with dedup", "SNS-publish", func(m *Message) { m.DeduplicationID = "d" }, false, messageLimits{}, "DeduplicationID", "only FIFO"},
		// SNS-attrs: at most 10 attributes for raw delivery to SQS (a limit the Topic sets).
		{"11 attributes raw", "SNS-attrs", func(m *Message) {
			for i := range 11 {
				m.Attributes["a"+string(rune('a'+i))] = str("v")
			}
		}, false, messageLimits{MaxAttributes: RawDeliveryMaxAttributes}, "Attributes", "more than the limit of 10"},
		{"11 attributes publish", "SNS-attrs", func(m *Message) {
			for i := range 11 {
				m.Attributes["a"+string(rune('a'+i))] = str("v")
			}
		}, false, messageLimits{}, "", ""},
		// SNS-attrs: names.
		{"name chars", "SNS-attrs", func(m *Message) { m.Attributes["A-z_0.9"] = str("v") }, false, messageLimits{}, "", ""},
		{"name 256", "SNS-attrs", func(m *Message) { m.Attributes[long(256, "n")] = str("v") }, false, messageLimits{}, "", ""},
		{"name 257", "SNS-attrs", func(m *Message) { m.Attributes[long(257, "n")] = str("v") }, false, messageLimits{}, "Attributes[" + long(257, "n") + "]", "257 characters"},
		{"name empty", "SNS-attrs", func(m *Message) { m.Attributes[""] = str("v") }, false, messageLimits{}, "Attributes[]", "empty"},
		{"name space", "SNS-attrs", func(m *Message) { m.Attributes["a b"] = str("v") }, false, messageLimits{}, "Attributes[a b]", `" "`},
		{"name leading period", "SNS-attrs", func(m *Message) { m.Attributes[".a"] = str("v") }, false, messageLimits{}, "Attributes[.a]", "period"},
		{"name trailing period", "SNS-attrs", func(m *Message) { m.Attributes["a."] = str("v") }, false, messageLimits{}, "Attributes[a.]", "period"},
		{"name two periods", "SNS-attrs", func(m *Message) { m.Attributes["a..b"] = str("v") }, false, messageLimits{}, "Attributes[a..b]", "two periods"},
		{"name AWS.", "SNS-attrs", func(m *Message) { m.Attributes["aWs.x"] = str("v") }, false, messageLimits{}, "Attributes[aWs.x]", "reserved"},
		{"name Amazon.", "SNS-attrs", func(m *Message) { m.Attributes["AMAZON.x"] = str("v") }, false, messageLimits{}, "Attributes[AMAZON.x]", "reserved"},
		{"name AWSx", "SNS-attrs", func(m *Message) { m.Attributes["AWSx"] = str("v") }, false, messageLimits{}, "", ""},
		// SNS-attrs: data types, with a custom label.
		{"type Number.float", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{DataType: "Number.float", StringValue: "1.5"} }, false, messageLimits{}, "", ""},
		{"type String.Array.x", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{DataType: "String.Array.x", StringValue: "[]"} }, false, messageLimits{}, "", ""},
		{"type unknown", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{DataType: "Integer", StringValue: "1"} }, false, messageLimits{}, "Attributes[n]", "unknown data type"},
		{"type lower case", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{DataType: "string", StringValue: "1"} }, false, messageLimits{}, "Attributes[n]", "unknown data type"},
		{"type empty", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{StringValue: "1"} }, false, messageLimits{}, "Attributes[n]", "data type must not be empty"},
		{"type bare dot", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{DataType: "String.", StringValue: "1"} }, false, messageLimits{}, "Attributes[n]", "unknown data type"},
		{"type label space", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{DataType: "String.a b", StringValue: "1"} }, false, messageLimits{}, "Attributes[n]", "custom type label"},
		{"type 257 bytes", "SNS-attrs", func(m *Message) {
			m.Attributes["n"] = Attribute{DataType: "String." + long(250, "x"), StringValue: "1"}
		}, false, messageLimits{}, "Attributes[n]", "257 bytes"},
		// SNS-attrs: "name, type, and value must not be empty or null".
		{"empty string value", "SNS-attrs", func(m *Message) { m.Attributes["n"] = str("") }, false, messageLimits{}, "Attributes[n]", "empty"},
		{"empty binary value", "SNS-attrs", func(m *Message) { m.Attributes["n"] = Attribute{DataType: "Binary"} }, false, messageLimits{}, "Attributes[n]", "BinaryValue"},
		{"binary with string", "SNS-attrs", func(m *Message) {
			m.Attributes["n"] = Attribute{DataType: "Binary", BinaryValue: []byte{1}, StringValue: "x"}
		}, false, messageLimits{}, "Attributes[n]", "not StringValue"},
		{"string with binary", "SNS-attrs", func(m *Message) {
			m.Attributes["n"] = Attribute{DataType: "String", BinaryValue: []byte{1}, StringValue: "x"}
		}, false, messageLimits{}, "Attributes[n]", "not BinaryValue"},
		// Number: SQS's bounds (38 digits of precision, 10^-128 to 10^+126); SNS-attrs gives
		// ±10^9 with 5 decimals as what SNS handles, but larger numbers are published (see message.go).
		{"number forms", "SNS-attrs", func(m *Message) {
			m.Attributes["a"], m.Attributes["b"], m.Attributes["c"], m.Attributes["d"] = num("-0"), num("3.015e2"), num("1E+126"), num("1e-128")
		}, false, messageLimits{}, "", ""},
		{"number 38 digits", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("0.000" + long(38, "9") + "000") }, false, messageLimits{}, "", ""},
		{"number 39 digits", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("1" + long(37, "0") + "1") }, false, messageLimits{}, "Attributes[n]", "38 significant digits"},
		{"number 10^127", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("1e127") }, false, messageLimits{}, "Attributes[n]", "range"},
		{"number 10^-129", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("9.9e-129") }, false, messageLimits{}, "Attributes[n]", "range"},
		{"number huge exponent", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("1e99999999999999999999") }, false, messageLimits{}, "Attributes[n]", "range"},
		{"number not a number", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("12a") }, false, messageLimits{}, "Attributes[n]", "not a number"},
		{"number leading plus", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("+1") }, false, messageLimits{}, "Attributes[n]", "not a number"},
		{"number NaN", "SNS-attrs", func(m *Message) { m.Attributes["n"] = num("NaN") }, false, messageLimits{}, "Attributes[n]", "not a number"},
		// SNS-attrs, String.Array: strings, numbers, true, false and null.
		{"array of scalars", "SNS-attrs", func(m *Message) { m.Attributes["n"] = arr(`["a", 1, true, false, null]`) }, false, messageLimits{}, "", ""},
		{"array not JSON", "SNS-attrs", func(m *Message) { m.Attributes["n"] = arr(`a, b`) }, false, messageLimits{}, "Attributes[n]", "JSON array"},
		{"array of an object", "SNS-attrs", func(m *Message) { m.Attributes["n"] = arr(`[{"a":1}]`) }, false, messageLimits{}, "Attributes[n]", "element 0"},
		{"array nested", "SNS-attrs", func(m *Message) { m.Attributes["n"] = arr(`["a", [1]]`) }, false, messageLimits{}, "Attributes[n]", "element 1"},
		{"array is null", "SNS-attrs", func(m *Message) { m.Attributes["n"] = arr(`null`) }, false, messageLimits{}, "Attributes[n]", "JSON array"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := ok()
			c.edit(&m)
			size, err := validateMessage(&m, c.lim, c.fifo)
			// Validating while converting the attributes for the filter
			// policies (Publish) decides the same, and converts them as
			// messageAttrs does.
			size2, attrs, err2 := validateMessageAttrs(&m, c.lim, c.fifo, make([]pattern.Attr, 0, 1))
			assert.Equal(t, size, size2)
			assert.Equal(t, err, err2)
			if c.field == "" {
				require.NoError(t, err)
				assert.ElementsMatch(t, messageAttrs(nil, m.Attributes), attrs)
				return
			}
			require.ErrorIs(t, err, ErrInvalidMessage)
			var me *MessageError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, c.field, me.Field)
			assert.Contains(t, me.Reason, c.reason)
			assert.Equal(t, "eda: invalid message: "+me.Field+": "+me.Reason, err.Error())
		})
	}
	var me *MessageError
	_, err := validateMessage(nil, messageLimits{}, false)
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "Body", me.Field)
}

// snsEntity mirrors the field names of aws-lambda-go's events.SNSEntity
// (whose json tags say SigningCertUrl and UnsubscribeUrl: encoding/json
// matches names case-insensitively, as a Lambda decoder does).
type snsEntity struct {
	Signature         string                 `json:"Signature"`
	MessageID         string                 `json:"MessageId"`
	Type              string                 `json:"Type"`
	TopicArn          string                 `json:"TopicArn"`
	MessageAttributes map[string]interface{} `json:"MessageAttributes"`
	SignatureVersion  string                 `json:"SignatureVersion"`
	Timestamp         time.Time              `json:"Timestamp"`
	SigningCertURL    string                 `json:"SigningCertUrl"`
	Message           string                 `json:"Message"`
	UnsubscribeURL    string                 `json:"UnsubscribeUrl"`
	Subject           string                 `json:"Subject"`
}

// sqsNotification is the SQS-side shape (SNS-sqs), with the FIFO members.
type sqsNotification struct {
	Type              string
	MessageId         string //nolint:revive // SNS's member name
	SequenceNumber    string
	TopicArn          string
	Subject           *string
	Message           string
	Timestamp         string
	SignatureVersion  string
	Signature         string
	SigningCertURL    string
	UnsubscribeURL    string
	MessageGroupId    string //nolint:revive // SNS's member name
	MessageAttributes map[string]struct{ Type, Value string }
}

func sampleNotification() notification {
	return notification{
		MessageID:      "63a3f6b6-d533-4a47-aef9-fcf5cf758c76",
		TopicARN:       "arn:aws:sns:us-west-2:123456789012:MyTopic",
		Subject:        "Testing publish to subscribed queues",
		Body:           []byte("Hello world!"),
		Time:           time.Date(2012, 3, 29, 5, 12, 16, 901_999_999, time.UTC),
		UnsubscribeURL: "eda://MyTopic/sub",
	}
}

func TestNotificationJSONDecodes(t *testing.T) {
	n := sampleNotification()
	n.Body = []byte("line\n\"quoted\" <b> \u2028 \xff")
	n.Time = time.Date(2019, 11, 3, 23, 28, 1, 631_000_000, time.FixedZone("x", 3600))
	n.Attributes = map[string]Attribute{
		"store":              str("example_corp"),
		"price_usd":          num("210.75"),
		"customer_interests": arr(`["soccer", "rugby"]`),
		"blob":               {DataType: "Binary.png", BinaryValue: []byte{0, 1, 2, 0xff}},
	}
	out := appendNotificationJSON(nil, n)
	require.True(t, json.Valid(out), "%s", out)

	var e snsEntity
	require.NoError(t, json.Unmarshal(out, &e))
	assert.Equal(t, "Notification", e.Type)
	assert.Equal(t, n.MessageID, e.MessageID)
	assert.Equal(t, n.TopicARN, e.TopicArn)
	assert.Equal(t, n.Subject, e.Subject)
	assert.Equal(t, "line\n\"quoted\" <b> \u2028 \ufffd", e.Message)
	assert.True(t, e.Timestamp.Equal(n.Time), "%v", e.Timestamp)
	assert.Equal(t, "1", e.SignatureVersion)
	assert.Empty(t, e.Signature)
	assert.Empty(t, e.SigningCertURL)
	assert.Equal(t, "eda://MyTopic/sub", e.UnsubscribeURL)
	assert.Equal(t, map[string]interface{}{"Type": "String", "Value": "example_corp"}, e.MessageAttributes["store"])

	var q sqsNotification
	require.NoError(t, json.Unmarshal(out, &q))
	assert.Equal(t, "2019-11-03T22:28:01.631Z", q.Timestamp)
	assert.Equal(t, struct{ Type, Value string }{"Number", "210.75"}, q.MessageAttributes["price_usd"])
	assert.Equal(t, struct{ Type, Value string }{"String.Array", `["soccer", "rugby"]`}, q.MessageAttributes["customer_interests"])
	assert.Equal(t, struct{ Type, Value string }{"Binary.png", base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff})}, q.MessageAttributes["blob"])
	assert.Empty(t, q.SequenceNumber)
	assert.Empty(t, q.MessageGroupId)
	assert.NotContains(t, string(out), "SequenceNumber")

	// Attributes are written sorted by name, so the output is stable.
	assert.Less(t, strings.Index(string(out), `"blob"`), strings.Index(string(out), `"customer_interests"`))
	assert.Less(t, strings.Index(string(out), `"price_usd"`), strings.Index(string(out), `"store"`))
}

// SNS omits Subject when the message has none, and MessageAttributes when
// there are no attributes (SNS-sqs).
func TestNotificationJSONOmits(t *testing.T) {
	n := sampleNotification()
	n.Subject = ""
	out := appendNotificationJSON(nil, n)
	var q sqsNotification
	require.NoError(t, json.Unmarshal(out, &q))
	assert.Nil(t, q.Subject)
	assert.NotContains(t, string(out), "Subject")
	assert.NotContains(t, string(out), "MessageAttributes")
}

func TestNotificationJSONFIFO(t *testing.T) {
	n := sampleNotification()
	n.FIFO, n.SequenceNumber, n.GroupID = true, "10000000000000004000", "group-1"
	out := appendNotificationJSON(nil, n)
	var q sqsNotification
	require.NoError(t, json.Unmarshal(out, &q))
	assert.Equal(t, "10000000000000004000", q.SequenceNumber)
	assert.Equal(t, "group-1", q.MessageGroupId)
	assert.Less(t, strings.Index(string(out), "SequenceNumber"), strings.Index(string(out), "TopicArn"))
}

var update = flag.Bool("update", false, "rewrite golden files")

// The golden file holds the documented SQS sample of SNS-sqs as eda writes
// it: same members, same order; only the values eda cannot know (signature,
// certificate and unsubscribe URLs) differ.
func TestNotificationJSONGolden(t *testing.T) {
	out := appendNotificationJSON(nil, sampleNotification())
	golden := filepath.Join("testdata", "sns_notification.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out))

	// The documented sample (SNS-sqs), member for member.
	const sample = `{"Type" : "Notification", "MessageId" : "63a3f6b6-d533-4a47-aef9-fcf5cf758c76",
	"TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic", "Subject" : "Testing publish to subscribed queues",
	"Message" : "Hello world!", "Timestamp" : "2012-03-29T05:12:16.901Z", "SignatureVersion" : "1",
	"Signature" : "EXAMPLEnTrFPa3...", "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
	"UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c7fe3a54-ab0e-4ec2-88e0-db410a0f2bee"}`
	var doc, ours map[string]string
	require.NoError(t, json.Unmarshal([]byte(sample), &doc))
	require.NoError(t, json.Unmarshal(out, &ours))
	assert.Equal(t, memberOrder(t, []byte(sample)), memberOrder(t, out))
	for k, v := range doc {
		switch k {
		case "Signature", "SigningCertURL", "UnsubscribeURL":
			continue
		}
		assert.Equal(t, v, ours[k], k)
	}
}

// memberOrder lists the member names of a flat JSON object in order.
func memberOrder(t *testing.T, data []byte) []string {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	var names []string
	_, err := dec.Token()
	require.NoError(t, err)
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		names = append(names, k.(string))
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
	}
	return names
}

// With a pre-sized buffer, writing a notification allocates nothing.
func TestNotificationJSONAllocs(t *testing.T) {
	n := sampleNotification()
	n.Attributes = map[string]Attribute{"a": str("x"), "b": {DataType: "Binary", BinaryValue: []byte{1, 2}}}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() { buf = appendNotificationJSON(buf[:0], n) })
	assert.Zero(t, allocs)
}

// FuzzValidateAttribute: no attribute may panic validation; a valid one
// can be matched and written into a notification as valid JSON.
func FuzzValidateAttribute(f *testing.F) {
	f.Add("store", "String", "example_corp", []byte(nil))
	f.Add("price", "Number.float", "3.015e2", []byte(nil))
	f.Add("list", "String.Array", `["a", 1, null]`, []byte(nil))
	f.Add("blob", "Binary", "", []byte{0, 1})
	f.Add("prices", "Number.Array", "[100, 5e1]", []byte(nil))
	f.Add("AWS.x", "Number", "1e999", []byte(nil))
	f.Fuzz(func(t *testing.T, name, dataType, value string, bin []byte) {
		a := Attribute{DataType: dataType, StringValue: value, BinaryValue: bin}
		err := validateAttribute(name, a)
		if err != nil {
			require.True(t, errors.Is(err, ErrInvalidMessage))
			return
		}
		m := Message{Body: []byte("b"), Attributes: map[string]Attribute{name: a}}
		_, err = MatchFilterPolicy([]byte(`{"x":[{"exists":false}]}`), ScopeMessageAttributes, m)
		require.NoError(t, err)
		out := appendNotificationJSON(nil, notification{Body: m.Body, Attributes: m.Attributes})
		require.True(t, json.Valid(out), "%s", out)
	})
}
