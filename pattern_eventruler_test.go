package eda

// Conformance cases taken from the expectations of AWS's event-ruler test
// suite (github.com/aws/event-ruler, src/test/...), its README and two
// EventBridge documentation examples, restated in our own words. Each case
// names the test it comes from. Only expectations that hold on event-ruler's
// JSON, array-consistent path (Ruler.matchesRule, Machine.rulesForJSONEvent),
// the one EventBridge uses, are ported; where event-ruler's sources changed
// over time the current behaviour is used.
//
// The cases are data, in testdata/eventruler (its README gives their
// provenance, licence and schema):
//   - match.jsonl: pattern/event pairs. Together with permutations.jsonl
//     (ByteMachineTest's pattern permutation groups) and erNumericSweep they
//     must agree; each runs through both MatchPattern and a Matcher that also
//     holds a distractor pattern.
//   - compile.jsonl: compile-time verdicts (valid or not).
//
// A record with "status":"open" is a confirmed disagreement the engine does
// not follow yet; "ambiguous" marks an expectation that event-ruler's own
// sources contradict. Both are logged, never failed.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Record counts of the files in testdata/eventruler, pinned so that a
// truncated or partly unreadable file cannot pass unnoticed. Update them
// together with the files.
const (
	erMatchRecords   = 685  // match.jsonl: 680 enforced, 4 open, 1 ambiguous
	erCompileRecords = 185  // compile.jsonl: 178 enforced, 1 open, 6 ambiguous
	erPermGroups     = 98   // permutations.jsonl
	erEnforcedPairs  = 3794 // enforced match records + expanded permutations + numeric sweep
)

// erCase is one pattern/event pair with event-ruler's answer (a line of
// match.jsonl).
type erCase struct {
	Source  string `json:"source"` // event-ruler test (Class.method) or README section
	Pattern string `json:"pattern"`
	Event   string `json:"event"`
	Match   bool   `json:"match"`
	Status  string `json:"status,omitempty"` // "", "open" or "ambiguous"
	Note    string `json:"note,omitempty"`
}

// erVerdict is one compile-time verdict (a line of compile.jsonl).
type erVerdict struct {
	Source  string `json:"source"`
	Pattern string `json:"pattern"`
	Valid   bool   `json:"valid"`
	Status  string `json:"status,omitempty"`
	Note    string `json:"note,omitempty"`
}

// erPermGroup is one ByteMachineTest.testPatternPermutations call (a line of
// permutations.jsonl): each leaf operand, applied to field "x", matches
// exactly the values listed for it and none of the group's other values
// (including NoMatch).
type erPermGroup struct {
	Source   string   `json:"source"`
	NoMatch  []string `json:"no_match"`
	Patterns []erPerm `json:"patterns"`
	Note     string   `json:"note,omitempty"`
}

type erPerm struct {
	Leaf    string   `json:"leaf"`
	Matches []string `json:"matches"`
}

// erStatusOK reports whether s is a known status.
func erStatusOK(s string) bool { return s == "" || s == "open" || s == "ambiguous" }

// readJSONL decodes every line of testdata/eventruler/name into a T, refusing
// unknown fields and trailing data, and names the line of any error.
func readJSONL[T any](name string) ([]T, error) {
	path := filepath.Join("testdata", "eventruler", name)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s:%d: more than one JSON value on the line", path, n)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// erTables is the content of testdata/eventruler, read and checked once.
type erTables struct {
	matches  []erCase
	verdicts []erVerdict
	perms    []erPermGroup
}

func loadEventRuler(t *testing.T) erTables {
	t.Helper()
	var tb erTables
	var err error
	tb.matches, err = readJSONL[erCase]("match.jsonl")
	require.NoError(t, err)
	tb.verdicts, err = readJSONL[erVerdict]("compile.jsonl")
	require.NoError(t, err)
	tb.perms, err = readJSONL[erPermGroup]("permutations.jsonl")
	require.NoError(t, err)
	require.Len(t, tb.matches, erMatchRecords, "match records")
	require.Len(t, tb.verdicts, erCompileRecords, "compile records")
	require.Len(t, tb.perms, erPermGroups, "permutation records")
	for i, c := range tb.matches {
		require.True(t, erStatusOK(c.Status), "match.jsonl:%d: bad status %q", i+1, c.Status)
		require.NotEmpty(t, c.Source, "match.jsonl:%d: source", i+1)
	}
	for i, c := range tb.verdicts {
		require.True(t, erStatusOK(c.Status), "compile.jsonl:%d: bad status %q", i+1, c.Status)
		require.NotEmpty(t, c.Source, "compile.jsonl:%d: source", i+1)
	}
	return tb
}

// expand turns a group into cases: every pattern against every value that
// occurs in the group, matching exactly the values listed for it.
func (g erPermGroup) expand() []erCase {
	var values []string
	seen := map[string]bool{}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			values = append(values, v)
		}
	}
	for _, v := range g.NoMatch {
		add(v)
	}
	for _, p := range g.Patterns {
		for _, v := range p.Matches {
			add(v)
		}
	}
	var out []erCase
	for _, p := range g.Patterns {
		hit := map[string]bool{}
		for _, v := range p.Matches {
			hit[v] = true
		}
		for _, v := range values {
			ev, err := json.Marshal(map[string]string{"x": v})
			if err != nil {
				panic(err) // strings always marshal
			}
			out = append(out, erCase{
				Source:  g.Source,
				Pattern: `{"x":[` + p.Leaf + `]}`,
				Event:   string(ev),
				Match:   hit[v],
			})
		}
	}
	return out
}

