package eda

// Table tests of the points where eda follows AWS's reference engine,
// event-ruler (github.com/aws/event-ruler), beyond what EventBridge's user
// guide spells out. Sources, as in pattern_test.go:
//   ER-compiler  JsonRuleCompiler.java (operators, exact numbers, duplicate keys)
//   ER-number    ComparableNumber.java (generate: "Cannot compare number")
//   ER-cidr      CIDR.java (cidr, ipToBytes: the forms and masks it accepts)
//   ER-acfinder  ACFinder.java / NameState.getNameTransitions (exists:false
//                checked against the array elements chosen so far, keys sorted)
//   ER-steps     GenericMachine.recordFieldStep / isFieldStepUsed (which event
//                keys are read)
//   ER-size      GenericMachine.addPatternRule (MAXIMUM_RULE_SIZE = 256)
// Every match case also runs through the reference interpreter.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runSemanticCases checks every case against MatchPattern and the reference.
func runSemanticCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := MatchPattern([]byte(c.pattern), []byte(c.event))
			require.NoError(t, err, "%s: pattern %s", c.source, c.pattern)
			assert.Equal(t, c.want, got, "%s: pattern %s event %s", c.source, c.pattern, c.event)
			ref, err := refMatch([]byte(c.pattern), []byte(c.event))
			require.NoError(t, err)
			assert.Equal(t, c.want, ref, "reference: pattern %s event %s", c.pattern, c.event)
		})
	}
}

// rejectCase is a pattern that must be rejected with a *PatternError at path
// whose reason contains reason.
type rejectCase struct {
	name, source, pattern, path, reason string
}

func runRejectCases(t *testing.T, cases []rejectCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePattern([]byte(c.pattern))
			var pe *PatternError
			require.True(t, errors.As(err, &pe), "%s: pattern %s: want *PatternError, got %v", c.source, c.pattern, err)
			assert.Equal(t, c.path, pe.Path, "pattern %s: %v", c.pattern, err)
			assert.Contains(t, pe.Reason, c.reason, "pattern %s", c.pattern)
		})
	}
}

// TestIPv4AsJavaReadsIt: event-ruler hands dotted quads to Java's
// InetAddress, which reads each field as decimal with any leading zeros and
// takes text longer than 15 bytes for a host name. So a plain string or cidr
// condition holds for "10.000.0.1" as for "10.0.0.1"; exactly and
// anything-but compare the text.
func TestIPv4AsJavaReadsIt(t *testing.T) {
	runSemanticCases(t, []matchCase{
		{"leading zeros in the event", "ER-cidr", `{"a":["10.0.0.1"]}`, `{"a":"10.000.0.1"}`, true},
		{"leading zeros are not octal", "ER-cidr", `{"a":["10.0.0.1"]}`, `{"a":"010.0.0.01"}`, true},
		{"leading zeros in the pattern", "ER-cidr", `{"a":["10.000.0.1"]}`, `{"a":"10.0.0.1"}`, true},
		{"a field of many digits", "ER-cidr", `{"a":["1.2.3.4"]}`, `{"a":"1.2.3.000000004"}`, true},
		{"15 bytes at most", "ER-cidr", `{"a":["1.2.3.4"]}`, `{"a":"01.02.03.000004"}`, true},
		{"16 bytes is a host name", "ER-cidr", `{"a":["1.2.3.4"]}`, `{"a":"1.2.3.0000000004"}`, false},
		{"a field above 255", "ER-cidr", `{"a":["1.2.3.4"]}`, `{"a":"1.2.3.256"}`, false},
		{"three fields", "ER-cidr", `{"a":["1.2.3.4"]}`, `{"a":"1.2.3"}`, false},
		{"trailing space", "ER-cidr", `{"a":["1.2.3.4"]}`, `{"a":"1.2.3.4 "}`, false},
		{"cidr, event with zeros", "ER-cidr", `{"a":[{"cidr":"10.0.0.0/24"}]}`, `{"a":"010.0.0.9"}`, true},
		{"cidr operand with zeros", "ER-cidr", `{"a":[{"cidr":"010.0.0.0/24"}]}`, `{"a":"10.0.0.9"}`, true},
		{"mapped IPv6 equals zero-padded IPv4", "ER-cidr", `{"a":["::ffff:a00:1"]}`, `{"a":"10.0.0.01"}`, true},
		{"anything-but compares text", "ER-compiler", `{"a":[{"anything-but":"10.0.0.1"}]}`, `{"a":"10.000.0.1"}`, true},
	})
}

