package pattern

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyLengths matches the length prefix of each canonical text in a key.
var keyLengths = regexp.MustCompile(`(^|\|)[0-9]+:`)

// conjPaths renders the AND-combinations of a pattern as sorted strings of
// "path=alternatives" terms, so tests can state exactly which condition
// survives on each path.
func conjPaths(t *testing.T, pat string) []string {
	t.Helper()
	p, err := Parse([]byte(pat), DefaultLimits())
	require.NoError(t, err, "Parse(%s)", pat)
	var out []string
	for _, cj := range p.Conjs {
		terms := make([]string, len(cj))
		for i, r := range cj {
			terms[i] = r.Path + "=" + keyLengths.ReplaceAllString(strings.ReplaceAll(r.key, "\x00", "|"), "$1")
		}
		out = append(out, strings.Join(terms, " & "))
	}
	slices.Sort(out)
	return out
}

// TestOverrideCombinations: the combinations Parse builds follow
// event-ruler's JsonRuleCompiler, where a field written later in the
// pattern text replaces an earlier condition on the same path in every
// combination it is written into, and $or writes each branch into its own
// copy of the combinations built so far.
func TestOverrideCombinations(t *testing.T) {
	cases := []struct {
		name, pat string
		want      []string
	}{
		{"branch overrides earlier sibling",
			`{"name":["a","b"],"$or":[{"name":["c"]},{"k":["x"]}]}`,
			[]string{"k=sx & name=sa|sb", "name=sc"}},
		{"later sibling overrides every branch",
			`{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`,
			[]string{"a=sx", "a=sx & b=sz"}},
		{"nested $or: the inner branch overrides the outer one and the sibling",
			`{"a":["1"],"$or":[{"a":["2"],"$or":[{"a":["3"]},{"b":["4"]}]},{"c":["5"]}]}`,
			[]string{"a=s1 & c=s5", "a=s2 & b=s4", "a=s3"}},
		{"override inside a nested object",
			`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`,
			[]string{"detail.x=" + numKey(t, "1") + " & detail.y=" + numKey(t, "3"), "detail.x=" + numKey(t, "2")}},
		{"sibling object after $or overrides one path only",
			`{"$or":[{"d":{"x":["1"],"y":["2"]}},{"e":["3"]}],"d":{"x":["9"]}}`,
			[]string{"d.x=s9 & d.y=s2", "d.x=s9 & e=s3"}},
		{"dotted key and nested object name one path: the later wins",
			`{"a":{"b":["1"]},"a.b":["2"]}`,
			[]string{"a.b=s2"}},
		{"different paths are still ANDed",
			`{"a":["1"],"$or":[{"b":["2"]},{"c":["3"]}]}`,
			[]string{"a=s1 & b=s2", "a=s1 & c=s3"}},
		{"duplicate keys: the last wins",
			`{"a":["1"],"$or":[{"a":["2"]},{"b":["3"]}],"a":["4"]}`,
			[]string{"a=s4", "a=s4 & b=s3"}},
		{"exists false is overridden like any leaf",
			`{"a":[{"exists":false}],"$or":[{"a":["1"]},{"b":["2"]}]}`,
			[]string{"a=! & b=s2", "a=s1"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, conjPaths(t, c.pat), "%s: %s", c.name, c.pat)
	}
}

// numKey is the canonical alternative key of one exact number.
func numKey(t *testing.T, n string) string {
	t.Helper()
	p, err := Parse([]byte(`{"k":[`+n+`]}`), DefaultLimits())
	require.NoError(t, err)
	return keyLengths.ReplaceAllString(p.Conjs[0][0].key, "$1")
}

// TestOverrideMatches: the override seen from events, through the whole
// engine, including arrays of objects (each combination stays
// array-consistent).
func TestOverrideMatches(t *testing.T) {
	cases := []struct {
		pat, ev string
		want    bool
	}{
		// event-ruler JsonRuleCompilerTest.testWithRuleOverride.
		{`{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"condition1":["x"]}]}`, `{"name":"c"}`, true},
		{`{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"condition1":["x"]}]}`, `{"name":"a"}`, false},
		{`{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"condition1":["x"]}]}`, `{"name":"a","condition1":"x"}`, true},
		{`{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"condition1":["x"]}]}`, `{"name":"c","condition1":"x"}`, true},
		// Sibling after the $or: it replaces the branch's condition.
		{`{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`, `{"a":"x"}`, true},
		{`{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`, `{"a":"y"}`, false},
		{`{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`, `{"b":"z"}`, false},
		{`{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`, `{"a":"x","b":"z"}`, true},
		// Nested $or.
		{`{"a":["1"],"$or":[{"a":["2"],"$or":[{"a":["3"]},{"b":["4"]}]},{"c":["5"]}]}`, `{"a":"3"}`, true},
		{`{"a":["1"],"$or":[{"a":["2"],"$or":[{"a":["3"]},{"b":["4"]}]},{"c":["5"]}]}`, `{"a":"2","b":"4"}`, true},
		{`{"a":["1"],"$or":[{"a":["2"],"$or":[{"a":["3"]},{"b":["4"]}]},{"c":["5"]}]}`, `{"a":"1","b":"4"}`, false},
		{`{"a":["1"],"$or":[{"a":["2"],"$or":[{"a":["3"]},{"b":["4"]}]},{"c":["5"]}]}`, `{"a":"1","c":"5"}`, true},
		{`{"a":["1"],"$or":[{"a":["2"],"$or":[{"a":["3"]},{"b":["4"]}]},{"c":["5"]}]}`, `{"a":"2","c":"5"}`, false},
		// Inside a nested object.
		{`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`, `{"detail":{"x":2}}`, true},
		{`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`, `{"detail":{"x":1,"y":3}}`, true},
		{`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`, `{"detail":{"x":1}}`, false},
		{`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`, `{"detail":{"x":2,"y":4}}`, true},
		// Arrays of objects: the overriding condition is the one checked
		// for consistency.
		{`{"$or":[{"items":{"a":["z"]}},{"s":["q"]}],"items":{"a":["x"],"b":[3]}}`, `{"items":[{"a":"x","b":3}]}`, true},
		{`{"$or":[{"items":{"a":["z"]}},{"s":["q"]}],"items":{"a":["x"],"b":[3]}}`, `{"items":[{"a":"x"},{"b":3}]}`, false},
		{`{"$or":[{"items":{"a":["z"]}},{"s":["q"]}],"items":{"a":["x"]}}`, `{"items":[{"a":"z"}]}`, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, matchOne(t, c.pat, c.ev), "pattern %s event %s", c.pat, c.ev)
		p, err := Parse([]byte(c.pat), DefaultLimits())
		require.NoError(t, err)
		ids, err := Build([]Entry{{ID: "x", P: p}}).MatchStrict(nil, []byte(c.ev))
		if assert.NoError(t, err, "MatchStrict: pattern %s event %s", c.pat, c.ev) {
			assert.Equal(t, c.want, len(ids) == 1, "MatchStrict: pattern %s event %s: got %v", c.pat, c.ev, ids)
		}
	}
}
