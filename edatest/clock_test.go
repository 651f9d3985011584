package edatest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestClockManual(t *testing.T) {
	clk := NewClock(epoch)
	require.Equal(t, epoch, clk.Now())
	var order []string
	var at []time.Time
	add := func(name string, d time.Duration) eda.Timer {
		return clk.AfterFunc(d, func() { order = append(order, name); at = append(at, clk.Now()) })
	}
	add("b", 2*time.Second)
	add("a", time.Second)
	add("a2", time.Second)
	stopped := add("never", 1500*time.Millisecond)
	require.Equal(t, 4, clk.Pending())
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop(), "a second Stop finds it stopped")

	clk.Advance(time.Second)
	assert.Equal(t, []string{"a", "a2"}, order, "due timers in time order, ties in call order")
	assert.Equal(t, []time.Time{epoch.Add(time.Second), epoch.Add(time.Second)}, at, "a timer reads its due time")
	clk.Set(epoch) // backwards: no effect
	assert.Equal(t, epoch.Add(time.Second), clk.Now())
	clk.Set(epoch.Add(time.Hour))
	assert.Equal(t, []string{"a", "a2", "b"}, order)
	assert.Equal(t, epoch.Add(time.Hour), clk.Now())
	assert.Equal(t, 0, clk.Pending())

	// A timer scheduled by a callback runs in the same Advance if due.
	clk.AfterFunc(time.Second, func() { clk.AfterFunc(time.Second, func() { order = append(order, "chained") }) })
	clk.Advance(2 * time.Second)
	assert.Equal(t, "chained", order[len(order)-1])
	fired := clk.AfterFunc(0, func() {})
	clk.Advance(0)
	assert.False(t, fired.Stop(), "a fired timer does not stop")
}

func TestClockAuto(t *testing.T) {
	clk := NewClock(epoch)
	var wg sync.WaitGroup
	wg.Add(2)
	clk.AfterFunc(time.Hour, wg.Done)
	clk.SetAuto(true)
	clk.AfterFunc(24*time.Hour, wg.Done)
	wg.Wait() // both fired without moving the time
	assert.Equal(t, epoch, clk.Now())
	assert.Equal(t, 0, clk.Pending())
	clk.SetAuto(false)
	clk.AfterFunc(time.Second, func() {})
	assert.Equal(t, 1, clk.Pending())
}

// failTimes returns a handler that fails its first n attempts.
func failTimes(n int32) eda.Handler {
	var calls atomic.Int32
	return eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		if calls.Add(1) <= n {
			return errors.New("not yet")
		}
		return nil
	})
}

// putRule puts a rule on bus sending every event of source "test" to
// target "t".
func putRule(t *testing.T, bus *eda.Bus, h eda.Handler, opts ...eda.Option) {
	t.Helper()
	require.NoError(t, bus.PutRule(eda.Rule{Name: "r", EventPattern: `{"source": ["test"]}`,
		Targets: []eda.Target{eda.HandlerTarget("t", h, opts...)}}))
}

// put puts one event of source "test" with the given detail.
func put(t *testing.T, bus *eda.Bus, detail string) {
	t.Helper()
	res, err := bus.PutEvents(context.Background(), eda.Event{Source: "test", DetailType: "T", Detail: json.RawMessage(detail)})
	require.NoError(t, err)
	require.NoError(t, res.Err())
}

// A retry with a long backoff runs when the test moves the clock, and not
// before.
func TestClockDrivesRetries(t *testing.T) {
	clk := NewClock(epoch)
	bus := NewBus(t, eda.WithClock(clk),
		eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	rec := NewRecorder()
	putRule(t, bus, rec.Wrap(failTimes(1)))
	put(t, bus, `{"n":1}`)
	rec.WaitFor(t, 1)
	clk.WaitForTimers(t, 1)
	assert.Equal(t, 1, rec.Len(), "the retry waits for the clock")
	clk.Advance(time.Hour)
	rec.WaitFor(t, 2)
	last, _ := rec.Last()
	assert.Equal(t, 2, last.Delivery.Attempt)
	assert.NoError(t, last.Err)
	Settle(t, bus)
}

func TestClockSettleMovesThroughRetries(t *testing.T) {
	clk := NewClock(epoch)
	dead := NewRecorder()
	bus := NewBus(t, eda.WithClock(clk), eda.WithDeadLetter(dead),
		eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Minute, MaxBackoff: time.Minute}))
	rec := NewRecorder()
	putRule(t, bus, rec.Wrap(failTimes(100)))
	put(t, bus, `{"n":1}`)
	require.True(t, clk.Settle(t, time.Hour, bus))
	assert.Equal(t, 4, rec.Len(), "every attempt ran")
	require.Equal(t, 1, dead.Len())
	assert.Equal(t, eda.ReasonMaxAttempts, dead.Deliveries()[0].DeadLetter.Reason)
	assert.False(t, clk.Now().After(epoch.Add(time.Hour)), "the clock stays within the bound")
}

// The failing side: Settle on a clock whose retries lie beyond its bound
// reports what is in flight; WaitForTimers reports a timer that never
// comes.
func TestClockFailures(t *testing.T) {
	clk := NewClock(epoch)
	bus := NewBus(t, eda.WithClock(clk),
		eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	putRule(t, bus, failTimes(1))
	put(t, bus, `{"n":1}`)

	ft := newFakeTB(t, 300*time.Millisecond)
	assert.False(t, clk.Settle(ft, time.Nanosecond, bus))
	assert.Contains(t, ft.reported(), "edatest: Settle: default: events still in flight at the deadline:\n  default/r/t: 1 in flight, last error: not yet")
	assert.Contains(t, ft.reported(), "(1 timers pending beyond")

	ft = newFakeTB(t, 100*time.Millisecond)
	assert.False(t, clk.WaitForTimers(ft, 2))
	assert.Equal(t, "edatest: waited for 2 pending timers, 1 pending at the deadline", ft.reported())
	clk.Settle(t, 2*time.Hour, bus)
}

// The clock drives middleware windows too, through eda.WithMiddlewareClock.
func TestClockDrivesMiddlewareWindows(t *testing.T) {
	clk := NewClock(epoch)
	rec := NewRecorder()
	h := eda.Deduplicate(time.Hour, eda.WithMiddlewareClock(clk))(rec)
	d := eda.Delivery{ID: "e-1", Router: "bus", Rule: "r", Destination: "t", Attempt: 1}
	ctx := context.Background()
	require.NoError(t, h.Handle(ctx, d))
	require.NoError(t, h.Handle(ctx, d))
	assert.Equal(t, 1, rec.Len(), "a duplicate within the window is skipped")
	clk.Advance(time.Hour + time.Second)
	require.NoError(t, h.Handle(ctx, d))
	assert.Equal(t, 2, rec.Len(), "after the window it is handled again")
}