func TestExactlyOperator(t *testing.T) {
	runSemanticCases(t, []matchCase{
		{"plain equality", "ER-compiler", `{"a":[{"exactly":"x"}]}`, `{"a":"x"}`, true},
		{"case matters", "ER-compiler", `{"a":[{"exactly":"x"}]}`, `{"a":"X"}`, false},
		{"no prefix", "ER-compiler", `{"a":[{"exactly":"x"}]}`, `{"a":"xy"}`, false},
		{"empty string", "ER-compiler", `{"a":[{"exactly":""}]}`, `{"a":""}`, true},
		{"no IP normalisation", "ER-compiler", `{"a":[{"exactly":"10.0.0.1"}]}`, `{"a":"10.000.0.1"}`, false},
		{"no IPv6 normalisation", "ER-compiler", `{"a":[{"exactly":"2001:db8::1"}]}`, `{"a":"2001:DB8:0::1"}`, false},
		{"bare IP string normalises", "ER-compiler", `{"a":["2001:db8::1"]}`, `{"a":"2001:DB8:0::1"}`, true},
		{"same IP text", "ER-compiler", `{"a":[{"exactly":"10.0.0.1"}]}`, `{"a":"10.0.0.1"}`, true},
		{"a string, never a number", "ER-compiler", `{"a":[{"exactly":"5"}]}`, `{"a":5}`, false},
		{"in an array", "EB-arrays", `{"a":[{"exactly":"x"}]}`, `{"a":["y","x"]}`, true},
		{"in an array, none", "EB-arrays", `{"a":[{"exactly":"x"}]}`, `{"a":["y","z"]}`, false},
		{"beside other alternatives", "ER-compiler", `{"a":["y",{"exactly":"x"},{"prefix":"z"}]}`, `{"a":"x"}`, true},
		{"in $or", "ER-compiler", `{"$or":[{"a":[{"exactly":"x"}]},{"b":["y"]}]}`, `{"a":"x"}`, true},
		{"in $or, other branch", "ER-compiler", `{"$or":[{"a":[{"exactly":"x"}]},{"b":["y"]}]}`, `{"a":"z","b":"y"}`, true},
		{"exact is a field name in $or", "ER-compiler", `{"$or":[{"exact":["x"]},{"b":["y"]}]}`, `{"exact":"x"}`, true},
	})
	runRejectCases(t, []rejectCase{
		{"number", "ER-compiler", `{"a":[{"exactly":5}]}`, "a", `exactly: needs a string, got number 5`},
		{"null", "ER-compiler", `{"a":[{"exactly":null}]}`, "a", `exactly: needs a string`},
		{"list", "ER-compiler", `{"a":[{"exactly":["x"]}]}`, "a", `exactly: needs a string`},
		{"in anything-but", "ER-compiler", `{"a":[{"anything-but":{"exactly":"x"}}]}`, "a", `unsupported operator "exactly"`},
		{"two keys", "ER-compiler", `{"a":[{"exactly":"x","prefix":"y"}]}`, "a", `exactly one key`},
		{"reserved in $or", "ER-compiler", `{"$or":[{"exactly":["x"]},{"b":["y"]}]}`, "$or[0].exactly", `reserved keyword`},
	})
}

