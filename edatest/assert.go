package edatest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
)

// The assertions match an EventBridge event pattern ([eda.MatchPattern])
// against each record's payload: for a Bus target without an input
// transformation, the whole event envelope, so the pattern reads like the
// rule's ({"detail-type": ["OrderPlaced"], "detail": {"total": [...]}});
// for a target with an input transformation, its input; for a Topic, the
// message body (raw delivery) or SNS notification envelope. A payload that
// is not a JSON object matches no pattern. Like testify's assertions, they
// report the failure with t.Errorf, return whether they passed, and take
// optional msgAndArgs; on failure they list the nearest records and, for
// each, why the pattern does not match it ([eda.Explain]).

// nearestShown is how many records a failure message explains.
const nearestShown = 3

// AssertDelivered asserts that at least one record matches the event
// pattern.
func AssertDelivered(t testing.TB, r *Recorder, pattern string, msgAndArgs ...any) bool {
	t.Helper()
	return assertPattern(t, "AssertDelivered", r, pattern, func(n int) bool { return n > 0 }, "at least one record", msgAndArgs)
}

// AssertNotDelivered asserts that no record matches the event pattern.
func AssertNotDelivered(t testing.TB, r *Recorder, pattern string, msgAndArgs ...any) bool {
	t.Helper()
	return assertPattern(t, "AssertNotDelivered", r, pattern, func(n int) bool { return n == 0 }, "no record", msgAndArgs)
}

// AssertDeliveredN asserts that exactly n records match the event pattern.
func AssertDeliveredN(t testing.TB, r *Recorder, pattern string, n int, msgAndArgs ...any) bool {
	t.Helper()
	return assertPattern(t, "AssertDeliveredN", r, pattern, func(got int) bool { return got == n },
		fmt.Sprintf("exactly %d records", n), msgAndArgs)
}

// expectation is what an assertion looks for in the records: an event
// pattern, or a filter policy.
type expectation struct {
	// what names it in a message: "matching {…}".
	what string
	// match reports whether a record meets it.
	match func(Record) bool
	// explain says why a record does not meet it, with a score of how
	// close it comes (the share of its fields that hold; -1: not at all).
	explain func(Record) (why string, score float64)
	// show renders a record's content, on one line.
	show func(Record) string
}

// patternExpectation is the expectation of an event pattern, p being
// pattern compiled.
func patternExpectation(pattern string, p *eda.Pattern) expectation {
	return expectation{
		what:  "matching " + pattern,
		match: func(rec Record) bool { return matches(p, rec) },
		explain: func(rec Record) (string, float64) {
			return explainPattern(pattern, rec.Delivery.Payload)
		},
		show: payloadJSON,
	}
}

// explainPattern says why doc does not match pattern, with the share of
// the closest combination's fields that hold; "" if it matches.
func explainPattern(pattern string, doc []byte) (string, float64) {
	ex, err := eda.Explain([]byte(pattern), doc)
	switch {
	case err != nil:
		return "payload is not a JSON object", -1
	case ex.Matched:
		return "", 1
	}
	return explanation(ex)
}

// explanation renders a non-match, with the share of the closest
// combination's fields that hold.
func explanation(ex eda.Explanation) (string, float64) {
	c := ex.Combinations[ex.Closest]
	return ex.String(), float64(c.Holding()) / float64(max(len(c.Fields), 1))
}

// assertCount asserts that ok holds for the number of records meeting the
// expectation; want says what ok wants, for the message.
func assertCount(t testing.TB, name string, r *Recorder, exp expectation, ok func(int) bool, want string, msgAndArgs []any) bool {
	t.Helper()
	recs := r.Deliveries()
	var hits []Record
	for _, rec := range recs {
		if exp.match(rec) {
			hits = append(hits, rec)
		}
	}
	if ok(len(hits)) {
		return true
	}
	msg := fmt.Sprintf("%s: wanted %s %s, got %d of %d", name, want, exp.what, len(hits), len(recs))
	if len(hits) > 0 {
		msg += "; matching:" + listRecords(hits, exp.show)
	}
	if len(hits) < len(recs) {
		msg += nearest(exp, recs)
	}
	return assert.Fail(t, msg, msgAndArgs...)
}

