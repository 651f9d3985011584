package edatest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/edakit/eda/internal/leaktest"
)

// Router is what Settle waits on: an [*eda.Bus] or an [*eda.Topic].
type Router interface {
	Name() string
	Drain(ctx context.Context) error
	Close(ctx context.Context) error
}

var (
	_ Router = (*eda.Bus)(nil)
	_ Router = (*eda.Topic)(nil)
)

// RetryPolicy returns the retry policy that [NewBus] and [NewTopic] give
// their destinations unless the test gives one: three attempts, with a
// backoff of at most 10 milliseconds (on the router's clock), so that a
// failing handler ends in a dead letter in milliseconds instead of 185
// attempts over 24 hours.
func RetryPolicy() eda.RetryPolicy {
	return eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}
}

// DefaultTimeout bounds the waits of edatest (WaitFor, WaitUntil,
// WaitForTimers, Settle and the Close at cleanup) in a test without a
// deadline; with one, they end shortly before it, so that their failure is
// reported before the test binary times out.
const DefaultTimeout = time.Minute

// deadline returns when the waits of t end: a little before t's deadline
// (a tenth of the time left, at most 5 seconds), or DefaultTimeout from
// now when t has none — or is in a testing/synctest bubble, whose
// Deadline panics, and whose time is not the deadline's.
func deadline(t testing.TB) time.Time {
	now := time.Now()
	if end, ok := testDeadline(t); ok {
		return end.Add(-min(end.Sub(now)/10, 5*time.Second))
	}
	return now.Add(DefaultTimeout)
}

// testDeadline returns t's deadline, if it has one it can tell.
func testDeadline(t testing.TB) (end time.Time, ok bool) {
	d, has := t.(interface{ Deadline() (time.Time, bool) })
	if !has {
		return time.Time{}, false
	}
	defer func() {
		if recover() != nil { // inside a synctest bubble
			end, ok = time.Time{}, false
		}
	}()
	return d.Deadline()
}

// open counts the routers of NewBus and NewTopic not yet closed: the
// goroutine leak check runs only when none is, since the goroutines of a
// parallel test's router would count as leaks.
var open struct {
	sync.Mutex
	n int
}

// NewBus returns a Bus named "default" for the test t, with test-safe
// defaults that opts may override: the retry policy [RetryPolicy], and a
// logger ([eda.WithLogger]) that writes to t.Log until the bus is closed,
// so that failed attempts show with the test that caused them. When the
// test ends, a cleanup closes the bus (by the test's deadline) and fails
// the test if events were still in flight — naming each destination that
// held them and its last error, which is how a failing assertion inside a
// handler shows — if a handler panicked or called runtime.Goexit (unless
// the test called [AllowPanics]), and then if goroutines of eda are still
// running (a check skipped while a router of another test of edatest is
// open, as in parallel tests, whose goroutines it cannot tell apart). A
// bad option fails the test at once. The bus tracks each event put on it
// ([eda.WithEventTracking]), so that [SettleEvent] can wait for one event.
func NewBus(t testing.TB, opts ...eda.Option) *eda.Bus {
	t.Helper()
	return newRouter(t, func(defaults ...eda.Option) (*eda.Bus, error) {
		defaults = append(defaults, eda.WithEventTracking())
		return eda.NewBus("default", append(defaults, opts...)...)
	})
}

// NewTopic returns a Topic named name for the test t, with the test-safe
// defaults and the cleanup of [NewBus]. A FIFO topic's name ends in
// ".fifo". A bad name or option fails the test at once. The topic tracks
// each message published to it ([eda.WithEventTracking]), so that
// [SettleMessage] can wait for one message.
func NewTopic(t testing.TB, name string, opts ...eda.Option) *eda.Topic {
	t.Helper()
	return newRouter(t, func(defaults ...eda.Option) (*eda.Topic, error) {
		defaults = append(defaults, eda.WithEventTracking())
		return eda.NewTopic(name, append(defaults, opts...)...)
	})
}

// newRouter creates a router with create, given the test-safe defaults
// (which the test's options, after them, override), and registers its
// cleanup.
func newRouter[R Router](t testing.TB, create func(defaults ...eda.Option) (R, error)) R {
	t.Helper()
	open.Lock()
	first := open.n == 0
	open.Unlock()
	if first {
		leakCheck(t)
	}
	watch := &panicWatch{}
	log := &testLog{t: t}
	r, err := create(eda.WithRetryPolicy(RetryPolicy()), eda.WithMiddleware(watch.middleware),
		eda.WithLogger(slog.New(slog.NewTextHandler(log, nil))))
	if err != nil {
		t.Fatalf("edatest: %v", err)
		return r
	}
	open.Lock()
	open.n++
	open.Unlock()
	t.Cleanup(func() {
		defer func() {
			open.Lock()
			open.n--
			open.Unlock()
		}()
		ctx, cancel := testContext(t)
		defer cancel()
		err := r.Close(ctx)
		log.stop()
		if err != nil {
			t.Errorf("edatest: closing %s at the end of the test: %s", r.Name(), describeBacklog(err))
		}
		watch.report(t, r.Name())
	})
	return r
}