func TestNumbersBeyondFloat64(t *testing.T) {
	runSemanticCases(t, []matchCase{
		{"2^53+1 is not 2^53", "ER-number", `{"n":[9007199254740993]}`, `{"n":9007199254740992}`, false},
		{"2^53+1 matches its text", "ER-number", `{"n":[9007199254740993]}`, `{"n":9007199254740993}`, true},
		{"2^53 event with more digits", "ER-number", `{"n":[9007199254740992]}`, `{"n":9007199254740993}`, false},
		{"0.30000000000000001 is not 0.3", "ER-number", `{"n":[0.30000000000000001]}`, `{"n":0.3}`, false},
		{"0.3 is not 0.30000000000000001", "ER-number", `{"n":[0.3]}`, `{"n":0.30000000000000001}`, false},
		{"0.3 is 3e-1", "ER-number", `{"n":[0.3]}`, `{"n":3e-1}`, true},
		{"long 0.1 is not 0.1", "ER-number", `{"n":[0.1000000000000000055511151231257827]}`, `{"n":0.1}`, false},
		{"2^63 is not 2^63-1", "ER-number", `{"n":[9223372036854775808]}`, `{"n":9223372036854775807}`, false},
		{"2^63 matches its text", "ER-number", `{"n":[9223372036854775808]}`, `{"n":9223372036854775808}`, true},
		{"2.5e-324 is not 5e-324", "ER-number", `{"n":[2.5e-324]}`, `{"n":5e-324}`, false},
		{"18 digits not compared", "ER-number", `{"n":[{"numeric":["<",0]}]}`, `{"n":-122.422003528252475}`, false},
		{"17 digits compared", "ER-number", `{"n":[{"numeric":["<",0]}]}`, `{"n":-122.42200352825247}`, true},
		{"anything-but does not exclude an incomparable event number", "ER-number", `{"n":[{"anything-but":0.3}]}`, `{"n":0.30000000000000001}`, true},
	})
	runRejectCases(t, []rejectCase{
		{"numeric 2^53+1", "ER-number", `{"n":[{"numeric":["=",9007199254740993]}]}`, "n", `cannot compare number 9007199254740993`},
		{"numeric long 0.3", "ER-number", `{"n":[{"numeric":[">",0.30000000000000001]}]}`, "n", `cannot compare number 0.30000000000000001`},
		{"numeric long 0.1", "ER-number", `{"n":[{"numeric":[">",0,"<",0.1000000000000000055511151231257827]}]}`, "n", `cannot compare number`},
		{"numeric 2^63", "ER-number", `{"n":[{"numeric":["<",9223372036854775808]}]}`, "n", `cannot compare number`},
		{"numeric 2.5e-324", "ER-number", `{"n":[{"numeric":[">",2.5e-324]}]}`, "n", `cannot compare number 2.5e-324`},
		{"anything-but", "ER-number", `{"n":[{"anything-but":9007199254740993}]}`, "n", `cannot compare number`},
		{"anything-but list", "ER-number", `{"n":[{"anything-but":[1,0.30000000000000001]}]}`, "n", `cannot compare number`},
		{"nested path", "ER-number", `{"detail":{"price":[{"numeric":[">",1e400]}]}}`, "detail.price", `numeric: ">" cannot compare number 1e400`},
	})
}

func TestExistsFalseAcrossArrays(t *testing.T) {
	runSemanticCases(t, []matchCase{
		// f.g sorts before f.h: nothing has chosen an element of f when
		// f.g's absence is checked, so it must be absent from all of f.
		{"absent sorts first", "ER-acfinder", `{"f":{"g":[{"exists":false}],"h":[{"exists":true}]}}`, `{"f":[{"g":1},{"h":2}]}`, false},
		{"absent sorts first, in $or", "ER-acfinder", `{"$or":[{"f":{"g":[{"exists":false}],"h":[{"exists":true}]}},{"x":["y"]}]}`, `{"f":[{"g":1},{"h":2}]}`, false},
		{"absent sorts first, nowhere", "ER-acfinder", `{"f":{"g":[{"exists":false}],"h":[{"exists":true}]}}`, `{"f":[{"k":1},{"h":2}]}`, true},
		// f.g sorts after f.a: it is checked in the element f.a chose.
		{"absent sorts last", "ER-acfinder", `{"f":{"a":[{"exists":true}],"g":[{"exists":false}]}}`, `{"f":[{"a":1},{"g":2}]}`, true},
		{"absent sorts last, same element", "ER-acfinder", `{"f":{"a":[{"exists":true}],"g":[{"exists":false}]}}`, `{"f":[{"a":1,"g":2}]}`, false},
		{"absent sorts last, another element", "ER-acfinder", `{"f":{"a":[1],"g":[{"exists":false}]}}`, `{"f":[{"a":1,"g":2},{"a":1}]}`, true},
		{"only absent", "ER-acfinder", `{"f":{"g":[{"exists":false}]}}`, `{"f":[{"h":1},{"g":2}]}`, false},
		{"only absent, nowhere", "ER-acfinder", `{"f":{"g":[{"exists":false}]}}`, `{"f":[{"h":1},{"h":2}]}`, true},
		{"value or absent: value", "ER-acfinder", `{"f":{"g":["x",{"exists":false}],"h":[2]}}`, `{"f":[{"g":"x","h":2},{"g":"y"}]}`, true},
		{"value or absent: neither", "ER-acfinder", `{"f":{"g":["x",{"exists":false}],"h":[2]}}`, `{"f":[{"g":"y","h":2}]}`, false},
		{"not an array", "EB-ops", `{"f":{"g":[{"exists":false}],"h":[{"exists":true}]}}`, `{"f":{"h":2}}`, true},
		{"different arrays", "ER-acfinder", `{"f":{"g":[{"exists":false}]},"k":{"h":[1]}}`, `{"f":[{"x":1}],"k":[{"h":1}]}`, true},
	})
}

