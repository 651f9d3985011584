package eda

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sample events from the EventBridge documentation, in EventBridge's own
// field order and (compacted) form.
var docSampleEvents = []struct {
	name, doc, json string
}{
	{
		name: "ec2-state-change",
		doc:  "EventBridge User Guide, Event structure reference / Powertools EventBridgeSchema sample",
		json: `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"us-west-1","resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance_id":"i-1234567890abcdef0","state":"terminated"}}`,
	},
	{
		name: "input-transformer-tutorial",
		doc:  "EventBridge User Guide, Tutorial: Use input transformer (version added; the doc omits it)",
		json: `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance-id":"i-1234567890abcdef0","state":"stopped"}}`,
	},
	{
		name: "scheduled-event",
		doc:  "EventBridge User Guide, Scheduled Event (empty detail)",
		json: `{"version":"0","id":"89d1a02d-5ec7-412e-82f5-13505f849b41","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2016-12-30T18:44:49Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/SampleRule"],"detail":{}}`,
	},
	{
		name: "custom-no-resources",
		doc:  "a custom PutEvents event: resources always present, as an empty array",
		json: `{"version":"0","id":"1b6a3d0e-0000-4000-8000-000000000001","detail-type":"OrderPlaced","source":"com.example.orders","account":"000000000000","time":"2026-01-02T03:04:05Z","region":"us-east-1","resources":[],"detail":{"orderId":"o-1","total":1250.5,"items":[{"sku":"A","qty":2}],"note":null}}`,
	},
}

func TestEventJSONMatchesDocumentedSamples(t *testing.T) {
	for _, tc := range docSampleEvents {
		t.Run(tc.name, func(t *testing.T) {
			var e Event
			require.NoError(t, json.Unmarshal([]byte(tc.json), &e), tc.doc)
			assert.Equal(t, time.UTC, e.Time.Location(), "time location")
			got, err := json.Marshal(e)
			require.NoError(t, err)
			assert.Equal(t, tc.json, string(got), "encoding/json output (%s)", tc.doc)
			assert.Equal(t, tc.json, string(e.AppendJSON(nil)), "AppendJSON output")
			// Round trip: decode what we wrote, get the same event back.
			var back Event
			require.NoError(t, json.Unmarshal(got, &back))
			assert.Equal(t, e, back, "round trip")
		})
	}
}

func TestEventUnmarshalIndentedSample(t *testing.T) {
	// The documentation prints events indented, sometimes with extra
	// fields; both decode.
	doc := `{
	  "version": "0",
	  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
	  "detail-type": "EC2 Instance State-change Notification",
	  "source": "aws.ec2",
	  "account": "111122223333",
	  "time": "2017-12-22T18:43:48Z",
	  "region": "us-west-1",
	  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
	  "detail": {"instance_id": "i-1234567890abcdef0", "state": "terminated"},
	  "replay-name": "replay_archive"
	}`
	var e Event
	require.NoError(t, json.Unmarshal([]byte(doc), &e))
	assert.Equal(t, "EC2 Instance State-change Notification", e.DetailType)
	assert.True(t, e.Time.Equal(time.Date(2017, 12, 22, 18, 43, 48, 0, time.UTC)), "time %v", e.Time)
	var detail map[string]string
	require.NoError(t, json.Unmarshal(e.Detail, &detail), "detail %s", e.Detail)
	assert.Equal(t, "terminated", detail["state"])
}

func TestEventMarshalDefaultsAndTime(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	e := Event{
		ID:         "x",
		DetailType: "t",
		Source:     "s",
		Time:       time.Date(2026, 5, 6, 9, 8, 7, 654321000, loc),
	}
	got, err := json.Marshal(e)
	require.NoError(t, err)
	// UTC with Z, whole seconds, version 0, [] and {} defaults.
	want := `{"version":"0","id":"x","detail-type":"t","source":"s","account":"","time":"2026-05-06T07:08:07Z","region":"","resources":[],"detail":{}}`
	assert.Equal(t, want, string(got))
	_, err = json.Marshal(Event{Detail: json.RawMessage(`{"broken"`)})
	assert.Error(t, err, "invalid detail")
	var bad Event
	assert.Error(t, json.Unmarshal([]byte(`{"time":"yesterday"}`), &bad), "bad time")
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &bad), "array")
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x01\x1f",
		"ünïcødé ✓ 𝄞", "<html> & co", "bad \xff utf8", "line\u2028sep\u2029",
	} {
		got := appendJSONString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(got, &back), "%q -> %s", s, got)
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		assert.Equal(t, wantBack, back, "%q decodes as encoding/json's encoding does", s)
		if !strings.ContainsAny(s, "<>&") {
			assert.Equal(t, string(want), string(got), "%q: encoding/json's bytes", s)
		}
	}
}