// erNumericSweep restates ByteMachineTest.WHEN_NumericRangesAreAdded_THEN_TheyWorkCorrectly:
// every bound of its data set (a subset of them here, to keep the run short)
// as <, <=, >, >= and as two-sided ranges, against every data value written
// with six decimals ("%f"), compared as float64 the way the Java test does.
func erNumericSweep() []erCase {
	data := []float64{-5e9, -4_999_999_999.99999, -4_999_999_999.99998, -4_999_999_999.99997,
		-999999999.99999, -999999999.99, -10000, -0.000002, 0, 0.000001, 3.8, 2.5e4,
		999999999.999998, 999999999.999999, 1628955663, 3206792463, 4784629263,
		4_999_999_999.99997, 4_999_999_999.99998, 4_999_999_999.99999, 5e9}
	lit := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	const src = "ByteMachineTest.WHEN_NumericRangesAreAdded_THEN_TheyWorkCorrectly"
	var out []erCase
	one := func(op string, b float64, cmp func(a, b float64) bool) {
		for _, a := range data {
			out = append(out, erCase{Source: src,
				Pattern: fmt.Sprintf(`{"x":[{"numeric":[%q,%s]}]}`, op, lit(b)),
				Event:   fmt.Sprintf(`{"x":%f}`, a), Match: cmp(a, b)})
		}
	}
	for _, i := range []int{1, 4, 7, 8, 10, 13, 16, 19} {
		b := data[i]
		one("<", b, func(a, b float64) bool { return a < b })
		one("<=", b, func(a, b float64) bool { return a <= b })
		one(">", b, func(a, b float64) bool { return a > b })
		one(">=", b, func(a, b float64) bool { return a >= b })
	}
	for _, pr := range [][2]int{{0, 2}, {1, 3}, {7, 9}, {8, 10}, {12, 14}, {17, 20}} {
		lo, hi := data[pr[0]], data[pr[1]]
		for _, r := range []struct {
			lop, hop string
			in       func(a float64) bool
		}{
			{">", "<", func(a float64) bool { return lo < a && a < hi }},
			{">", "<=", func(a float64) bool { return lo < a && a <= hi }},
			{">=", "<", func(a float64) bool { return lo <= a && a < hi }},
			{">=", "<=", func(a float64) bool { return lo <= a && a <= hi }},
		} {
			for _, a := range data {
				out = append(out, erCase{Source: src,
					Pattern: fmt.Sprintf(`{"x":[{"numeric":[%q,%s,%q,%s]}]}`, r.lop, lit(lo), r.hop, lit(hi)),
					Event:   fmt.Sprintf(`{"x":%f}`, a), Match: r.in(a)})
			}
		}
	}
	return out
}

// enforcedPairs is every match case that must agree: the enforced records of
// match.jsonl, the expanded permutation groups and the numeric sweep.
func (tb erTables) enforcedPairs() []erCase {
	var all []erCase
	for _, c := range tb.matches {
		if c.Status == "" {
			all = append(all, c)
		}
	}
	for _, g := range tb.perms {
		all = append(all, g.expand()...)
	}
	return append(all, erNumericSweep()...)
}

