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
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
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
		if (err == nil) != (addErr == nil) {
			t.Fatalf("ParsePattern err = %v but Matcher.Add err = %v", err, addErr)
		}
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("rejection is %T (%v), want *PatternError", err, err)
			}
			if !strings.HasPrefix(err.Error(), "event pattern: ") || pe.Reason == "" {
				t.Fatalf("bad message %q", err.Error())
			}
			return
		}
		for _, ev := range fuzzEvents {
			got, err := p.Match(ev)
			if err != nil {
				t.Fatalf("Match(%s): %v", ev, err)
			}
			ids, err := m.Match(ev)
			if err != nil {
				t.Fatalf("Matcher.Match(%s): %v", ev, err)
			}
			if slices.Contains(ids, "p") != got {
				t.Fatalf("Pattern.Match = %v, Matcher = %v on %s", got, ids, ev)
			}
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
			if isObj && err != nil {
				t.Fatalf("Match on a JSON object failed: %v\nevent: %q", err, event)
			}
			if !isObj && err == nil {
				t.Fatalf("Match on a non-object returned %v, nil\nevent: %q", got, event)
			}
		}
		if err != nil {
			return
		}
		m := NewMatcher()
		if err := m.Add("p", pattern); err != nil {
			t.Fatalf("Matcher.Add rejects what ParsePattern accepts: %v", err)
		}
		ids, err := m.MatchAppend(nil, event)
		if err != nil {
			t.Fatalf("Matcher.Match: %v", err)
		}
		if slices.Contains(ids, "p") != got || len(ids) > 1 {
			t.Fatalf("Pattern.Match = %v, Matcher = %v\npattern: %s\nevent: %s", got, ids, pattern, event)
		}
		again, err := MatchPattern(pattern, event)
		if err != nil || again != got {
			t.Fatalf("MatchPattern = %v, %v; Pattern.Match = %v", again, err, got)
		}
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
		if err != nil {
			t.Fatalf("second pattern failed on an event the first accepted: %v", err)
		}
		m := NewMatcher()
		if err := m.Add("one", p1); err != nil {
			t.Fatal(err)
		}
		if err := m.Add("two", p2); err != nil {
			t.Fatal(err)
		}
		if err := m.Add("three", p1); err != nil {
			t.Fatal(err)
		}
		check := func(stage string, want map[string]bool) {
			t.Helper()
			ids, err := m.Match(event)
			if err != nil {
				t.Fatalf("%s: Match: %v", stage, err)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("%s: id %q reported twice: %v", stage, id, ids)
				}
				seen[id] = true
			}
			for id, w := range want {
				if seen[id] != w {
					t.Fatalf("%s: %q reported %v, want %v (ids %v)\np1: %s\np2: %s\nevent: %s", stage, id, seen[id], w, ids, p1, p2, event)
				}
			}
			if len(seen) != countTrue(want) {
				t.Fatalf("%s: unexpected ids %v", stage, ids)
			}
		}
		check("three patterns", map[string]bool{"one": m1, "two": m2, "three": m1})
		m.Delete("one")
		check("after Delete(one)", map[string]bool{"one": false, "two": m2, "three": m1})
		if err := m.Add("two", p1); err != nil {
			t.Fatal(err)
		}
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
				if !errors.As(err, &pe) {
					t.Errorf("case %d: err = %v, want *PatternError", i, err)
				}
				return
			}
			if _, err := p.Match([]byte(c.event)); err != nil {
				t.Errorf("case %d: Match: %v", i, err)
			}
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("case %d: no answer after 20s (pattern %.80s...)", i, c.pattern)
		}
	}
	// Many wildcard patterns with a common prefix in one Matcher.
	m := NewMatcher()
	for i := range 300 {
		p := `{"k":[{"wildcard":"a*` + strings.Repeat("a", i%40) + `*b` + string(rune('a'+i%26)) + `"}]}`
		if err := m.Add(string(rune('A'+i%26))+strings.Repeat("x", i/26), []byte(p)); err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("Add: %v", err)
			}
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := m.Match([]byte(`{"k":"` + strings.Repeat("a", 20000) + `"}`)); err != nil {
			t.Errorf("Matcher.Match: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Matcher with 300 wildcards: no answer after 20s")
	}
}