func TestEntrySize(t *testing.T) {
	// EventBridge: Time counts 14 bytes when set; Source, DetailType,
	// Detail and every resource their UTF-8 bytes.
	e := Event{Source: "src", DetailType: "dt", Detail: json.RawMessage(`{"a":1}`), Resources: []string{"r1", "ü"}}
	assert.Equal(t, 3+2+7+2+2, EntrySize(&e))
	e.Time = time.Now()
	assert.Equal(t, 14+3+2+7+2+2, EntrySize(&e), "with time")
}

func BenchmarkEventAppendJSON(b *testing.B) {
	var e Event
	require.NoError(b, json.Unmarshal([]byte(docSampleEvents[0].json), &e))
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
}

func TestAppendTimeMatchesAppendFormat(t *testing.T) {
	loc := time.FixedZone("X", -7*3600-30*60)
	for _, tm := range []time.Time{
		time.Date(2017, 12, 22, 18, 43, 48, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 30, 0, 0, loc),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := tm.UTC().AppendFormat(nil, timeLayout)
		assert.Equal(t, string(want), string(appendTime(nil, tm)), "appendTime(%v)", tm)
	}
}

func TestEventIDsAreUniqueV4(t *testing.T) {
	var src idSource
	seen := make(map[string]bool, 10000)
	for range 10000 {
		id := src.newID()
		require.Regexp(t, uuidV4, id, "a version 4 UUID")
		require.False(t, seen[id], "duplicate id %q", id)
		seen[id] = true
	}
}

func TestEventJSONSizeHintIsEnough(t *testing.T) {
	for _, tc := range docSampleEvents {
		var e Event
		require.NoError(t, json.Unmarshal([]byte(tc.json), &e))
		assert.GreaterOrEqual(t, e.jsonSizeHint(), len(e.AppendJSON(nil)),
			"%s: a size hint below the JSON's length makes AppendJSON grow its buffer", tc.name)
	}
}

// FuzzEventJSON: whatever decodes as an Event encodes to JSON that decodes
// to the same Event.
func FuzzEventJSON(f *testing.F) {
	for _, tc := range docSampleEvents {
		f.Add([]byte(tc.json))
	}
	f.Add([]byte(`{"detail-type":"x\u2028\u0000","time":"2020-01-01T00:00:00.5+01:00","resources":null,"detail":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		if json.Unmarshal(data, &e) != nil {
			return
		}
		out, err := json.Marshal(e)
		if err != nil {
			if !json.Valid(e.Detail) {
				return // an invalid detail is refused, as it should be
			}
			require.NoError(t, err, "Marshal")
		}
		var back Event
		require.NoError(t, json.Unmarshal(out, &back), "our JSON does not decode:\n%s", out)
		e.Time = e.Time.Truncate(time.Second)
		if e.Version == "" {
			e.Version = "0"
		}
		if len(e.Detail) == 0 {
			e.Detail = json.RawMessage(`{}`)
		}
		if e.Resources == nil {
			e.Resources = []string{}
		}
		var d1, d2 any
		_ = json.Unmarshal(e.Detail, &d1)
		_ = json.Unmarshal(back.Detail, &d2)
		e.Detail, back.Detail = nil, nil
		require.Equal(t, d1, d2, "detail changed")
		if !utf8.ValidString(e.ID + e.Source + e.DetailType + e.Account + e.Region) {
			return // invalid UTF-8 is replaced by U+FFFD, as encoding/json does
		}
		for _, r := range e.Resources {
			if !utf8.ValidString(r) {
				return
			}
		}
		require.Equal(t, e, back, "round trip")
	})
}