// erCheckMatch runs c through MatchPattern and through a Matcher that also
// holds a distractor pattern; it returns how either disagrees with c.Match.
func erCheckMatch(c erCase) error {
	got, err := MatchPattern([]byte(c.Pattern), []byte(c.Event))
	if err != nil {
		return fmt.Errorf("MatchPattern error %v", err)
	}
	if got != c.Match {
		return fmt.Errorf("MatchPattern = %v, event-ruler says %v", got, c.Match)
	}
	m := NewMatcher()
	if err := m.Add("case", []byte(c.Pattern)); err != nil {
		return fmt.Errorf("Matcher.Add: %v", err)
	}
	if err := m.Add("other", []byte(`{"zz-unrelated":["never"]}`)); err != nil {
		return fmt.Errorf("Matcher.Add of the distractor: %v", err)
	}
	ids, err := m.Match([]byte(c.Event))
	if err != nil {
		return fmt.Errorf("Matcher.Match error %v", err)
	}
	if hit := len(ids) == 1 && ids[0] == "case"; hit != c.Match || len(ids) > 1 {
		return fmt.Errorf("Matcher.Match = %v, event-ruler says %v", ids, c.Match)
	}
	return nil
}

// erCheckVerdict compiles c.Pattern and returns how the outcome disagrees
// with c.Valid (a rejection must be a *PatternError).
func erCheckVerdict(c erVerdict) error {
	_, err := ParsePattern([]byte(c.Pattern))
	var pe *PatternError
	switch {
	case c.Valid && err != nil:
		return fmt.Errorf("ParsePattern = %v, event-ruler accepts it", err)
	case !c.Valid && !errors.As(err, &pe):
		return fmt.Errorf("ParsePattern = %v, event-ruler rejects it", err)
	}
	return nil
}

func TestEventRulerMatches(t *testing.T) {
	cases := loadEventRuler(t).enforcedPairs()
	require.Len(t, cases, erEnforcedPairs, "pattern/event pairs")
	t.Logf("%d pattern/event pairs from event-ruler's tests", len(cases))
	for i, c := range cases {
		assert.NoError(t, erCheckMatch(c), "#%d %s\npattern %s\nevent   %s", i, c.Source, c.Pattern, c.Event)
	}
}

func TestEventRulerVerdicts(t *testing.T) {
	n := 0
	for i, c := range loadEventRuler(t).verdicts {
		if c.Status != "" {
			continue
		}
		n++
		assert.NoError(t, erCheckVerdict(c), "compile.jsonl:%d %s: %s", i+1, c.Source, c.Pattern)
	}
	t.Logf("%d compile verdicts from event-ruler's tests", n)
}

// TestEventRulerWrongExpectationFails shows that the checks above can fail:
// with its expectation reversed, the first enforced match case and the first
// enforced verdict of either kind are reported.
func TestEventRulerWrongExpectationFails(t *testing.T) {
	tb := loadEventRuler(t)
	c := tb.enforcedPairs()[0]
	require.NoError(t, erCheckMatch(c), c.Source)
	c.Match = !c.Match
	assert.Error(t, erCheckMatch(c), "%s: a reversed match expectation passed", c.Source)
	done := map[bool]bool{}
	for _, v := range tb.verdicts {
		if v.Status != "" || done[v.Valid] {
			continue
		}
		done[v.Valid] = true
		require.NoError(t, erCheckVerdict(v), v.Source)
		v.Valid = !v.Valid
		assert.Error(t, erCheckVerdict(v), "%s: %s: a reversed verdict passed", v.Source, v.Pattern)
	}
	assert.Equal(t, map[bool]bool{true: true, false: true}, done, "compile.jsonl has an enforced verdict of either kind")
}

// TestEventRulerOpen logs the records marked "open" (confirmed disagreements
// the engine does not follow yet) and "ambiguous" (expectations event-ruler's
// own sources contradict); it never fails. When an open record starts to
// agree the log says so, and its status should be dropped.
func TestEventRulerOpen(t *testing.T) {
	tb := loadEventRuler(t)
	for i, c := range tb.matches {
		if c.Status != "" {
			t.Logf("match.jsonl:%d %s %s: %s\npattern %s\nevent   %s", i+1, c.Status, c.Source, erOutcome(erCheckMatch(c)), c.Pattern, c.Event)
		}
	}
	for i, c := range tb.verdicts {
		if c.Status != "" {
			t.Logf("compile.jsonl:%d %s %s: %s: %s", i+1, c.Status, c.Source, c.Pattern, erOutcome(erCheckVerdict(c)))
		}
	}
}

func erOutcome(err error) string {
	if err == nil {
		return "now agrees with the expectation"
	}
	return "disagrees: " + err.Error()
}
