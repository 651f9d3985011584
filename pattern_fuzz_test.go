package eda

// Fuzz tests for the pattern engine: whatever the input, ParsePattern, Match
// and Matcher never panic and never hang; a rejected pattern is a
// *PatternError; Match fails exactly when the event is not a JSON object; and
// a Matcher reports the same patterns as Pattern.Match one by one.
// The seed corpus lives in testdata/fuzz/<FuzzName>/. Run one for a bounded
// time with, for example:
//
//	go test -run '^$' -fuzz '^FuzzPatternMatch$' -fuzztime 30s .

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzEvents are matched against every pattern FuzzParsePattern accepts.
var fuzzEvents = [][]byte{
	[]byte(rulerEvent),
	[]byte(`{}`),
	[]byte(`{"a":null,"b":[],"c":{},"d":[[1,"x"],{"e":true}],"source":"aws.ec2","n":-0.0e0}`),
	[]byte(`{"a":"x","a":"y","detail":{"state":"running","price":5,"ip":"10.0.0.1"}}`),
}

// eventIsObject decides, independently of the engine, whether an event is a
// JSON object. The second result is false when encoding/json cannot decide
// (nesting deeper than it supports).
func eventIsObject(event []byte) (isObject, decided bool) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber() // 1e999 is valid JSON, though no float64
	var v any
	if err := dec.Decode(&v); err != nil {
		if strings.Contains(err.Error(), "exceeded max depth") {
			return false, false
		}
		return false, true
	}
	if len(bytes.TrimLeft(event[dec.InputOffset():], " \t\r\n")) != 0 {
		return false, true // trailing data
	}
	_, ok := v.(map[string]any)
	return ok, true
}

func FuzzParsePattern(f *testing.F) {
	f.Add([]byte(`{"source":["aws.ec2"]}`))
	f.Add([]byte(`{"a":[{"wildcard":"*x*y*"}]}`))
	f.Add([]byte(`{"$or":[{"a":[1]},{"b":[{"numeric":[">",0,"<=",5]}]}]}`))
	f.Fuzz(func(t *testing.T, pattern []byte) {
		p, err := ParsePattern(pattern)
		m := NewMatcher()
		addErr := m.Add("p", pattern)
		require.Equal(t, err == nil, addErr == nil, "ParsePattern err = %v but Matcher.Add err = %v", err, addErr)
		if err != nil {
			var pe *PatternError
			require.ErrorAs(t, err, &pe, "a rejection is a *PatternError")
			require.True(t, strings.HasPrefix(err.Error(), "event pattern: "), "bad message %q", err.Error())
			require.NotEmpty(t, pe.Reason, "bad message %q", err.Error())
			return
		}
		for _, ev := range fuzzEvents {
			got, err := p.Match(ev)
			require.NoError(t, err, "Match(%s)", ev)
			ids, err := m.Match(ev)
			require.NoError(t, err, "Matcher.Match(%s)", ev)
			require.Equal(t, got, slices.Contains(ids, "p"), "Pattern.Match = %v, Matcher = %v on %s", got, ids, ev)
		}
	})
}

func FuzzPatternMatch(f *testing.F) {
	f.Add([]byte(`{"source":["aws.ec2"]}`), []byte(`{"source":"aws.ec2"}`))
	f.Add([]byte(`{"n":[{"numeric":["<",0]}]}`), []byte(`{"n":-122.422003528252475}`))
	f.Add([]byte(`{"a":{"b":["x"],"c":["y"]}}`), []byte(`{"a":[{"b":"x"},{"c":"y"}]}`))
	f.Fuzz(func(t *testing.T, pattern, event []byte) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		got, err := p.Match(event)
		isObj, decided := eventIsObject(event)
		if decided {
			if isObj {
				require.NoError(t, err, "Match on a JSON object\nevent: %q", event)
			} else {
				require.Error(t, err, "Match on a non-object returned %v\nevent: %q", got, event)
			}
		}
		if err != nil {
			return
		}
		m := NewMatcher()
		require.NoError(t, m.Add("p", pattern), "Matcher.Add rejects what ParsePattern accepts")
		ids, err := m.MatchAppend(nil, event)
		require.NoError(t, err, "Matcher.Match")
		require.Equal(t, got, slices.Contains(ids, "p"), "Pattern.Match = %v, Matcher = %v\npattern: %s\nevent: %s", got, ids, pattern, event)
		require.LessOrEqual(t, len(ids), 1, "Matcher = %v\npattern: %s\nevent: %s", ids, pattern, event)
		again, err := MatchPattern(pattern, event)
		require.NoError(t, err, "MatchPattern")
		require.Equal(t, got, again, "MatchPattern against Pattern.Match")
	})
}