// assertPattern is assertCount for an event pattern, failing the test if
// the pattern is invalid.
func assertPattern(t testing.TB, name string, r *Recorder, pattern string, ok func(int) bool, want string, msgAndArgs []any) bool {
	t.Helper()
	p, valid := parsePattern(t, name, pattern)
	if !valid {
		return false
	}
	return assertCount(t, name, r, patternExpectation(pattern, p), ok, want, msgAndArgs)
}

// parsePattern compiles pattern, failing the test if it is invalid.
func parsePattern(t testing.TB, name, pattern string) (*eda.Pattern, bool) {
	t.Helper()
	p, err := eda.ParsePattern([]byte(pattern))
	if err != nil {
		assert.Fail(t, fmt.Sprintf("%s: %v", name, err))
		return nil, false
	}
	return p, true
}

// matches reports whether rec's payload matches p.
func matches(p *eda.Pattern, rec Record) bool {
	ok, err := p.Match(rec.Delivery.Payload)
	return ok && err == nil
}

// listRecords lists records, one a line, their content rendered by show.
func listRecords(recs []Record, show func(Record) string) string {
	var b strings.Builder
	for i, rec := range recs {
		fmt.Fprintf(&b, "\n  %d. %s: %s", i+1, describeRecord(rec), show(rec))
	}
	return b.String()
}

// nearest explains why the records that come closest to the expectation
// do not meet it: those with the largest share of its fields holding.
func nearest(exp expectation, recs []Record) string {
	type scored struct {
		rec   Record
		ex    string
		score float64
	}
	var list []scored
	for _, rec := range recs {
		if exp.match(rec) {
			continue
		}
		ex, score := exp.explain(rec)
		list = append(list, scored{rec, ex, score})
	}
	if len(list) == 0 {
		return ""
	}
	slices.SortStableFunc(list, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	var b strings.Builder
	fmt.Fprintf(&b, "\nnearest of the %d records that do not match, and why:", len(list))
	for i, s := range list[:min(len(list), nearestShown)] {
		fmt.Fprintf(&b, "\n  %d. %s: %s\n     %s", i+1, describeRecord(s.rec), exp.show(s.rec),
			strings.ReplaceAll(s.ex, "\n", "\n     "))
	}
	return b.String()
}

// AssertDeliveredInOrder asserts that records matching the event patterns
// came in the order of the patterns: a record matches the first pattern,
// a later one the second, and so on (other records may come between).
// On failure it names the first pattern with no matching record after
// the previous pattern's, any records it matches before that, and why
// the nearest of the later records do not match it.
func AssertDeliveredInOrder(t testing.TB, r *Recorder, patterns []string, msgAndArgs ...any) bool {
	t.Helper()
	recs := r.Deliveries()
	next := 0 // the first record the next pattern may match
	for k, pattern := range patterns {
		p, valid := parsePattern(t, "AssertDeliveredInOrder", pattern)
		if !valid {
			return false
		}
		found := -1
		for i := next; i < len(recs); i++ {
			if matches(p, recs[i]) {
				found = i
				break
			}
		}
		if found >= 0 {
			next = found + 1
			continue
		}
		msg := fmt.Sprintf("AssertDeliveredInOrder: pattern %d of %d, %s, matches no record", k+1, len(patterns), pattern)
		if k > 0 {
			msg += fmt.Sprintf(" after record %d, which matched pattern %d", next, k)
		}
		var before []string
		for i := range recs[:next] {
			if matches(p, recs[i]) {
				before = append(before, fmt.Sprint(i+1))
			}
		}
		if len(before) > 0 {
			msg += "; it matches record " + strings.Join(before, ", ") + ", too early"
		}
		exp := patternExpectation(pattern, p)
		msg += fmt.Sprintf(" (%d records):", len(recs)) + listRecords(recs, exp.show) + nearest(exp, recs[next:])
		return assert.Fail(t, msg, msgAndArgs...)
	}
	return true
}
