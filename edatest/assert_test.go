package edatest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orders returns a Recorder holding three order events, as a Bus target
// receives them.
func orders(t *testing.T) *Recorder {
	rec := NewRecorder()
	for i, detail := range []string{`{"id":"o-1","total":25}`, `{"id":"o-2","total":4200}`, `{"id":"o-3","total":900,"country":"FR"}`} {
		payload := `{"source":"shop","detail-type":"OrderPlaced","detail":` + detail + `}`
		require.NoError(t, rec.Handle(context.Background(), eda.Delivery{ID: string(rune('a' + i)), Router: "default", Rule: "orders",
			Destination: "fraud", Attempt: 1, Kind: eda.PayloadEvent, Payload: []byte(payload)}))
	}
	return rec
}

func TestAssertionsPass(t *testing.T) {
	rec := orders(t)
	assert.True(t, AssertDelivered(t, rec, `{"detail": {"id": ["o-2"]}}`))
	assert.True(t, AssertDeliveredN(t, rec, `{"detail-type": ["OrderPlaced"]}`, 3))
	assert.True(t, AssertDeliveredN(t, rec, `{"detail": {"total": [{"numeric": [">", 100]}]}}`, 2))
	assert.True(t, AssertNotDelivered(t, rec, `{"detail": {"id": ["o-4"]}}`))
	assert.True(t, AssertDeliveredN(t, NewRecorder(), `{"a": ["b"]}`, 0))
}

// reportOf runs assertion against a fake testing.TB and returns what it
// reported, checking that it failed, without testify's indentation.
func reportOf(t *testing.T, assertion func(testing.TB) bool) string {
	t.Helper()
	ft := newFakeTB(t, time.Second)
	require.False(t, assertion(ft), "the assertion passed")
	// testify indents the lines of a message after the first
	return strings.ReplaceAll(ft.reported(), "\n\t            \t", "\n")
}

func TestAssertDeliveredFailureExplainsNearest(t *testing.T) {
	rec := orders(t)
	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertDelivered(tb, rec, `{"detail": {"total": [{"numeric": [">", 1000]}], "country": ["FR"]}}`, "order %s", "o-3")
	})
	assert.Contains(t, msg, `AssertDelivered: wanted at least one record matching {"detail": {"total": [{"numeric": [">", 1000]}], "country": ["FR"]}}, got 0 of 3
nearest of the 3 records that do not match, and why:
  1. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-2","total":4200}}
     no match: 1 of 2 fields hold
       FAIL detail.country: missing: the event has no value at detail.country; wanted ["FR"]
       ok   detail.total: value 4200 matches [{"numeric": [">", 1000]}]
  2. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-3","total":900,"country":"FR"}}
     no match: 1 of 2 fields hold
       ok   detail.country: value "FR" matches ["FR"]
       FAIL detail.total: value 900 does not match [{"numeric": [">", 1000]}]
  3. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-1","total":25}}
     no match: 0 of 2 fields hold`, msg)
	assert.Contains(t, msg, "Messages:   \torder o-3", "testify's msgAndArgs")
}

func TestAssertNotDeliveredFailureListsMatches(t *testing.T) {
	rec := orders(t)
	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertNotDelivered(tb, rec, `{"detail": {"id": ["o-1"]}}`)
	})
	assert.Contains(t, msg, `AssertNotDelivered: wanted no record matching {"detail": {"id": ["o-1"]}}, got 1 of 3; matching:
  1. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-1","total":25}}
nearest of the 2 records that do not match, and why:`, msg)
}

func TestAssertDeliveredNFailure(t *testing.T) {
	rec := orders(t)
	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredN(tb, rec, `{"detail-type": ["OrderPlaced"]}`, 2)
	})
	assert.Contains(t, msg, `AssertDeliveredN: wanted exactly 2 records matching {"detail-type": ["OrderPlaced"]}, got 3 of 3; matching:`)
	assert.NotContains(t, msg, "nearest", "every record matched")
	assert.Equal(t, 3, strings.Count(msg, "default/orders/fraud attempt 1"))
}

func TestAssertionNonJSONAndBadPattern(t *testing.T) {
	rec := NewRecorder()
	require.NoError(t, rec.Handle(context.Background(), eda.Delivery{Router: "t", Destination: "s", Attempt: 1,
		Kind: eda.PayloadMessage, Payload: []byte("plain text")}))
	msg := reportOf(t, func(tb testing.TB) bool { return AssertDelivered(tb, rec, `{"a": ["b"]}`) })
	assert.Contains(t, msg, "1. t/s attempt 1: plain text\n     payload is not a JSON object")
	msg = reportOf(t, func(tb testing.TB) bool { return AssertDelivered(tb, rec, `{"a": "b"}`) })
	assert.Contains(t, msg, "AssertDelivered: event pattern: a: ")
}

// The nearest records are capped, and long payloads shortened.
func TestAssertionFailureIsBounded(t *testing.T) {
	rec := NewRecorder()
	long := `{"n":"` + strings.Repeat("x", 500) + `"}`
	for range 10 {
		require.NoError(t, rec.Handle(context.Background(), eda.Delivery{Payload: []byte(long)}))
	}
	msg := reportOf(t, func(tb testing.TB) bool { return AssertDelivered(tb, rec, `{"n": ["y"]}`) })
	assert.Contains(t, msg, "nearest of the 10 records that do not match")
	assert.Contains(t, msg, "  3. ")
	assert.NotContains(t, msg, "  4. ")
	assert.Contains(t, msg, strings.Repeat("x", 100)+"…")
}

func TestAssertDeliveredInOrder(t *testing.T) {
	rec := orders(t)
	assert.True(t, AssertDeliveredInOrder(t, rec, []string{`{"detail": {"id": ["o-1"]}}`, `{"detail": {"id": ["o-3"]}}`}))
	assert.True(t, AssertDeliveredInOrder(t, rec, nil))

	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredInOrder(tb, rec, []string{`{"detail": {"id": ["o-2"]}}`, `{"detail": {"id": ["o-1"]}}`})
	})
	assert.Contains(t, msg, `AssertDeliveredInOrder: pattern 2 of 2, {"detail": {"id": ["o-1"]}}, matches no record after record 2, which matched pattern 1; it matches record 1, too early (3 records):
  1. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-1","total":25}}
  2. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-2","total":4200}}
  3. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-3","total":900,"country":"FR"}}
nearest of the 1 records that do not match, and why:
  1. default/orders/fraud attempt 1: {"source":"shop","detail-type":"OrderPlaced","detail":{"id":"o-3","total":900,"country":"FR"}}
     no match: 0 of 1 fields hold
       FAIL detail.id: value "o-3" does not match ["o-1"]`, msg)

	msg = reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredInOrder(tb, rec, []string{`{"detail": {"id": ["o-9"]}}`})
	})
	assert.Contains(t, msg, `AssertDeliveredInOrder: pattern 1 of 1, {"detail": {"id": ["o-9"]}}, matches no record (3 records):`)
	msg = reportOf(t, func(tb testing.TB) bool { return AssertDeliveredInOrder(tb, rec, []string{`{"a": 1}`}) })
	assert.Contains(t, msg, "AssertDeliveredInOrder: event pattern: a: ")
}