func TestPatternKeys(t *testing.T) {
	runSemanticCases(t, []matchCase{
		{"empty key below", "ER-steps", `{"a":{"":["x"]}}`, `{"a":{"":"x"}}`, false},
		{"dot is not nesting", "ER-steps", `{"a.":["x"]}`, `{"a":{"":"x"}}`, false},
		{"dotted key itself", "ER-steps", `{"a.":["x"]}`, `{"a.":"x"}`, true},
		{"top-level empty key", "ER-steps", `{"":["x"]}`, `{"":"x"}`, true},
		{"inner empty step", "ER-steps", `{"a":{"":{"b":["x"]}}}`, `{"a":{"":{"b":"x"}}}`, true},
		// Path.extendedName: a leaf's path is its key alone when its
		// container's name is empty, so a top-level empty key is dropped
		// before a leaf but kept before a deeper container.
		{"top-level empty key before a leaf", "ER-steps", `{"":{"d":["x"]}}`, `{"d":"x"}`, true},
		{"top-level empty key before a container", "ER-steps", `{"":{"a":{"b":["x"]}}}`, `{"":{"a":{"b":"x"}}}`, true},
		{"not dropped before a container", "ER-steps", `{"":{"a":{"b":["x"]}}}`, `{"a":{"b":"x"}}`, false},
		{"two empty keys", "ER-steps", `{"":{"":{"d":["x"]}}}`, `{"":{"":{"d":"x"}}}`, true},
		{"two empty keys are not dropped", "ER-steps", `{"":{"":{"d":["x"]}}}`, `{"d":"x"}`, false},
		// A member whose key is the dotted path beside a member whose key
		// is a prefix of it: the path has two routes, and a condition holds
		// by either (ER-acfinder: Event flattens both to one field name).
		{"dotted key after an array of objects", "ER-acfinder", `{"a":[1],"a.b":["k"]}`, `{"a":[1,{}],"a.b":"k"}`, true},
		{"dotted key before an array of objects", "ER-acfinder", `{"a":[1],"a.b":["k"]}`, `{"a.b":"k","a":[1,{}]}`, true},
		{"nested route, same element", "ER-acfinder", `{"a":{"b":["k"],"c":["1"]}}`, `{"a":[{"b":"k","c":"1"}],"a.b":"z"}`, true},
		{"nested route, other element", "ER-acfinder", `{"a":{"b":["k"],"c":["1"]}}`, `{"a":[{"b":"k"},{"c":"1"}],"a.b":"z"}`, false},
		{"dotted route beside an element", "ER-acfinder", `{"a":{"b":["k"],"c":["1"]}}`, `{"a":[{"b":"z"},{"c":"1"}],"a.b":"k"}`, true},
	})
	// The reference decodes patterns with encoding/json, where a duplicate
	// key keeps the last value only; the engine alone here.
	for _, c := range []matchCase{
		{"duplicate objects keep both", "ER-compiler", `{"a":{"b":["1"]},"a":{"c":["2"]}}`, `{"a":{"b":"1","c":"2"}}`, true},
		{"duplicate objects need both", "ER-compiler", `{"a":{"b":["1"]},"a":{"c":["2"]}}`, `{"a":{"b":"1"}}`, false},
		{"duplicate objects need both (2)", "ER-compiler", `{"a":{"b":["1"]},"a":{"c":["2"]}}`, `{"a":{"c":"2"}}`, false},
		{"duplicate leaf lists: the later wins", "ER-compiler", `{"a":["1"],"a":["2"]}`, `{"a":"2"}`, true},
		{"duplicate leaf lists: the earlier is gone", "ER-compiler", `{"a":["1"],"a":["2"]}`, `{"a":"1"}`, false},
		{"duplicate $or: both apply", "ER-compiler", `{"$or":[{"a":["1"]},{"b":["1"]}],"$or":[{"c":["1"]},{"d":["1"]}]}`, `{"a":"1","d":"1"}`, true},
		{"duplicate $or: the first applies", "ER-compiler", `{"$or":[{"a":["1"]},{"b":["1"]}],"$or":[{"c":["1"]},{"d":["1"]}]}`, `{"d":"1"}`, false},
	} {
		got, err := MatchPattern([]byte(c.pattern), []byte(c.event))
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%s: %s: pattern %s event %s", c.name, c.source, c.pattern, c.event)
	}
}

