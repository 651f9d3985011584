package edatest

import (
	"context"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/edakit/eda/internal/clocktest"
)

// Clock is a fake [eda.Clock] for tests: time moves only when the test
// moves it, with [Clock.Advance] or [Clock.Set], which run the timers that
// fall due on the calling goroutine; or, in auto mode ([Clock.SetAuto]),
// every timer fires at once. Give it to a Bus or Topic with [eda.WithClock]
// (NewBus(t, eda.WithClock(clk))), and to middleware with
// [eda.WithMiddlewareClock], and retries, backoff, maximum event age,
// de-duplication and batching windows, rate limits and circuit breakers
// run instantly and deterministically. Its methods may be called
// concurrently.
type Clock struct {
	c *clocktest.Clock
}

var _ eda.Clock = (*Clock)(nil)

// NewClock returns a fake clock reading start, in manual mode: its timers
// fire only when Advance or Set moves the time to them.
func NewClock(start time.Time) *Clock { return &Clock{c: clocktest.New(start)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.c.Now() }

// AfterFunc schedules f to run d after the clock's time: in manual mode
// when the time is moved to it, in auto mode at once, on a goroutine of its
// own. f never runs inside AfterFunc.
func (c *Clock) AfterFunc(d time.Duration, f func()) eda.Timer { return c.c.AfterFunc(d, f) }

// SetAuto switches auto mode on or off. In auto mode every timer fires at
// once, on a goroutine of its own, whatever its duration, and the time
// stands still unless Advance or Set moves it: retries take no time.
// Switching it on fires the pending timers.
func (c *Clock) SetAuto(on bool) { c.c.SetInstant(on) }

// Advance moves the time forward by d and runs every timer that falls due,
// in time order, on the calling goroutine (see [Clock.Set]).
func (c *Clock) Advance(d time.Duration) { c.c.Advance(d) }

// Set moves the time to t and runs every timer due by then, in time order
// (those due at the same time in the order they were scheduled), on the
// calling goroutine; while a timer runs, the clock reads its due time.
// Timers that the callbacks schedule run too if they fall due by t. The
// time never moves backwards: a t before the clock's time runs no timer.
func (c *Clock) Set(t time.Time) { c.c.Set(t) }

// Pending returns how many timers wait to fire.
func (c *Clock) Pending() int { return c.c.Pending() }

// WaitForTimers waits until at least n timers are pending — for instance
// the backoff of a retry, scheduled on a worker's goroutine after a failed
// attempt — and then returns, so that Advance reaches them. It wakes when
// a timer is scheduled, without polling, and fails the test if the timers
// are not there by the test's deadline (see [Recorder.WaitFor]).
func (c *Clock) WaitForTimers(t testing.TB, n int) bool {
	t.Helper()
	ctx, cancel := testContext(t)
	defer cancel()
	for {
		have, changed := c.c.Scheduled()
		if have >= n {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("edatest: waited for %d pending timers, %d pending at the deadline", n, have)
			return false
		}
	}
}

// Settle lets everything in flight on the routers finish, as [Settle]
// does, while moving the clock through the timers that fall due within the
// given span of its current time: pending retries and windows fire in time
// order, each as soon as it is scheduled, until every router has drained.
// Timers due later stay pending. It fails the test, naming what is still
// in flight, if the routers have not drained by the test's deadline.
func (c *Clock) Settle(t testing.TB, within time.Duration, routers ...Router) bool {
	t.Helper()
	return c.settleOne(t, "Settle", within, func(ctx context.Context) error { return drainAll(ctx, routers) })
}

// SettleEvent lets one event finish, as [SettleEvent] does, while moving
// the clock through the timers that fall due within the given span of its
// current time, as [Clock.Settle] does: the event's retries fire as soon as
// they are scheduled (and so do other timers due in the span), but unlike
// Clock.Settle it returns once that one event has settled, whatever else is
// in flight. It fails the test if the id is unknown to the bus, or if the
// event has not settled by the test's deadline.
func (c *Clock) SettleEvent(t testing.TB, within time.Duration, bus *eda.Bus, id string) bool {
	t.Helper()
	return c.settleOne(t, "SettleEvent", within, func(ctx context.Context) error { return bus.WaitEvent(ctx, id) })
}

// SettleMessage lets one message finish, as [SettleMessage] does, while
// moving the clock through the timers that fall due within the given span
// of its current time, as [Clock.SettleEvent] does for an event: it
// returns once that one message, and everything it caused, has settled,
// whatever else is in flight. It fails the test if the id is unknown to
// the topic, or if the message has not settled by the test's deadline.
func (c *Clock) SettleMessage(t testing.TB, within time.Duration, topic *eda.Topic, id string) bool {
	t.Helper()
	return c.settleOne(t, "SettleMessage", within, func(ctx context.Context) error { return topic.WaitMessage(ctx, id) })
}

// settleOne runs wait, with a context that ends at the test's deadline,
// on a goroutine of its own while moving the clock through the timers that
// fall due within the span, and reports its error as the failure of the
// named method.
func (c *Clock) settleOne(t testing.TB, method string, within time.Duration, wait func(context.Context) error) bool {
	t.Helper()
	ctx, cancel := testContext(t)
	defer cancel()
	limit := c.Now().Add(within)
	done := make(chan error, 1)
	go func() { done <- wait(ctx) }()
	for {
		_, changed := c.c.Scheduled()
		for c.c.FireBy(limit) {
		}
		select {
		case err := <-done:
			if err == nil {
				return true
			}
			t.Fatalf("edatest: %s: %s (%d timers pending beyond %s)", method, describeBacklog(err), c.Pending(), limit.Format(time.RFC3339Nano))
			return false
		case <-changed:
		}
	}
}

// testContext returns a context that ends at the test's deadline (see
// [Recorder.WaitFor]).
func testContext(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), deadline(t))
}
