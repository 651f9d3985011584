package eda

// Table tests of SNS subscription filter policies. Every documented case
// names its page of the Amazon SNS developer guide:
//   SNS-string   "String value matching" (Exact, Anything-but, Using a prefix with anything-but,
//                Prefix, IP address matching)
//   SNS-numeric  "Numeric value matching" (Exact, Anything-but, Value range)
//   SNS-key      "Key matching" (exists true / false, and its note that exists:false
//                needs at least one attribute)
//   SNS-andor    "AND/OR logic" (AND, OR, OR operator)
//   SNS-examples "Amazon SNS example filter policies" (the accepting and the rejecting policy)
//   SNS-limits   "Filter policy constraints in Amazon SNS" (common, attribute-based and
//                payload-based constraints, key counting)

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/edakit/eda/internal/pattern"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// policyCase is one documented verdict; a message with nil attrs is matched
// in body scope, one with nil body in attribute scope.
type policyCase struct {
	name   string
	source string
	policy string
	attrs  map[string]Attribute
	body   string
	want   bool
}

func str(v string) Attribute { return Attribute{DataType: "String", StringValue: v} }
func num(v string) Attribute { return Attribute{DataType: "Number", StringValue: v} }
func arr(v string) Attribute { return Attribute{DataType: "String.Array", StringValue: v} }
func one(name string, a Attribute) map[string]Attribute {
	return map[string]Attribute{name: a}
}

// docExampleAttrs are the attributes of the example message of
// SNS-examples; docExampleBody is the same message in the body.
var docExampleAttrs = map[string]Attribute{
	"customer_interests": arr(`["soccer", "rugby", "hockey"]`),
	"store":              str("example_corp"),
	"event":              str("order_placed"),
	"price_usd":          num("210.75"),
}

const docExampleBody = `{"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp", "event":"order_placed", "price_usd":210.75}`