// TestEmptyKeyPerPattern: in event-ruler, whether an empty event key is read
// depends on every rule of the machine; eda decides it per pattern, so that a
// Matcher reports what each pattern alone would (see internal/pattern/doc.go).
func TestEmptyKeyPerPattern(t *testing.T) {
	m := NewMatcher()
	require.NoError(t, m.Add("trailing", []byte(`{"a":{"":["x"]}}`)))
	ids, err := m.Match([]byte(`{"a":{"":"x"}}`))
	require.NoError(t, err)
	assert.Empty(t, ids)
	require.NoError(t, m.Add("inner", []byte(`{"b":{"":{"c":["x"]}}}`)))
	require.NoError(t, m.Add("absent", []byte(`{"a":{"":[{"exists":false}]}}`)))
	require.NoError(t, m.Add("absent-inner", []byte(`{"b":{"":{"c":[{"exists":false}]}}}`)))
	for _, ev := range []string{`{"a":{"":"x"},"b":{"":{"c":"x"}}}`, `{"b":{"":{"c":"x"}},"a":{"":"x"},"b":{"":{"c":"x"}}}`} {
		ids, err = m.Match([]byte(ev))
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"inner", "absent"}, ids, "event %s", ev)
	}
}

func TestCIDRForms(t *testing.T) {
	runSemanticCases(t, []matchCase{
		{"/31", "ER-cidr", `{"ip":[{"cidr":"10.0.0.0/31"}]}`, `{"ip":"10.0.0.1"}`, true},
		{"/127", "ER-cidr", `{"ip":[{"cidr":"2001:db8::/127"}]}`, `{"ip":"2001:db8::1"}`, true},
		{"/0", "ER-cidr", `{"ip":[{"cidr":"0.0.0.0/0"}]}`, `{"ip":"8.8.8.8"}`, true},
		{"host bits masked", "ER-cidr", `{"ip":[{"cidr":"10.0.0.77/24"}]}`, `{"ip":"10.0.0.1"}`, true},
		{"IPv4-mapped base is IPv4", "ER-cidr", `{"ip":[{"cidr":"::ffff:a00:0/24"}]}`, `{"ip":"10.0.0.9"}`, true},
		{"IPv4-mapped event is IPv4", "ER-cidr", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"::ffff:a00:9"}`, true},
		{"embedded IPv4 event is no IP", "ER-cidr", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"::ffff:10.0.0.9"}`, false},
		{"embedded IPv4 exact string is text", "ER-cidr", `{"ip":["::ffff:10.0.0.9"]}`, `{"ip":"10.0.0.9"}`, false},
		{"mapped exact string is IPv4", "ER-cidr", `{"ip":["::ffff:a00:9"]}`, `{"ip":"10.0.0.9"}`, true},
	})
	runRejectCases(t, []rejectCase{
		{"/32", "ER-cidr", `{"ip":[{"cidr":"10.0.0.1/32"}]}`, "ip", `mask of an IPv4 address must be at most 31 bits`},
		{"/128", "ER-cidr", `{"ip":[{"cidr":"2001:db8::1/128"}]}`, "ip", `mask of an IPv6 address must be at most 127 bits`},
		{"/33", "ER-cidr", `{"ip":[{"cidr":"10.0.0.1/33"}]}`, "ip", `got 33`},
		{"mapped /120", "ER-cidr", `{"ip":[{"cidr":"::ffff:a00:1/120"}]}`, "ip", `IPv4 address must be at most 31 bits`},
		{"embedded IPv4", "ER-cidr", `{"ip":[{"cidr":"::ffff:1.2.3.4/120"}]}`, "ip", `"::ffff:1.2.3.4" is not a standard IPv4 or IPv6 address`},
		{"zone", "ER-cidr", `{"ip":[{"cidr":"fe80::1%eth0/64"}]}`, "ip", `not a standard IPv4 or IPv6 address`},
		{"no slash", "ER-cidr", `{"ip":[{"cidr":"10.0.0.1"}]}`, "ip", `needs one '/'`},
		{"two slashes", "ER-cidr", `{"ip":[{"cidr":"10.0.0.0/8/8"}]}`, "ip", `needs one '/'`},
		{"negative", "ER-cidr", `{"ip":[{"cidr":"10.0.0.0/-1"}]}`, "ip", `must not be negative`},
		{"not a number", "ER-cidr", `{"ip":[{"cidr":"10.0.0.0/x"}]}`, "ip", `is not an integer`},
		{"host name", "ER-cidr", `{"ip":[{"cidr":"example.com/8"}]}`, "ip", `not a standard IPv4 or IPv6 address`},
	})
}

