package eda

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkExplanation fails t unless ex is consistent with MatchPattern on
// pattern and event, and with itself.
func checkExplanation(t testing.TB, pattern, event []byte) {
	t.Helper()
	want, wantErr := MatchPattern(pattern, event)
	ex, err := Explain(pattern, event)
	if wantErr != nil {
		require.Error(t, err, "Explain accepts what MatchPattern rejects\npattern: %s\nevent: %s", pattern, event)
		require.Equal(t, wantErr.Error(), err.Error())
		return
	}
	require.NoError(t, err, "pattern: %s\nevent: %s", pattern, event)
	require.Equal(t, want, ex.Matched, "Explain against MatchPattern\npattern: %s\nevent: %s\n%s", pattern, event, ex)
	require.NotEmpty(t, ex.Combinations)
	anyHolds := false
	for _, c := range ex.Combinations {
		anyHolds = anyHolds || c.Matched
		all := c.Holding() == len(c.Fields)
		if c.Matched {
			require.True(t, all, "a combination that holds has a failing field\npattern: %s\nevent: %s\n%s", pattern, event, ex)
		}
		require.Equal(t, all && !c.Matched, c.ArrayConflict)
	}
	require.Equal(t, ex.Matched, anyHolds, "verdict against its combinations\npattern: %s\nevent: %s\n%s", pattern, event, ex)
	best := ex.Combinations[ex.Closest]
	require.Equal(t, ex.Matched, best.Matched, "the closest combination of a match holds")
	for _, c := range ex.Combinations {
		require.LessOrEqual(t, c.Holding(), best.Holding()+boolInt(ex.Matched)*len(c.Fields))
	}
	s := ex.String()
	if ex.Matched {
		require.True(t, strings.HasPrefix(s, "match: "), s)
	} else {
		require.True(t, strings.HasPrefix(s, "no match: "), s)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestExplainPropertyAgainstMatchPattern checks Explain on random patterns
// and events of the pattern property tests' vocabulary.
func TestExplainPropertyAgainstMatchPattern(t *testing.T) {
	t.Parallel()
	g := propGen{rand.New(rand.NewPCG(2026, 13))}
	matched, conflicts := 0, 0
	const pairs = 3000
	for range pairs {
		pat, ev := propJSON(g.pattern()), propJSON(g.event())
		checkExplanation(t, pat, ev)
		ex, err := Explain(pat, ev)
		require.NoError(t, err)
		matched += boolInt(ex.Matched)
		for _, c := range ex.Combinations {
			conflicts += boolInt(c.ArrayConflict)
		}
	}
	t.Logf("%d of %d pairs matched; %d array conflicts", matched, pairs, conflicts)
	assert.Greater(t, matched, pairs/10, "the vocabulary should match often")
	assert.Less(t, matched, pairs*9/10, "the vocabulary should fail often")
}

func TestExplainFields(t *testing.T) {
	pat := []byte(`{"source":["aws.ec2"],"detail":{"state":["running",{"prefix":"stop"}],"gone":[{"exists":false}],"n":[{"numeric":[">",0,"<=",5]}]}}`)
	ex, err := Explain(pat, []byte(`{"source":"aws.ec2","detail":{"state":"terminated","n":[9,3]}}`))
	require.NoError(t, err)
	require.False(t, ex.Matched)
	require.Len(t, ex.Combinations, 1)
	assert.Equal(t, []FieldExplanation{
		{Path: "detail.gone", Condition: `[{"exists": false}]`, Matched: true, Reason: "absent, as allowed"},
		{Path: "detail.n", Condition: `[{"numeric": [">", 0, "<=", 5]}]`, Values: []string{"9", "3"}, Matched: true,
			Reason: `value 9, 3 matches [{"numeric": [">", 0, "<=", 5]}]`},
		{Path: "detail.state", Condition: `["running", {"prefix": "stop"}]`, Values: []string{`"terminated"`},
			Reason: `value "terminated" does not match ["running", {"prefix": "stop"}]`},
		{Path: "source", Condition: `["aws.ec2"]`, Values: []string{`"aws.ec2"`}, Matched: true,
			Reason: `value "aws.ec2" matches ["aws.ec2"]`},
	}, ex.Combinations[0].Fields)
	assert.Equal(t, `no match: 3 of 4 fields hold
  ok   detail.gone: absent, as allowed
  ok   detail.n: value 9, 3 matches [{"numeric": [">", 0, "<=", 5]}]
  FAIL detail.state: value "terminated" does not match ["running", {"prefix": "stop"}]
  ok   source: value "aws.ec2" matches ["aws.ec2"]`, ex.String())
}

func TestExplainMissingAndSeveralValues(t *testing.T) {
	ex, err := Explain([]byte(`{"a":{"b":["x"]},"c":["y"]}`), []byte(`{"a":{"b":{"deep":1}},"c":["p","q"]}`))
	require.NoError(t, err)
	f := ex.Combinations[0].Fields
	assert.Equal(t, `missing: the event has no value at a.b; wanted ["x"]`, f[0].Reason, "an object is no value")
	assert.Equal(t, `none of the values "p", "q" matches ["y"]`, f[1].Reason)
}

func TestExplainOrClosest(t *testing.T) {
	pat := []byte(`{"$or":[{"a":[1]},{"b":[{"numeric":[">",0,"<=",5]}],"c":["z"]}]}`)
	ex, err := Explain(pat, []byte(`{"b":7,"c":"z"}`))
	require.NoError(t, err)
	require.False(t, ex.Matched)
	require.Equal(t, 1, ex.Closest, "the second branch has one field holding")
	assert.Equal(t, `no match: none of 2 $or combinations holds; closest is combination 2, with 1 of 2 fields holding
  FAIL b: value 7 does not match [{"numeric": [">", 0, "<=", 5]}]
  ok   c: value "z" matches ["z"]
  combination 1: 0 of 1 fields hold; a: missing: the event has no value at a; wanted [1]`, ex.String())

	ex, err = Explain(pat, []byte(`{"a":1,"b":3,"c":"z"}`))
	require.NoError(t, err)
	require.True(t, ex.Matched)
	assert.Equal(t, 0, ex.Closest, "the first combination that holds")
	assert.True(t, strings.HasPrefix(ex.String(), "match: $or combination 1 of 2 holds\n"), ex.String())
}

func TestExplainArrayConflict(t *testing.T) {
	pat := []byte(`{"a":{"b":["x"],"c":["y"]}}`)
	ev := []byte(`{"a":[{"b":"x"},{"c":"y"}]}`)
	ex, err := Explain(pat, ev)
	require.NoError(t, err)
	require.False(t, ex.Matched)
	assert.True(t, ex.Combinations[0].ArrayConflict)
	assert.Contains(t, ex.String(), "not within one element of an array")
	checkExplanation(t, pat, ev)
}

func TestExplainOperatorsRenderAsPatternJSON(t *testing.T) {
	for _, c := range []struct{ pattern, condition string }{
		{`["a<b", 5.0, true, false, null]`, `["a<b", 5.0, true, false, null]`},
		{`[{"prefix":"p"},{"suffix":"s"},{"equals-ignore-case":"E"}]`, `[{"prefix": "p"}, {"suffix": "s"}, {"equals-ignore-case": "E"}]`},
		{`[{"prefix":{"equals-ignore-case":"P"}},{"suffix":{"equals-ignore-case":"S"}}]`, `[{"prefix": {"equals-ignore-case": "P"}}, {"suffix": {"equals-ignore-case": "S"}}]`},
		{`[{"wildcard":"*.png"},{"cidr":"10.0.0.0/8"},{"exists":true}]`, `[{"wildcard": "*.png"}, {"cidr": "10.0.0.0/8"}, {"exists": true}]`},
		{`["10.0.0.1",{"exactly":"10.0.0.2"}]`, `["10.0.0.1", {"exactly": "10.0.0.2"}]`},
		{`[{"numeric":["=",3]},{"numeric":["<",2]},{"numeric":[">=",1]}]`, `[{"numeric": ["=", 3]}, {"numeric": ["<", 2]}, {"numeric": [">=", 1]}]`},
		{`[{"anything-but":"x"},{"anything-but":[1,2]}]`, `[{"anything-but": "x"}, {"anything-but": [1, 2]}]`},
		{`[{"anything-but":{"prefix":"p"}},{"anything-but":{"suffix":["s","t"]}}]`, `[{"anything-but": {"prefix": "p"}}, {"anything-but": {"suffix": ["s", "t"]}}]`},
		{`[{"anything-but":{"equals-ignore-case":"E"}},{"anything-but":{"wildcard":"w*"}}]`, `[{"anything-but": {"equals-ignore-case": "E"}}, {"anything-but": {"wildcard": "w*"}}]`},
		{`[{"exists":false}, "x"]`, `["x", {"exists": false}]`},
	} {
		ex, err := Explain([]byte(`{"f":`+c.pattern+`}`), []byte(`{}`))
		require.NoError(t, err, c.pattern)
		assert.Equal(t, c.condition, ex.Combinations[0].Fields[0].Condition, c.pattern)
	}
}

func TestExplainErrors(t *testing.T) {
	_, err := Explain([]byte(`{"a":"x"}`), []byte(`{}`))
	var pe *PatternError
	require.ErrorAs(t, err, &pe)
	_, err = Explain([]byte(`{"a":["x"]}`), []byte(`[1]`))
	require.True(t, errors.Is(err, ErrNotObject), "%v", err)
	_, err = Explain([]byte(`{"a":["x"]}`), []byte(`{"a":`))
	require.True(t, errors.Is(err, ErrNotObject), "%v", err)
}

// FuzzExplain checks that Explain agrees with MatchPattern, and with
// itself, on any input. Seeds live in testdata/fuzz/FuzzExplain.
func FuzzExplain(f *testing.F) {
	f.Add([]byte(`{"source":["aws.ec2"]}`), []byte(`{"source":"aws.ec2"}`))
	f.Add([]byte(`{"$or":[{"a":[1]},{"b":[{"numeric":[">",0]}]}]}`), []byte(`{"b":[-1,2]}`))
	f.Fuzz(func(t *testing.T, pattern, event []byte) {
		checkExplanation(t, pattern, event)
	})
}

// BenchmarkExplain explains a miss of a pattern with $or against a
// typical event.
func BenchmarkExplain(b *testing.B) {
	pat := []byte(`{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"$or":[{"state":["running"]},{"state":[{"prefix":"stop"}],"instance-id":[{"wildcard":"i-*"}]}]}}`)
	ev := []byte(`{"version":"0","id":"1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"1","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"instance-id":"x-1","state":"stopping"}}`)
	for b.Loop() {
		if _, err := Explain(pat, ev); err != nil {
			b.Fatal(err)
		}
	}
}