func FuzzMatcher(f *testing.F) {
	f.Add([]byte(`{"source":["aws.ec2"]}`), []byte(`{"source":[{"prefix":"aws"}]}`), []byte(`{"source":"aws.ec2"}`))
	f.Add([]byte(`{"a":[{"anything-but":"x"}]}`), []byte(`{"a":[{"exists":false}]}`), []byte(`{"a":null}`))
	f.Fuzz(func(t *testing.T, p1, p2, event []byte) {
		c1, err1 := ParsePattern(p1)
		c2, err2 := ParsePattern(p2)
		if err1 != nil || err2 != nil {
			return
		}
		m1, err := c1.Match(event)
		if err != nil {
			return
		}
		m2, err := c2.Match(event)
		require.NoError(t, err, "second pattern failed on an event the first accepted")
		m := NewMatcher()
		require.NoError(t, m.Add("one", p1))
		require.NoError(t, m.Add("two", p2))
		require.NoError(t, m.Add("three", p1))
		check := func(stage string, want map[string]bool) {
			t.Helper()
			ids, err := m.Match(event)
			require.NoError(t, err, "%s: Match", stage)
			seen := map[string]bool{}
			for _, id := range ids {
				require.False(t, seen[id], "%s: id %q reported twice: %v", stage, id, ids)
				seen[id] = true
			}
			for id, w := range want {
				require.Equal(t, w, seen[id], "%s: %q reported (ids %v)\np1: %s\np2: %s\nevent: %s", stage, id, ids, p1, p2, event)
			}
			require.Len(t, seen, countTrue(want), "%s: unexpected ids %v", stage, ids)
		}
		check("three patterns", map[string]bool{"one": m1, "two": m2, "three": m1})
		m.Delete("one")
		check("after Delete(one)", map[string]bool{"one": false, "two": m2, "three": m1})
		require.NoError(t, m.Add("two", p1))
		check("after replacing two", map[string]bool{"two": m1, "three": m1})
	})
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// TestPatternNoBlowup: wildcards with many stars, long events and many
// wildcard patterns must either be rejected as too complex or match in
// bounded time (issue 2: nothing may blow up exponentially). The deadline is
// a hang guard, far above the expected microseconds.
func TestPatternNoBlowup(t *testing.T) {
	star := strings.Repeat("*a", 30) + "*b"
	long := strings.Repeat("a", 100000)
	cases := []struct{ pattern, event string }{
		{`{"k":[{"wildcard":"` + star + `"}]}`, `{"k":"` + long + `"}`},
		{`{"k":[{"anything-but":{"wildcard":"` + star + `"}}]}`, `{"k":"` + long + `"}`},
		{`{"k":[{"wildcard":"*aaaaaaaaaaaaaaaaaaaaaaaaaaaaab*"}]}`, `{"k":"` + long + `"}`},
		{`{"k":[{"prefix":{"equals-ignore-case":"` + strings.Repeat("A", 1000) + `"}}]}`, `{"k":"` + long + `"}`},
		{`{"k":{"a":{"b":["x"],"c":["y"]}}}`, `{"k":` + strings.Repeat(`[{"a":[{"b":"x"},{"c":"y"}]},`, 2000) + `{}` + strings.Repeat("]", 2000) + `}`},
		{`{"k":["x"]}`, `{"k":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`},
		{`{"k":["x"]}`, `{"j":` + strings.Repeat(`{"k":`, 5000) + `1` + strings.Repeat("}", 5000) + `}`},
	}
	for i, c := range cases {
		done := make(chan struct{})
		go func() {
			defer close(done)
			p, err := ParsePattern([]byte(c.pattern))
			if err != nil {
				var pe *PatternError
				assert.ErrorAs(t, err, &pe, "case %d", i)
				return
			}
			_, err = p.Match([]byte(c.event))
			assert.NoError(t, err, "case %d: Match", i)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			require.Failf(t, "no answer after 20s", "case %d (pattern %.80s...)", i, c.pattern)
		}
	}
	// Many wildcard patterns with a common prefix in one Matcher.
	m := NewMatcher()
	for i := range 300 {
		p := `{"k":[{"wildcard":"a*` + strings.Repeat("a", i%40) + `*b` + string(rune('a'+i%26)) + `"}]}`
		if err := m.Add(string(rune('A'+i%26))+strings.Repeat("x", i/26), []byte(p)); err != nil {
			var pe *PatternError
			require.ErrorAs(t, err, &pe, "Add")
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := m.Match([]byte(`{"k":"` + strings.Repeat("a", 20000) + `"}`))
		assert.NoError(t, err, "Matcher.Match")
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		require.Fail(t, "Matcher with 300 wildcards: no answer after 20s")
	}
}