// sizedPattern returns a pattern with n leaf fields.
func sizedPattern(n int) string {
	fields := make([]string, n)
	for i := range fields {
		fields[i] = fmt.Sprintf(`"f%d":[1]`, i)
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func TestRuleSizeLimit(t *testing.T) {
	_, err := ParsePattern([]byte(sizedPattern(DefaultMaxRuleSize)))
	require.NoError(t, err, "ER-size: 256 fields are allowed")

	_, err = ParsePattern([]byte(sizedPattern(DefaultMaxRuleSize + 1)))
	var pe *PatternError
	require.True(t, errors.As(err, &pe), "ER-size: 257 fields: got %v", err)
	assert.Equal(t, "", pe.Path)
	assert.Contains(t, pe.Reason, "rule size 257")
	assert.Contains(t, pe.Reason, "limit of 256")

	// $or: each combination is counted on its own, the fields beside the
	// $or included.
	base := strings.TrimSuffix(sizedPattern(DefaultMaxRuleSize-1), "}")
	_, err = ParsePattern([]byte(base + `,"$or":[{"x":[1]},{"y":[1]}]}`))
	require.NoError(t, err, "256 per combination")
	_, err = ParsePattern([]byte(base + `,"$or":[{"x":[1]},{"y":[1],"z":[1]}]}`))
	require.True(t, errors.As(err, &pe), "257 in the second combination: got %v", err)
	assert.Contains(t, pe.Reason, "rule size 257 (field conditions in combination 1 after $or expansion)")

	// The Matcher's option.
	big := []byte(sizedPattern(300))
	require.Error(t, NewMatcher(WithMaxPatternSize(1<<20)).Add("big", big))
	m := NewMatcher(WithMaxPatternSize(1<<20), WithMaxRuleSize(300))
	require.NoError(t, m.Add("big", big))
	err = NewMatcher(WithMaxPatternSize(1<<20), WithMaxRuleSize(299)).Add("big", big)
	require.True(t, errors.As(err, &pe))
	assert.Contains(t, pe.Reason, "rule size 300")
	assert.Contains(t, pe.Reason, "limit of 299")
}

// TestIgnoreCaseFullFolding: each character of an equals-ignore-case operand
// matches its lower-case or its upper-case form, with full case mappings
// (ER-compiler: EqualsIgnoreCaseParser), so one character can match several
// (ß matches SS). Characters outside the BMP are single characters (where
// event-ruler garbles them).
func TestIgnoreCaseFullFolding(t *testing.T) {
	runSemanticCases(t, []matchCase{
		{"ß matches SS", "ER-compiler", `{"a":[{"equals-ignore-case":"straße"}]}`, `{"a":"STRASSE"}`, true},
		{"ß matches ß", "ER-compiler", `{"a":[{"equals-ignore-case":"straße"}]}`, `{"a":"Straße"}`, true},
		{"SS does not match ß", "ER-compiler", `{"a":[{"equals-ignore-case":"STRASSE"}]}`, `{"a":"straße"}`, false},
		{"ss does not match ß", "ER-compiler", `{"a":[{"equals-ignore-case":"strasse"}]}`, `{"a":"straße"}`, false},
		{"ß does not match ss", "ER-compiler", `{"a":[{"equals-ignore-case":"straße"}]}`, `{"a":"strasse"}`, false},
		{"ligature", "ER-compiler", `{"a":[{"equals-ignore-case":"ﬁle"}]}`, `{"a":"FILE"}`, true},
		{"emoji", "ER-compiler", `{"a":[{"equals-ignore-case":"😀OK"}]}`, `{"a":"😀ok"}`, true},
		{"emoji differs", "ER-compiler", `{"a":[{"equals-ignore-case":"😀OK"}]}`, `{"a":"😁ok"}`, false},
		{"ascii", "EB-ops", `{"a":[{"equals-ignore-case":"AbC"}]}`, `{"a":"aBc"}`, true},
		{"prefix ß", "ER-compiler", `{"a":[{"prefix":{"equals-ignore-case":"straß"}}]}`, `{"a":"STRASSE 5"}`, true},
		{"prefix SS", "ER-compiler", `{"a":[{"prefix":{"equals-ignore-case":"STRASS"}}]}`, `{"a":"straße 5"}`, false},
		{"prefix emoji", "ER-compiler", `{"a":[{"prefix":{"equals-ignore-case":"😀O"}}]}`, `{"a":"😀ok"}`, true},
		{"suffix ß", "ER-compiler", `{"a":[{"suffix":{"equals-ignore-case":"ße"}}]}`, `{"a":"GROSSE"}`, true},
		{"suffix ss", "ER-compiler", `{"a":[{"suffix":{"equals-ignore-case":"sse"}}]}`, `{"a":"große"}`, false},
		{"suffix emoji", "ER-compiler", `{"a":[{"suffix":{"equals-ignore-case":"K😀"}}]}`, `{"a":"ok😀"}`, true},
		{"anything-but ß excludes SS", "ER-compiler", `{"a":[{"anything-but":{"equals-ignore-case":"straße"}}]}`, `{"a":"STRASSE"}`, false},
		{"anything-but ß keeps ss", "ER-compiler", `{"a":[{"anything-but":{"equals-ignore-case":"straße"}}]}`, `{"a":"strasse"}`, true},
		{"anything-but emoji", "ER-compiler", `{"a":[{"anything-but":{"equals-ignore-case":["😀OK"]}}]}`, `{"a":"😀ok"}`, false},
		// İ (U+0130) lower-cases to two code points, i and U+0307.
		{"İ matches its lower case i̇", "ER-compiler", `{"a":[{"equals-ignore-case":"İ"}]}`, `{"a":"i\u0307"}`, true},
		{"İ matches itself", "ER-compiler", `{"a":[{"equals-ignore-case":"İ"}]}`, `{"a":"İ"}`, true},
		{"i̇ does not match İ", "ER-compiler", `{"a":[{"equals-ignore-case":"i\u0307"}]}`, `{"a":"İ"}`, false},
		{"i̇ matches I and U+0307", "ER-compiler", `{"a":[{"equals-ignore-case":"i\u0307"}]}`, `{"a":"I\u0307"}`, true},
		{"İ is not i", "ER-compiler", `{"a":[{"equals-ignore-case":"İ"}]}`, `{"a":"i"}`, false},
		{"prefix İ", "ER-compiler", `{"a":[{"prefix":{"equals-ignore-case":"İs"}}]}`, `{"a":"i\u0307STANBUL"}`, true},
		{"suffix İ", "ER-compiler", `{"a":[{"suffix":{"equals-ignore-case":"xİ"}}]}`, `{"a":"aXi\u0307"}`, true},
		{"anything-but İ", "ER-compiler", `{"a":[{"anything-but":{"equals-ignore-case":"İ"}}]}`, `{"a":"i\u0307"}`, false},
	})
}

// TestExistsFalseManyChoices: more conditions that list values beside
// {"exists": false} than the engine tries both ways (internal/pattern
// consistentChoices) still match as the reference does.
func TestExistsFalseManyChoices(t *testing.T) {
	fields := make([]string, 0, 11)
	for i := range 10 {
		fields = append(fields, fmt.Sprintf(`"a%d":["x",{"exists":false}]`, i))
	}
	fields = append(fields, `"z":[1]`)
	pat := `{"f":{` + strings.Join(fields, ",") + `}}`
	runSemanticCases(t, []matchCase{
		{"last by value", "ER-acfinder", pat, `{"f":[{"z":1,"a9":"x"}]}`, true},
		{"last present, no value", "ER-acfinder", pat, `{"f":[{"z":1,"a9":"y"}]}`, false},
		{"first by value", "ER-acfinder", pat, `{"f":[{"z":1,"a0":"x"},{"z":2}]}`, true},
		{"all absent", "ER-acfinder", pat, `{"f":[{"z":1}]}`, true},
		{"value in another element", "ER-acfinder", pat, `{"f":[{"z":1},{"a9":"x"}]}`, false},
	})
}

// TestExactlyBesideIPString: a Matcher holding both an exact IP string
// (compared as an address) and the same text under "exactly" (compared as
// text) keeps them apart, whichever is added first.
func TestExactlyBesideIPString(t *testing.T) {
	for _, order := range [][2]string{{"plain", "exactly"}, {"exactly", "plain"}} {
		m := NewMatcher()
		pats := map[string]string{"plain": `{"a":["2001:db8::1"]}`, "exactly": `{"a":[{"exactly":"2001:db8::1"}]}`}
		for _, id := range order {
			require.NoError(t, m.Add(id, []byte(pats[id])))
		}
		ids, err := m.Match([]byte(`{"a":"2001:DB8:0::1"}`))
		require.NoError(t, err)
		assert.Equal(t, []string{"plain"}, ids, "order %v", order)
		ids, err = m.Match([]byte(`{"a":"2001:db8::1"}`))
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"plain", "exactly"}, ids, "order %v", order)
	}
}

