package edatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/edakit/eda"
)

// Record is one call a [Recorder] received: a delivery, or a dead letter.
type Record struct {
	// Delivery is what the handler received: payload, router, rule (Bus)
	// or destination (a Bus target or a Topic subscription), attempt and
	// acceptance time. For a dead letter it is the dead letter's last
	// attempted delivery.
	Delivery eda.Delivery
	// Err is what the wrapped handler returned ([Recorder.Wrap]); for a
	// dead letter its last error. Nil for a Recorder used as the handler
	// itself.
	Err error
	// DeadLetter is the dead letter for a call of HandleDeadLetter; nil
	// for a delivery.
	DeadLetter *eda.DeadLetter
}

// Recorder records every delivery it handles, and every dead letter: it is
// an [eda.Handler] that acknowledges every delivery, an
// [eda.DeadLetterHandler], and with [Recorder.Wrap] a recording wrapper of
// another handler. Give each role of a test its own Recorder (one for a
// target, one for its dead letters), and read it with Deliveries, wait on
// it with WaitFor and WaitUntil, check it with AssertDelivered. The zero
// value is ready to use; a Recorder must not be copied after first use.
// Its methods may be called concurrently.
type Recorder struct {
	mu      sync.Mutex
	records []Record
	changed chan struct{} // closed and replaced by each record; nil until waited on
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

var (
	_ eda.Handler           = (*Recorder)(nil)
	_ eda.DeadLetterHandler = (*Recorder)(nil)
)

// add records r and wakes the waiters.
func (r *Recorder) add(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Handle records the delivery and acknowledges it.
func (r *Recorder) Handle(_ context.Context, d eda.Delivery) error {
	r.add(Record{Delivery: d})
	return nil
}

// HandleDeadLetter records the dead letter.
func (r *Recorder) HandleDeadLetter(_ context.Context, dl eda.DeadLetter) {
	r.add(Record{Delivery: dl.Delivery, Err: dl.Err, DeadLetter: &dl})
}

// Wrap returns a handler that calls h and then records the delivery with
// the error h returned (a panic of h is recorded as an *[eda.PanicError]
// and passed on). Every attempt is recorded, retries included. Wrap is a
// middleware too: eda.WithMiddleware(rec.Wrap) given to a router records
// every attempt at each of its destinations ([Recorder.To] tells them
// apart). A record is added when h returns, so a delivery that h caused —
// an event it put, on another destination — may be recorded before it.
func (r *Recorder) Wrap(h eda.Handler) eda.Handler {
	return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) (err error) {
		defer func() {
			if v := recover(); v != nil {
				r.add(Record{Delivery: d, Err: &eda.PanicError{Value: v}})
				panic(v)
			}
			r.add(Record{Delivery: d, Err: err})
		}()
		return h.Handle(ctx, d)
	})
}

// Deliveries returns a copy of everything recorded so far, in the order
// it was recorded.
func (r *Recorder) Deliveries() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Len returns how many records the Recorder holds.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records)
}

// Last returns the latest record; false if there is none.
func (r *Recorder) Last() (Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.records) == 0 {
		return Record{}, false
	}
	return r.records[len(r.records)-1], true
}

// Reset forgets every record.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = nil
}

// RecordedAs decodes the body of every record, in order, into a T with
// [eda.Delivery.Decode]: an event's detail, a message's body. A record
// that does not decode fails the test.
func RecordedAs[T any](t testing.TB, r *Recorder) []T {
	t.Helper()
	var out []T
	for i, rec := range r.Deliveries() {
		var v T
		if err := rec.Delivery.Decode(&v); err != nil {
			t.Fatalf("edatest: RecordedAs: record %d (%s): %v", i, describeRecord(rec), err)
			return out
		}
		out = append(out, v)
	}
	return out
}

// watch returns the records and a channel closed at the next record.
func (r *Recorder) watch() ([]Record, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.records, r.changed
}

// wait waits until done holds for the records, waking at each record, and
// fails the test with what(records) at the deadline.
func (r *Recorder) wait(t testing.TB, done func([]Record) bool, what func([]Record) string) bool {
	t.Helper()
	ctx, cancel := testContext(t)
	defer cancel()
	for {
		recs, changed := r.watch()
		if done(recs) {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			recs, _ = r.watch()
			t.Fatalf("edatest: %s", what(recs))
			return false
		}
	}
}

// WaitFor waits until the Recorder holds at least n records. It wakes on
// the records themselves, without polling, and fails the test (FailNow)
// if they have not come by the test's deadline — shortly before it, so
// that the message shows — or within [DefaultTimeout] in a test without
// one. It reports whether they came.
func (r *Recorder) WaitFor(t testing.TB, n int) bool {
	t.Helper()
	return r.wait(t, func(recs []Record) bool { return len(recs) >= n },
		func(recs []Record) string {
			return fmt.Sprintf("WaitFor: waited for %d records, got %d%s", n, len(recs), listRecords(recs, payloadJSON))
		})
}

// WaitUntil waits, as WaitFor does, until a record's payload matches the
// EventBridge event pattern (see [AssertDelivered]), and returns the first
// such record. At the deadline it fails the test with, for each record,
// why the pattern does not match it.
func (r *Recorder) WaitUntil(t testing.TB, pattern string) (Record, bool) {
	t.Helper()
	p, ok := parsePattern(t, "WaitUntil", pattern)
	if !ok {
		return Record{}, false
	}
	var found Record
	ok = r.wait(t, func(recs []Record) bool {
		for _, rec := range recs {
			if matches(p, rec) {
				found = rec
				return true
			}
		}
		return false
	}, func(recs []Record) string {
		return "WaitUntil: no record matches " + pattern + nearest(patternExpectation(pattern, p), recs)
	})
	return found, ok
}

// describeRecord names a record: its router, rule, destination and
// attempt, and whether it is a dead letter.
func describeRecord(rec Record) string {
	d := rec.Delivery
	s := d.Router
	if d.Rule != "" {
		s += "/" + d.Rule
	}
	s += "/" + d.Destination + fmt.Sprintf(" attempt %d", d.Attempt)
	if rec.DeadLetter != nil {
		s += " (dead letter: " + string(rec.DeadLetter.Reason) + ")"
	}
	if rec.Err != nil {
		s += fmt.Sprintf(" error: %v", rec.Err)
	}
	return s
}

// payloadJSON returns a record's payload for a message, compacted when it
// is JSON, shortened to a line.
func payloadJSON(rec Record) string { return oneLine(rec.Delivery.Payload) }

// oneLine returns data for a message, compacted when it is JSON, shortened
// to a line.
func oneLine(data []byte) string {
	s := string(data)
	var b bytes.Buffer
	if json.Compact(&b, data) == nil {
		s = b.String()
	}
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// To returns a new Recorder holding a copy of the records so far whose
// Delivery.Destination is destination (a Bus target's ID, a Topic
// subscription's name), for assertions on one destination of a Recorder
// shared by several. Later records do not reach it.
func (r *Recorder) To(destination string) *Recorder {
	out := &Recorder{}
	for _, rec := range r.Deliveries() {
		if rec.Delivery.Destination == destination {
			out.records = append(out.records, rec)
		}
	}
	return out
}