// leakCheck registers the goroutine leak check of leaktest.Test, to run
// after the cleanups registered later, when no other router of edatest is
// open then.
func leakCheck(t testing.TB) {
	t.Helper()
	leaktest.TestIf(t, func() bool {
		open.Lock()
		defer open.Unlock()
		return open.n == 0
	})
}

// Settle lets everything in flight on the routers finish: every event or
// message accepted before the call, every retry and every cascade it
// caused, delivered or dead-lettered. Most flow tests need no other
// waiting: publish, settle, assert. It fails the test, naming the
// destinations still holding events and their last errors, if that has
// not happened by the test's deadline. With a manual fake clock, use
// [Clock.Settle], which moves the clock through pending retries.
func Settle(t testing.TB, routers ...Router) bool {
	t.Helper()
	ctx, cancel := testContext(t)
	defer cancel()
	if err := drainAll(ctx, routers); err != nil {
		t.Fatalf("edatest: Settle: %s", describeBacklog(err))
		return false
	}
	return true
}

// SettleEvent lets one event finish: the event put on bus with the given
// id (the EventID of its PutEvents result), every copy of it that a target
// accepted, every retry, and every event or message its handlers put in
// turn, on any bus or topic, delivered or dead-lettered. Unlike [Settle],
// it does not wait for other events, so a test of one request is not held
// up by unrelated traffic, nor by a handler that blocks on another event.
// The bus must track events, as those of [NewBus] do
// ([eda.WithEventTracking]). It fails the test if the id is unknown to the
// bus, or if the event has not settled by the test's deadline. With a
// manual fake clock, use [Clock.SettleEvent], which moves the clock through
// pending retries.
func SettleEvent(t testing.TB, bus *eda.Bus, id string) bool {
	t.Helper()
	return settleOne(t, "SettleEvent", func(ctx context.Context) error { return bus.WaitEvent(ctx, id) })
}

// SettleMessage lets one message finish, as [SettleEvent] does for an
// event: the message published to topic with the given id (the MessageID
// of its Publish result; a FIFO duplicate's is the original's), every copy
// of it that a subscription accepted, every retry, and every event or
// message its handlers put in turn, on any bus or topic, delivered or
// dead-lettered — whatever else is in flight. The topic must track
// messages, as those of [NewTopic] do ([eda.WithEventTracking]). It fails
// the test if the id is unknown to the topic, or if the message has not
// settled by the test's deadline. With a manual fake clock, use
// [Clock.SettleMessage], which moves the clock through pending retries.
func SettleMessage(t testing.TB, topic *eda.Topic, id string) bool {
	t.Helper()
	return settleOne(t, "SettleMessage", func(ctx context.Context) error { return topic.WaitMessage(ctx, id) })
}

// settleOne runs wait, one event's or message's, with a context that ends
// at the test's deadline, and reports its error as the failure of the
// named function.
func settleOne(t testing.TB, function string, wait func(context.Context) error) bool {
	t.Helper()
	ctx, cancel := testContext(t)
	defer cancel()
	if err := wait(ctx); err != nil {
		t.Fatalf("edatest: %s: %v", function, err)
		return false
	}
	return true
}

// drainAll drains the routers in turn, until none has anything in flight:
// a cascade from one to another that is already drained is waited for by
// draining them all again.
func drainAll(ctx context.Context, routers []Router) error {
	for _, r := range routers {
		if err := r.Drain(ctx); err != nil {
			return fmt.Errorf("%s: %w", r.Name(), err)
		}
	}
	if len(routers) < 2 {
		return nil
	}
	for _, r := range routers {
		if err := r.Drain(ctx); err != nil {
			return fmt.Errorf("%s: %w", r.Name(), err)
		}
	}
	return nil
}

// describeBacklog describes an error of Drain or Close, listing every
// destination that still held events, with its last error.
func describeBacklog(err error) string {
	var list []eda.DestinationBacklog
	var inner error
	var de *eda.DrainError
	var se *eda.ShutdownError
	switch {
	case errors.As(err, &de):
		list, inner = de.Destinations, de
	case errors.As(err, &se):
		list, inner = se.Destinations, se
	}
	if len(list) == 0 {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(err.Error(), inner.Error())) // the router's name, if wrapped
	b.WriteString("events still in flight at the deadline:")
	for _, d := range list {
		fmt.Fprintf(&b, "\n  %s: %d in flight", d.Destination, d.InFlight)
		if d.LastErr != nil {
			fmt.Fprintf(&b, ", last error: %v", d.LastErr)
		}
	}
	if se != nil {
		fmt.Fprintf(&b, "\n  (%d dead-lettered at shutdown, %d abandoned in handlers)", se.DeadLettered, se.Abandoned)
	}
	return b.String()
}

// testLog is the writer of a router's logger: it passes each line to t.Log
// until stop is called, after which — the test may have ended, and t.Log
// would panic — it drops them.
type testLog struct {
	t       testing.TB
	mu      sync.Mutex
	stopped bool
}

// Write logs one record of the logger's text handler, which writes each in
// one call.
func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// stop makes Write drop what it is given.
func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}