// TestPathSpelledEveryWay: an event that spells a deep path in every way
// (each dotted prefix as a key, each value an array of objects) gives every
// condition several routes at every level; x and y routed through different
// arrays hold together, as event-ruler's flattened fields do. (The search
// over the routes is bounded, internal/pattern consistentRoutes; this test
// checks the answers, not the time.)
func TestPathSpelledEveryWay(t *testing.T) {
	var spell func(steps []string, leaf string) string
	spell = func(steps []string, leaf string) string {
		if len(steps) == 0 {
			return leaf
		}
		var parts []string
		for j := 1; j <= len(steps); j++ {
			parts = append(parts, fmt.Sprintf(`%q:[%s,%s]`, strings.Join(steps[:j], "."),
				spell(steps[j:], `{"x":"1"}`), spell(steps[j:], `{"y":"2"}`)))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	steps := []string{"a", "b", "c", "d", "e", "f", "g"}
	event := []byte(spell(steps, `{"x":"1"}`))
	path := strings.Join(steps, ".")
	for _, c := range []struct {
		pattern string
		want    bool
	}{
		{`{"` + path + `":{"x":["1"],"y":["2"]}}`, true},
		{`{"` + path + `":{"x":["1"],"y":["3"]}}`, false},
		{`{"` + path + `":{"x":["1"],"z":[{"exists":false}]}}`, true},
		{`{"` + path + `":{"x":["1"],"y":[{"exists":false}]}}`, false},
	} {
		got, err := MatchPattern([]byte(c.pattern), event)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "pattern %s", c.pattern)
		m := NewMatcher()
		require.NoError(t, m.Add("p", []byte(c.pattern)))
		ids, err := m.Match(event)
		require.NoError(t, err)
		assert.Equal(t, c.want, len(ids) == 1, "Matcher: pattern %s", c.pattern)
	}
}