var policyDocCases = []policyCase{
	// SNS-string, Exact matching.
	{"exact attr rugby", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, one("customer_interests", str("rugby")), "", true},
	{"exact attr tennis", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, one("customer_interests", str("tennis")), "", true},
	{"exact attr array", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, one("customer_interests", arr(`["rugby", "tennis"]`)), "", true},
	{"exact body rugby", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, nil, `{"customer_interests": "rugby"}`, true},
	{"exact body tennis", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, nil, `{"customer_interests": "tennis"}`, true},
	{"exact attr baseball", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, one("customer_interests", str("baseball")), "", false},
	{"exact attr array baseball", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, one("customer_interests", arr(`["baseball"]`)), "", false},
	{"exact body baseball", "SNS-string", `{"customer_interests": ["rugby", "tennis"]}`, nil, `{"customer_interests": "baseball"}`, false},
	// SNS-string, Anything-but matching.
	{"anything-but attr baseball", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, one("customer_interests", str("baseball")), "", true},
	{"anything-but attr football", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, one("customer_interests", str("football")), "", true},
	{"anything-but body baseball", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, nil, `{"customer_interests": "baseball"}`, true},
	{"anything-but body football", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, nil, `{"customer_interests": "football"}`, true},
	// "because it contains a value that isn't rugby or tennis"
	{"anything-but attr array", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, one("customer_interests", arr(`["rugby", "baseball"]`)), "", true},
	{"anything-but body array", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, nil, `{"customer_interests": ["rugby", "baseball"]}`, true},
	{"anything-but attr rugby", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, one("customer_interests", str("rugby")), "", false},
	{"anything-but body rugby", "SNS-string", `{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}`, nil, `{"customer_interests": "rugby"}`, false},
	// SNS-string, Using a prefix with the anything-but operator.
	{"anything-but prefix data-entry", "SNS-string", `{"event":[{"anything-but": {"prefix":"order-"}}]}`, one("event", str("data-entry")), "", true},
	{"anything-but prefix order_number", "SNS-string", `{"event":[{"anything-but": {"prefix":"order-"}}]}`, one("event", str("order_number")), "", true},
	{"anything-but prefix order-cancelled", "SNS-string", `{"event":[{"anything-but": {"prefix":"order-"}}]}`, one("event", str("order-cancelled")), "", false},
	// SNS-string, Prefix matching.
	{"prefix baseball", "SNS-string", `{"customer_interests": [{"prefix": "bas"}]}`, one("customer_interests", str("baseball")), "", true},
	{"prefix basketball", "SNS-string", `{"customer_interests": [{"prefix": "bas"}]}`, one("customer_interests", str("basketball")), "", true},
	{"prefix rugby", "SNS-string", `{"customer_interests": [{"prefix": "bas"}]}`, one("customer_interests", str("rugby")), "", false},
	// SNS-string, IP address matching.
	{"cidr 10.0.0.0", "SNS-string", `{"source_ip":[{"cidr": "10.0.0.0/24"}]}`, one("source_ip", str("10.0.0.0")), "", true},
	{"cidr 10.0.0.255", "SNS-string", `{"source_ip":[{"cidr": "10.0.0.0/24"}]}`, one("source_ip", str("10.0.0.255")), "", true},
	{"cidr 10.1.1.0", "SNS-string", `{"source_ip":[{"cidr": "10.0.0.0/24"}]}`, one("source_ip", str("10.1.1.0")), "", false},

	// SNS-numeric, Exact matching.
	{"numeric = 301.5 attr", "SNS-numeric", `{"price_usd": [{"numeric": ["=",301.5]}]}`, one("price_usd", num("301.5")), "", true},
	{"numeric = 3.015e2 attr", "SNS-numeric", `{"price_usd": [{"numeric": ["=",301.5]}]}`, one("price_usd", num("3.015e2")), "", true},
	{"numeric = 301.5 body", "SNS-numeric", `{"price_usd": [{"numeric": ["=",301.5]}]}`, nil, `{"price_usd": 301.5}`, true},
	{"numeric = 3.015e2 body", "SNS-numeric", `{"price_usd": [{"numeric": ["=",301.5]}]}`, nil, `{"price_usd": 3.015e2}`, true},
	// SNS-numeric, Anything-but matching.
	{"anything-but 101 attr", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, one("price", num("101")), "", true},
	{"anything-but 100.1 attr", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, one("price", num("100.1")), "", true},
	{"anything-but 101 body", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, nil, `{"price": 101}`, true},
	{"anything-but 100.1 body", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, nil, `{"price": 100.1}`, true},
	{"anything-but [100, 50] body", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, nil, `{"price": [100, 50]}`, true},
	{"anything-but 100 attr", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, one("price", num("100")), "", false},
	{"anything-but 100 body", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, nil, `{"price": 100}`, false},
	{"anything-but [100, 50] attr", "SNS-numeric", `{"price": [{"anything-but": [100, 500]}]}`, one("price", Attribute{DataType: "Number.Array", StringValue: "[100, 50]"}), "", true},
	// SNS-numeric, Value range matching.
	{"numeric < 0 negative", "SNS-numeric", `{"price_usd": [{"numeric": ["<", 0]}]}`, one("price_usd", num("-1.5")), "", true},
	{"numeric < 0 zero", "SNS-numeric", `{"price_usd": [{"numeric": ["<", 0]}]}`, one("price_usd", num("0")), "", false},
	{"numeric (0,150] 150", "SNS-numeric", `{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}`, one("price_usd", num("150")), "", true},
	{"numeric (0,150] 0", "SNS-numeric", `{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}`, nil, `{"price_usd": 0}`, false},
	{"numeric (0,150] 150.5", "SNS-numeric", `{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}`, nil, `{"price_usd": 150.5}`, false},

	// SNS-key, exists true.
	{"exists true attr", "SNS-key", `{"store": [{"exists": true}]}`,
		map[string]Attribute{"store": str("fans"), "customer_interests": arr(`["baseball", "basketball"]`)}, "", true},
	{"exists true body", "SNS-key", `{"store": [{"exists": true}]}`, nil, `{"store": "fans", "customer_interests": ["baseball", "basketball"]}`, true},
	{"exists true attr without", "SNS-key", `{"store": [{"exists": true}]}`, one("customer_interests", arr(`["baseball", "basketball"]`)), "", false},
	{"exists true body without", "SNS-key", `{"store": [{"exists": true}]}`, nil, `{"customer_interests": ["baseball", "basketball"]}`, false},
	// SNS-key, exists false.
	{"exists false attr with", "SNS-key", `{"store": [{"exists": false}]}`,
		map[string]Attribute{"store": str("fans"), "customer_interests": arr(`["baseball", "basketball"]`)}, "", false},
	{"exists false body with", "SNS-key", `{"store": [{"exists": false}]}`, nil, `{"store": "fans", "customer_interests": ["baseball", "basketball"]}`, false},
	{"exists false attr without", "SNS-key", `{"store": [{"exists": false}]}`, one("customer_interests", arr(`["baseball", "basketball"]`)), "", true},
	{"exists false body without", "SNS-key", `{"store": [{"exists": false}]}`, nil, `{"customer_interests": ["baseball", "basketball"]}`, true},
	// "exists: false matches only when at least one attribute is present;
	// an empty attribute set does not match."
	{"exists false no attributes", "SNS-key", `{"store": [{"exists": false}]}`, map[string]Attribute{}, "", false},
	// exists true: "The key must have a non-null and non-empty value."
	{"exists true body null", "SNS-key", `{"store": [{"exists": true}]}`, nil, `{"store": null}`, false},
	{"exists true body empty", "SNS-key", `{"store": [{"exists": true}]}`, nil, `{"store": ""}`, false},
	{"exists true body zero", "SNS-key", `{"store": [{"exists": true}]}`, nil, `{"store": 0}`, true},
	{"exists true body false", "SNS-key", `{"store": [{"exists": true}]}`, nil, `{"store": false}`, true},
	{"exists true body nested null", "SNS-key", `{"a": {"store": [{"exists": true}]}}`, nil, `{"a": {"store": null}}`, false},
	{"exists true body in $or", "SNS-key", `{"$or": [{"store": [{"exists": true}]}, {"x": ["1"]}]}`, nil, `{"store": ""}`, false},
	// ("exists" works on leaf nodes only, not on an object.)
	{"exists true body object", "SNS-key", `{"store": [{"exists": true}]}`, nil, `{"store": {"a": 1}}`, false},

	// SNS-andor, OR operator: "$or" is the operator only as an array of at
	// least 2 objects without reserved field names; "Otherwise "$or" is
	// treated as a normal attribute name". In body scope it is then a
	// property like any other.
	{"$or key body", "SNS-andor", `{"$or": ["x"]}`, nil, `{"$or": "x"}`, true},
	{"$or key body other value", "SNS-andor", `{"$or": ["x"]}`, nil, `{"$or": "y"}`, false},
	{"$or key body exists false", "SNS-andor", `{"$or": [{"exists": false}]}`, nil, `{"a": 1}`, true},
	// In attribute scope no attribute can be named "$or" (names are
	// letters, digits, '_', '-' and '.'), so such a key never matches a
	// value, and {"exists": false} on it matches every message with
	// attributes.
	{"$or key attrs", "SNS-andor", `{"$or": ["x"]}`, one("a", str("x")), "", false},
	{"$or key attrs exists false", "SNS-andor", `{"$or": [{"exists": false}]}`, one("a", str("x")), "", true},

	// SNS-andor, AND logic: customer_interests rugby and price_usd > 100.
	{"and both", "SNS-andor", `{"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}`,
		map[string]Attribute{"customer_interests": str("rugby"), "price_usd": num("101")}, "", true},
	{"and price too low", "SNS-andor", `{"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}`,
		map[string]Attribute{"customer_interests": str("rugby"), "price_usd": num("100")}, "", false},
	{"and body", "SNS-andor", `{"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}`, nil, `{"customer_interests": "rugby", "price_usd": 150}`, true},
	// SNS-andor, OR logic: rugby, football or baseball.
	{"or football", "SNS-andor", `{"customer_interests": ["rugby", "football", "baseball"]}`, one("customer_interests", str("football")), "", true},
	{"or tennis", "SNS-andor", `{"customer_interests": ["rugby", "football", "baseball"]}`, one("customer_interests", str("tennis")), "", false},
	// SNS-andor, OR operator, Standard OR: "source" && ("metricName" || "namespace").
	{"$or metricName", "SNS-andor", `{"source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization" ] }, { "namespace": [ "AWS/EC2" ] } ]}`,
		map[string]Attribute{"source": str("aws.cloudwatch"), "metricName": str("CPUUtilization")}, "", true},
	{"$or namespace", "SNS-andor", `{"source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization" ] }, { "namespace": [ "AWS/EC2" ] } ]}`,
		map[string]Attribute{"source": str("aws.cloudwatch"), "namespace": str("AWS/EC2")}, "", true},
	{"$or neither", "SNS-andor", `{"source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization" ] }, { "namespace": [ "AWS/EC2" ] } ]}`,
		map[string]Attribute{"source": str("aws.cloudwatch")}, "", false},
	{"$or body", "SNS-andor", `{"source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization" ] }, { "namespace": [ "AWS/EC2" ] } ]}`,
		nil, `{"source": "aws.cloudwatch", "namespace": "AWS/EC2"}`, true},

	// SNS-examples: the example message, in both scopes.
	{"accepting policy attrs", "SNS-examples", `{"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}], "customer_interests": ["rugby", "football", "baseball"], "price_usd": [{"numeric": [">=", 100]}]}`,
		docExampleAttrs, "", true},
	{"accepting policy body", "SNS-examples", `{"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}], "customer_interests": ["rugby", "football", "baseball"], "price_usd": [{"numeric": [">=", 100]}]}`,
		nil, docExampleBody, true},
	// "Because the encrypted attribute name isn't present ... the message is rejected."
	{"rejecting policy attrs", "SNS-examples", `{"store": ["example_corp"], "event": ["order_cancelled"], "encrypted": [false], "customer_interests": ["basketball", "baseball"]}`,
		docExampleAttrs, "", false},
	{"rejecting policy body", "SNS-examples", `{"store": ["example_corp"], "event": ["order_cancelled"], "encrypted": [false], "customer_interests": ["basketball", "baseball"]}`,
		nil, docExampleBody, false},

	// SNS-limits, payload-based key counting: six leaf keys but five
	// top-level keys, so valid in body scope.
	{"body scope counts top-level keys", "SNS-limits", `{"state": ["SUCCESS"], "severity": [{"exists": true}], "message": [{"exists": true}], "finding": {"standard_control": [{"exists": true}], "region": [{"exists": true}], "account": [{"exists": true}]}}`,
		nil, `{"state": "SUCCESS", "severity": "high", "message": "m", "finding": {"standard_control": "c", "region": "r", "account": "a"}}`, true},
	{"body scope nested", "SNS-limits", `{"key_a": {"key_b": {"key_c": {"key_d": ["value_one", "value_two", "value_three", "value_four"]}}, "key_e": {"key_f": ["value_one", "value_two", "value_three"]}}}`,
		nil, `{"key_a": {"key_b": {"key_c": {"key_d": "value_two"}}, "key_e": {"key_f": "value_three"}}}`, true},
	// SNS-limits: 3 x 1 x 2 = 6 combinations.
	{"combination example", "SNS-limits", `{"key_a": ["value_one", "value_two", "value_three"], "key_b": ["value_one"], "key_c": ["value_one", "value_two"]}`,
		map[string]Attribute{"key_a": str("value_two"), "key_b": str("value_one"), "key_c": str("value_two")}, "", true},
}

func TestMatchFilterPolicyDocExamples(t *testing.T) {
	for _, c := range policyDocCases {
		t.Run(c.source+"/"+c.name, func(t *testing.T) {
			scope, m := ScopeMessageAttributes, Message{Body: []byte("body"), Attributes: c.attrs}
			if c.attrs == nil {
				scope, m = ScopeMessageBody, Message{Body: []byte(c.body)}
			}
			got, err := MatchFilterPolicy([]byte(c.policy), scope, m)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// Where SNS-key is silent, eda decides (see MatchFilterPolicy): in body
// scope an array property exists when one of its elements is neither null
// nor "", and a property whose value is null or "" is present, so that
// {"exists": false} does not match it either.
func TestMatchFilterPolicyExistsDecided(t *testing.T) {
	for _, c := range []struct {
		policy, body string
		want         bool
	}{
		{`{"store": [{"exists": true}]}`, `{"store": ["", "x"]}`, true},
		{`{"store": [{"exists": true}]}`, `{"store": [null, ""]}`, false},
		{`{"store": [{"exists": true}]}`, `{"store": []}`, false},
		{`{"store": [{"exists": false}]}`, `{"store": null}`, false},
		{`{"store": [{"exists": false}]}`, `{"store": ""}`, false},
		{`{"store": [{"exists": false}]}`, `{"store": [null]}`, false},
		// A value list may still name null and "" explicitly.
		{`{"store": [null]}`, `{"store": null}`, true},
		{`{"store": [""]}`, `{"store": ""}`, true},
		{`{"store": [{"exists": true}, null]}`, `{"store": null}`, true},
	} {
		got, err := MatchFilterPolicy([]byte(c.policy), ScopeMessageBody, Message{Body: []byte(c.body)})
		require.NoError(t, err, c.policy)
		assert.Equal(t, c.want, got, "%s on %s", c.policy, c.body)
	}
}

// SNS-numeric writes {"Type": "Number.Array", "Value": "[100, 50]"}: a
// Number.Array whose value is a JSON array is matched element by element,
// as a String.Array is; one whose value is a number is a Number with the
// custom label "Array"; anything else is refused.
func TestMatchFilterPolicyDocNumberArray(t *testing.T) {
	match := func(policy string, a Attribute) (bool, error) {
		return MatchFilterPolicy([]byte(policy), ScopeMessageAttributes, Message{Body: []byte("b"), Attributes: one("price", a)})
	}
	for _, c := range []struct {
		policy, value string
		want          bool
	}{
		{`{"price": [{"anything-but": [100, 500]}]}`, "[100, 50]", true},
		{`{"price": [{"anything-but": [100, 500]}]}`, "[100, 500]", false},
		{`{"price": [{"numeric": [">", 60]}]}`, "[100, 50]", true},
		{`{"price": [{"numeric": [">", 600]}]}`, "[100, 50]", false},
		{`{"price": [50]}`, " [100, 5e1]", true},
		{`{"price": [{"numeric": [">", 60]}]}`, "100", true},
		{`{"price": [{"numeric": [">", 600]}]}`, "100", false},
	} {
		ok, err := match(c.policy, Attribute{DataType: "Number.Array", StringValue: c.value})
		require.NoError(t, err, "%s on %s", c.policy, c.value)
		assert.Equal(t, c.want, ok, "%s on %s", c.policy, c.value)
	}
	ok, err := match(`{"price": [{"numeric": [">", 600]}]}`, Attribute{DataType: "Number.Array.x", StringValue: "[700]"})
	require.NoError(t, err)
	assert.True(t, ok, "a Number.Array with a further label")
	for _, v := range []string{`["100"]`, `[100, [1]]`, `[100`, `[1e999]`, `x`} {
		ok, err := match(`{"price": [{"exists": true}]}`, Attribute{DataType: "Number.Array", StringValue: v})
		assert.False(t, ok)
		var me *MessageError
		require.ErrorAs(t, err, &me, "value %s", v)
		assert.Equal(t, "Attributes[price]", me.Field)
	}
}

// Attribute scope compares by type: a String never equals a number, a Number
// never equals a string, and Binary attributes never match (SNS-limits:
// "Amazon SNS ignores message attributes with the Binary data type").
func TestMatchFilterPolicyAttributeTypes(t *testing.T) {
	cases := []struct {
		policy string
		attr   Attribute
		want   bool
	}{
		{`{"a": [100]}`, num("100"), true},
		{`{"a": [100]}`, num("1e2"), true},
		{`{"a": [100]}`, str("100"), false},
		{`{"a": ["100"]}`, num("100"), false},
		{`{"a": ["100"]}`, str("100"), true},
		{`{"a": [{"numeric": [">", 1]}]}`, str("5"), false},
		{`{"a": [{"exists": true}]}`, Attribute{DataType: "Binary", BinaryValue: []byte{1}}, false},
		{`{"a": [{"exists": false}]}`, Attribute{DataType: "Binary", BinaryValue: []byte{1}}, true},
		{`{"a": [{"prefix": "x"}]}`, Attribute{DataType: "String.custom", StringValue: "xy"}, true},
		{`{"a": [true]}`, arr(`[false, true, null, 1, "s"]`), true},
		{`{"a": [null]}`, arr(`[null]`), true},
		{`{"a": [{"suffix": "ball"}]}`, arr(`["rugby", "football"]`), true},
		{`{"a": [{"equals-ignore-case": "RUGBY"}]}`, str("rugby"), true},
	}
	for _, c := range cases {
		t.Run(c.policy+" "+c.attr.DataType+" "+c.attr.StringValue, func(t *testing.T) {
			got, err := MatchFilterPolicy([]byte(c.policy), ScopeMessageAttributes, Message{Body: []byte("b"), Attributes: one("a", c.attr)})
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// A body that is not a JSON object matches no body policy, without error.
func TestMatchFilterPolicyBodyNotJSON(t *testing.T) {
	for _, body := range []string{"hello", `["a"]`, `{"a":`, `"a"`} {
		ok, err := MatchFilterPolicy([]byte(`{"a": [{"exists": false}]}`), ScopeMessageBody, Message{Body: []byte(body)})
		require.NoError(t, err, body)
		assert.False(t, ok, body)
	}
}

// Invalid policies: SNS's dialect and constraints, each naming the key.
func TestMatchFilterPolicyInvalid(t *testing.T) {
	many := func(n int) string {
		s := `{"k0": [`
		for i := range n {
			if i > 0 {
				s += ","
			}
			s += strconv.Quote("v" + strconv.Itoa(i))
		}
		return s + `]}`
	}
	cases := []struct {
		name, policy string
		scope        FilterPolicyScope
		path, reason string
	}{
		// SNS-limits, attribute-based: "Amazon SNS doesn't accept a nested filter policy".
		{"nested in attribute scope", `{"a": {"b": ["x"]}}`, ScopeMessageAttributes, "a", "nested policy"},
		{"anything-but wildcard", `{"a": [{"anything-but": {"wildcard": "x*"}}]}`, ScopeMessageAttributes, "a", "wildcard"},
		// SNS refuses anything-but suffix (LocalStack's AWS-validated
		// snapshot "error-condition-anything-but-suffix").
		{"anything-but suffix", `{"a": [{"anything-but": {"suffix": "ball"}}]}`, ScopeMessageBody, "a", "suffix"},
		{"anything-but equals-ignore-case", `{"a": [{"anything-but": {"equals-ignore-case": "x"}}]}`, ScopeMessageAttributes, "a", "equals-ignore-case"},
		{"anything-but prefix list", `{"a": [{"anything-but": {"prefix": ["x", "y"]}}]}`, ScopeMessageAttributes, "a", "one string"},
		{"prefix equals-ignore-case", `{"a": [{"prefix": {"equals-ignore-case": "x"}}]}`, ScopeMessageAttributes, "a", "equals-ignore-case"},
		{"suffix equals-ignore-case", `{"a": [{"suffix": {"equals-ignore-case": "x"}}]}`, ScopeMessageBody, "a", "equals-ignore-case"},
		// SNS-limits, common: numbers within ±10^9 with five decimals.
		{"number too big", `{"a": [{"numeric": [">", 1000000001]}]}`, ScopeMessageAttributes, "a", "range"},
		{"number too small", `{"a": [-1e10]}`, ScopeMessageAttributes, "a", "range"},
		{"too many decimals", `{"a": [{"numeric": ["=", 0.000001]}]}`, ScopeMessageAttributes, "a", "decimal point"},
		{"anything-but decimals", `{"a": [{"anything-but": [1.123456]}]}`, ScopeMessageAttributes, "a", "decimal point"},
		// SNS-limits: at most five keys.
		{"six keys", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, ScopeMessageAttributes, "", "6 attribute names"},
		{"six keys with $or", `{"a":["1"],"b":["1"],"c":["1"],"$or":[{"d":["1"]},{"e":["1"],"f":["1"]}]}`, ScopeMessageAttributes, "", "6 attribute names"},
		{"six top-level keys", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":{"g":["1"]}}`, ScopeMessageBody, "", "6 top-level keys"},
		// SNS-limits: at most 150 combinations.
		{"151 values", many(151), ScopeMessageAttributes, "", "150 combinations"},
		{"combinations multiply", `{"a":["1","2","3","4","5","6"],"b":["1","2","3","4","5"],"c":["1","2","3","4","5"],"d":["1","2"]}`, ScopeMessageAttributes, "", "150 combinations"},
		// SNS-limits, payload example: values count times their nesting depth.
		{"nested combinations", `{"a":{"b":{"c":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21","22","23","24","25","26","27","28","29","30","31","32","33","34","35","36","37","38","39","40","41","42","43","44","45","46","47","48","49","50","51"]}}}`, ScopeMessageBody, "", "150 combinations"},
		{"combinations add over $or", `{"$or":[{"a":["1","2","3","4","5","6","7","8","9","10"],"b":["1","2","3","4","5","6","7","8"]},{"c":["1","2","3","4","5","6","7","8"],"d":["1","2","3","4","5","6","7","8","9","10"]}]}`, ScopeMessageAttributes, "", "150 combinations"},
		// SNS-andor: reserved keywords inside $or are not an OR relationship,
		// so "$or" is an ordinary key, and {"numeric": 123} no valid
		// condition of it.
		{"$or with reserved keywords", `{"$or": [ {"numeric" : 123}, {"prefix": "abc"} ]}`, ScopeMessageAttributes, "$or", "numeric: needs an array"},
		{"$or with reserved keywords, body", `{"$or": [ {"numeric" : 123}, {"prefix": "abc"} ]}`, ScopeMessageBody, "$or", "numeric: needs an array"},
		// SNS-andor: one object is not an OR relationship either; as the
		// condition of an ordinary key, {"a": ["1"]} is no operator.
		{"$or with one object", `{"$or": [{"a": ["1"]}]}`, ScopeMessageBody, "$or", `unknown operator "a"`},
		{"$or not an array", `{"$or": "x"}`, ScopeMessageBody, "$or", "must be an object or an array"},
		{"not JSON", `{"a":`, ScopeMessageAttributes, "", "invalid JSON"},
		{"unknown scope", `{"a":["x"]}`, FilterPolicyScope(7), "", "unknown filter policy scope FilterPolicyScope(7)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := MatchFilterPolicy([]byte(c.policy), c.scope, Message{Body: []byte(`{"a":"x"}`), Attributes: one("a", str("x"))})
			assert.False(t, ok)
			var pe *PatternError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.path, pe.Path)
			assert.Contains(t, pe.Reason, c.reason)
			assert.Contains(t, err.Error(), "filter policy: ")
		})
	}
}

// Limits at the boundary pass: five keys, 150 combinations, ±10^9, five
// decimals, and a policy of exactly 256 KiB; one more byte fails.
func TestFilterPolicyLimitsBoundary(t *testing.T) {
	valid := []string{
		`{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"]}`,
		`{"a":["1","2","3","4","5","6"],"b":["1","2","3","4","5"],"c":["1","2","3","4","5"]}`,
		`{"a":[{"numeric":[">=",-1000000000,"<=",1e9]}]}`,
		`{"a":[0.00001, 1.5e-4, 12345.12345]}`,
		`{"source":["a","b","c"],"$or":[{"metricName":["1","2","3","4","5","6"]},{"metricType":["1","2","3","4"],"$or":[{"metricId":[1,2,3,4]},{"spaceId":[1,2,3,4,5,6,7]}]}]}`, // 18 + 48 + 84
	}
	for _, p := range valid {
		_, err := compileFilterPolicy([]byte(p), ScopeMessageAttributes, FilterPolicyLimits{})
		assert.NoError(t, err, p)
	}
	nested := `{"a":{"b":{"c":[` + strings.TrimSuffix(strings.Repeat(`"x",`, 50), ",") + `]}}}` // 50 x 3
	_, err := compileFilterPolicy([]byte(nested), ScopeMessageBody, FilterPolicyLimits{})
	assert.NoError(t, err)
	pad := func(n int) []byte {
		p := []byte(`{"a":["x"]}`)
		body := make([]byte, n-len(p))
		for i := range body {
			body[i] = ' '
		}
		return append(append([]byte(`{"a":["x"]`), body...), '}')
	}
	_, err = compileFilterPolicy(pad(DefaultMaxMessageSize), ScopeMessageAttributes, FilterPolicyLimits{})
	require.NoError(t, err)
	_, err = compileFilterPolicy(pad(DefaultMaxMessageSize+1), ScopeMessageAttributes, FilterPolicyLimits{})
	var pe *PatternError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, pe.Reason, "more than the limit of 262144")
}

// FilterPolicyLimits: a negative field lifts the constraint, a positive one
// replaces SNS's default.
func TestFilterPolicyLimitsLifted(t *testing.T) {
	p := []byte(`{"a":["1","2"],"b":["1","2"],"c":["1"],"d":["1"],"e":["1"],"f":[1e12, 0.0000001]}`)
	_, err := compileFilterPolicy(p, ScopeMessageAttributes, FilterPolicyLimits{})
	require.Error(t, err)
	_, err = compileFilterPolicy(p, ScopeMessageAttributes, FilterPolicyLimits{MaxKeys: -1, MaxNumber: -1, MaxDecimals: -1})
	require.NoError(t, err)
	_, err = compileFilterPolicy(p, ScopeMessageAttributes, FilterPolicyLimits{MaxKeys: -1, MaxNumber: -1, MaxDecimals: -1, MaxCombinations: 7})
	require.Error(t, err, "4 combinations... times 2 for f = 8 > 7")
	_, err = compileFilterPolicy(p, ScopeMessageAttributes, FilterPolicyLimits{MaxKeys: 6, MaxNumber: 1e13, MaxDecimals: 7, MaxSize: len(p)})
	require.NoError(t, err)
	_, err = compileFilterPolicy(p, ScopeMessageAttributes, FilterPolicyLimits{MaxKeys: 6, MaxNumber: 1e13, MaxDecimals: 7, MaxSize: len(p) - 1})
	require.Error(t, err)
	// Lifting the combination limit allows more than an event pattern's
	// 1,000 $or combinations.
	big := `{"$or":[`
	for i := range 1001 {
		if i > 0 {
			big += ","
		}
		big += `{"a":["` + strconv.Itoa(i) + `"]}`
	}
	big += `]}`
	_, err = compileFilterPolicy([]byte(big), ScopeMessageAttributes, FilterPolicyLimits{MaxCombinations: -1})
	require.NoError(t, err)
}

func TestFilterPolicyScopeString(t *testing.T) {
	assert.Equal(t, "MessageAttributes", ScopeMessageAttributes.String())
	assert.Equal(t, "MessageBody", ScopeMessageBody.String())
	assert.Equal(t, "FilterPolicyScope(9)", FilterPolicyScope(9).String())
}

// Many policies share one Matcher; matchMessage finds every one that
// passes, and a Number attribute that is no number is an error.
func TestMatcherPolicies(t *testing.T) {
	var m Matcher
	for i, p := range []string{`{"store":["a"]}`, `{"store":["b"]}`, `{"store":[{"prefix":""}],"price":[{"numeric":[">",10]}]}`, `{"missing":[{"exists":false}]}`} {
		fp, err := compileFilterPolicy([]byte(p), ScopeMessageAttributes, FilterPolicyLimits{})
		require.NoError(t, err)
		m.addPolicy(strconv.Itoa(i), fp)
	}
	ids, err := m.matchMessage(nil, ScopeMessageAttributes, &Message{Attributes: map[string]Attribute{"store": str("a"), "price": num("11")}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"0", "2", "3"}, ids)
	ids, err = m.matchMessage(nil, ScopeMessageAttributes, &Message{})
	require.NoError(t, err)
	assert.Empty(t, ids, "no attributes: no policy passes")
	_, err = m.matchMessage(nil, ScopeMessageAttributes, &Message{Attributes: map[string]Attribute{"store": num("x")}})
	require.Error(t, err, "a Number that is no number")
}

// BenchmarkFilterPolicies: the cost of filtering one message against 1,
// 1,000 and 10,000 distinct attribute-scope policies on one Matcher.
func BenchmarkFilterPolicies(b *testing.B) {
	msg := &Message{Body: []byte("x"), Attributes: map[string]Attribute{
		"store":     str("store-7"),
		"event":     str("order_placed"),
		"price_usd": num("210.75"),
		"interests": arr(`["rugby", "soccer"]`),
	}}
	for _, n := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			var m Matcher
			for i := range n {
				p := fmt.Sprintf(`{"store":["store-%d"],"event":["order_placed","order_cancelled"],"interests":[{"prefix":"ru"}]}`, i)
				fp, err := compileFilterPolicy([]byte(p), ScopeMessageAttributes, FilterPolicyLimits{})
				if err != nil {
					b.Fatal(err)
				}
				m.addPolicy(strconv.Itoa(i), fp)
			}
			dst := make([]string, 0, 16)
			ids, err := m.matchMessage(dst, ScopeMessageAttributes, msg)
			if err != nil || (n > 7 && len(ids) != 1) {
				b.Fatalf("ids %v, err %v", ids, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_, _ = m.matchMessage(dst[:0], ScopeMessageAttributes, msg)
			}
		})
	}
}

// FuzzFilterPolicy: no policy or attribute may panic; a policy that
// compiles matches or not without error on a valid message.
func FuzzFilterPolicy(f *testing.F) {
	f.Add([]byte(`{"store":["example_corp"],"price_usd":[{"numeric":[">=",100]}]}`), "store", "String", "example_corp", false)
	f.Add([]byte(`{"a":{"b":[{"prefix":"x"}]}}`), "a", "Number", "1e3", true)
	f.Add([]byte(`{"$or":[{"a":[{"exists":false}]},{"b":[{"anything-but":{"suffix":"z"}}]}]}`), "b", "String.Array", `["z", 1, null]`, false)
	f.Add([]byte(`{"a":[{"cidr":"10.0.0.0/8"}]}`), "a", "String", "10.1.2.3", true)
	f.Add([]byte(`{"$or":["x"],"a":[{"exists":true}]}`), "a", "String", `{"a":null,"$or":"x"}`, true)
	f.Add([]byte(`{"$or":[{"numeric":1},{"a":["1"]}]}`), "a", "String", "1", false)
	f.Fuzz(func(t *testing.T, policy []byte, name, dataType, value string, body bool) {
		scope := ScopeMessageAttributes
		if body {
			scope = ScopeMessageBody
		}
		m := Message{Body: []byte(value), Attributes: map[string]Attribute{name: {DataType: dataType, StringValue: value}}}
		_, err := MatchFilterPolicy(policy, scope, m)
		if err == nil {
			return
		}
		var pe *PatternError
		var me *MessageError
		switch {
		case errors.As(err, &pe):
			_, cerr := compileFilterPolicy(policy, scope, FilterPolicyLimits{})
			require.Error(t, cerr, "MatchFilterPolicy refused a policy that compiles")
		case errors.As(err, &me):
			require.False(t, body, "body scope does not validate attributes")
			require.Error(t, validateAttribute(name, m.Attributes[name]))
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}

// MatchFilterPolicy checks a message against an SNS subscription filter
// policy, in the attribute scope (SNS's default) or the body scope.
func ExampleMatchFilterPolicy() {
	m := Message{
		Body: []byte(`{"store": "example_corp", "price_usd": 210.75}`),
		Attributes: map[string]Attribute{
			"store":     {DataType: "String", StringValue: "example_corp"},
			"price_usd": {DataType: "Number", StringValue: "210.75"},
		},
	}
	policy := []byte(`{"store": ["example_corp"], "price_usd": [{"numeric": [">=", 100]}]}`)
	byAttributes, _ := MatchFilterPolicy(policy, ScopeMessageAttributes, m)
	byBody, _ := MatchFilterPolicy(policy, ScopeMessageBody, m)
	fmt.Println(byAttributes, byBody)

	_, err := MatchFilterPolicy([]byte(`{"store": [{"anything-but": {"suffix": "corp"}}]}`), ScopeMessageAttributes, m)
	fmt.Println(err)
	// Output:
	// true true
	// filter policy: store: anything-but: SNS filter policies do not support "suffix" inside anything-but (only prefix)
}

// wildcard is accepted in both scopes (issue 11 lists it among a policy's
// operators; SNS's guide does not), with EventBridge's syntax: '*' matches
// any run of characters, "\*" a star; an element of a String.Array matches
// on its own. Its complexity limits are EventBridge's.
func TestMatchFilterPolicyWildcard(t *testing.T) {
	for _, c := range []struct {
		policy string
		attr   Attribute
		body   string
		want   bool
	}{
		{`{"store": [{"wildcard": "example*"}]}`, str("example_corp"), `{"store": "example_corp"}`, true},
		{`{"store": [{"wildcard": "*_corp"}]}`, str("example_corp"), `{"store": "example_corp"}`, true},
		{`{"store": [{"wildcard": "ex*ple*"}]}`, str("sample_corp"), `{"store": "sample_corp"}`, false},
		{`{"store": [{"wildcard": "a\\*b"}]}`, str("a*b"), `{"store": "a*b"}`, true},
		{`{"store": [{"wildcard": "a\\*b"}]}`, str("axb"), `{"store": "axb"}`, false},
		{`{"store": [{"wildcard": "s*"}]}`, arr(`["rugby", "soccer"]`), `{"store": ["rugby", "soccer"]}`, true},
		{`{"store": [{"wildcard": "1*"}]}`, num("100"), `{"store": 100}`, false},
	} {
		got, err := MatchFilterPolicy([]byte(c.policy), ScopeMessageAttributes, Message{Body: []byte("b"), Attributes: one("store", c.attr)})
		require.NoError(t, err, c.policy)
		assert.Equal(t, c.want, got, "%s on attribute %+v", c.policy, c.attr)
		got, err = MatchFilterPolicy([]byte(c.policy), ScopeMessageBody, Message{Body: []byte(c.body)})
		require.NoError(t, err, c.policy)
		assert.Equal(t, c.want, got, "%s on body %s", c.policy, c.body)
	}
	_, err := MatchFilterPolicy([]byte(`{"store": [{"wildcard": "a**b"}]}`), ScopeMessageBody, Message{Body: []byte(`{}`)})
	var pe *PatternError
	require.ErrorAs(t, err, &pe, "consecutive stars are refused, as in EventBridge")
	assert.Equal(t, "store", pe.Path)
}

// A subscription's policy may use wildcard too (doc.go, the Topic's
// differences from SNS).
func TestSubscriptionWildcardPolicy(t *testing.T) {
	tp := newTestTopic(t, "wild")
	rec := &recorder{}
	_, err := tp.Subscribe("w", rec, WithRawDelivery(), WithFilterPolicy([]byte(`{"store": [{"wildcard": "ex*corp"}]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	for _, store := range []string{"example_corp", "sample_corp"} {
		_, err := tp.Publish(context.Background(), Message{Body: []byte(store), Attributes: one("store", str(store))})
		require.NoError(t, err)
	}
	drainTopic(t, tp)
	got := rec.deliveries()
	require.Len(t, got, 1)
	body, _ := got[0].Body()
	assert.Equal(t, "example_corp", string(body))
}

// The wildcard complexity is a constraint like the others: 25 '*' per
// operand by default, in wildcard and in anything-but's wildcard forms of
// event patterns alike; FilterPolicyLimits.MaxWildcardStars moves or lifts
// it for a topic's policies.
func TestFilterPolicyWildcardComplexity(t *testing.T) {
	stars := func(n int) string { return strings.Repeat("a*", n) + "b" }
	m := Message{Body: []byte(`{"k":"` + strings.Repeat("a", 30) + `b"}`)}
	_, err := compileFilterPolicy([]byte(`{"k":[{"wildcard":"`+stars(25)+`"}]}`), ScopeMessageBody, FilterPolicyLimits{})
	require.NoError(t, err, "25 stars")
	_, err = compileFilterPolicy([]byte(`{"k":[{"wildcard":"`+stars(26)+`"}]}`), ScopeMessageBody, FilterPolicyLimits{})
	var pe *PatternError
	require.ErrorAs(t, err, &pe, "26 stars")
	assert.Contains(t, pe.Reason, "too complex")
	_, err = compileFilterPolicy([]byte(`{"k":[{"wildcard":"`+stars(5)+`"}]}`), ScopeMessageBody, FilterPolicyLimits{MaxWildcardStars: 4})
	require.ErrorAs(t, err, &pe, "a lower limit")
	fp, err := compileFilterPolicy([]byte(`{"k":[{"wildcard":"`+stars(30)+`"}]}`), ScopeMessageBody, FilterPolicyLimits{MaxWildcardStars: -1})
	require.NoError(t, err, "lifted")
	mach := pattern.Build([]pattern.Entry{{ID: "p", P: fp.parsed}})
	ids, err := matchMessage(mach, nil, ScopeMessageBody, &m)
	require.NoError(t, err)
	assert.Equal(t, []string{"p"}, ids)

	tp := newTestTopic(t, "complex", WithFilterPolicyLimits(FilterPolicyLimits{MaxWildcardStars: -1}))
	_, err = tp.Subscribe("s", &recorder{}, WithFilterPolicy([]byte(`{"k":[{"wildcard":"`+stars(30)+`"}]}`), ScopeMessageBody))
	require.NoError(t, err, "a topic whose limit is lifted")
	_, err = ParsePattern([]byte(`{"k":[{"anything-but":{"wildcard":"` + stars(26) + `"}}]}`))
	require.ErrorAs(t, err, &pe, "event patterns keep the default, anything-but too")
}
