package eda

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mwCounter counts its calls.
type mwCounter struct{ n atomic.Int64 }

func (c *mwCounter) Handle(context.Context, Delivery) error { c.n.Add(1); return nil }

func TestRateLimitBurstThenWait(t *testing.T) {
	mwCheckNoLeak(t)
	c := newMWFakeClock()
	var n mwCounter
	h := RateLimit(1, 3, WithMiddlewareClock(c))(&n)
	ctx := context.Background()
	for range 3 {
		mwNoErr(t, h.Handle(ctx, mwTestDelivery("1")), "burst")
	}
	mwEqual(t, 0, len(c.Requested()), "the burst does not wait")

	done := make(chan error, 1)
	go func() { done <- h.Handle(ctx, mwTestDelivery("1")) }()
	mwWaitPending(t, c, 1)
	mwEqual(t, []time.Duration{time.Second}, c.Requested(), "one token's time")
	mwEqual(t, int64(3), n.n.Load(), "fourth call waits")
	c.Advance(999 * time.Millisecond)
	mwEqual(t, int64(3), n.n.Load(), "still waiting")
	c.Advance(time.Millisecond)
	mwNoErr(t, <-done, "fourth call")
	mwEqual(t, int64(4), n.n.Load(), "fourth call ran")
}

func TestRateLimitRefillCapsAtBurst(t *testing.T) {
	c := newMWFakeClock()
	var n mwCounter
	h := RateLimit(10, 2, WithMiddlewareClock(c))(&n)
	ctx := context.Background()
	mwNoErr(t, h.Handle(ctx, mwTestDelivery("1")), "first")
	c.Advance(time.Hour)
	mwNoErr(t, h.Handle(ctx, mwTestDelivery("1")), "second")
	mwNoErr(t, h.Handle(ctx, mwTestDelivery("1")), "third")
	mwEqual(t, 0, len(c.Requested()), "two tokens after a long pause")

	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	// The fourth needs a token the bucket no longer has: it would wait.
	mwErrIs(t, h.Handle(ctx2, mwTestDelivery("1")), context.Canceled, "ended context")
}

func TestRateLimitOrderAndSpacing(t *testing.T) {
	mwCheckNoLeak(t)
	c := newMWFakeClock()
	var n mwCounter
	h := RateLimit(10, 1, WithMiddlewareClock(c))(&n)
	const callers = 5
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() { _ = h.Handle(context.Background(), mwTestDelivery("1")) })
	}
	mwWaitFor(t, "callers to reserve", func() bool { return n.n.Load()+int64(c.Pending()) == callers })
	for i := 1; i < callers; i++ {
		mwEqual(t, int64(i), n.n.Load(), "calls before the next 100ms")
		c.Advance(100 * time.Millisecond)
		mwWaitFor(t, "next call", func() bool { return n.n.Load() == int64(i+1) })
	}
	wg.Wait()
	req := c.Requested()
	mwEqual(t, callers-1, len(req), "waits")
	seen := map[time.Duration]bool{}
	for _, w := range req {
		seen[w] = true
	}
	for i := 1; i < callers; i++ {
		mwTrue(t, seen[time.Duration(i)*100*time.Millisecond], "waits are spaced 100ms apart")
	}
}

func TestRateLimitCancelWhileWaiting(t *testing.T) {
	mwCheckNoLeak(t)
	c := newMWFakeClock()
	var n mwCounter
	h := RateLimit(1, 1, WithMiddlewareClock(c))(&n)
	mwNoErr(t, h.Handle(context.Background(), mwTestDelivery("1")), "first")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Handle(ctx, mwTestDelivery("1")) }()
	mwWaitPending(t, c, 1)
	cancel()
	err := <-done
	mwErrIs(t, err, context.Canceled, "context error")
	mwEqual(t, int64(1), n.n.Load(), "handler not called")
	mwEqual(t, 0, c.Pending(), "timer stopped")

	// The abandoned token was given back: one second later a token is free.
	c.Advance(time.Second)
	mwNoErr(t, h.Handle(context.Background(), mwTestDelivery("1")), "third")
	mwEqual(t, 1, len(c.Requested()), "the third call did not wait")
}

func TestRateLimitDisabled(t *testing.T) {
	for _, rate := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		c := newMWFakeClock()
		var n mwCounter
		h := RateLimit(rate, 0, WithMiddlewareClock(c))(&n)
		for range 100 {
			mwNoErr(t, h.Handle(context.Background(), mwTestDelivery("1")), "call")
		}
		mwEqual(t, int64(100), n.n.Load(), "calls")
		mwEqual(t, 0, len(c.Requested()), "no waits")
	}
}

func TestRateLimitZeroBurstIsOne(t *testing.T) {
	c := newMWFakeClock()
	var n mwCounter
	h := RateLimit(1, 0, WithMiddlewareClock(c))(&n)
	mwNoErr(t, h.Handle(context.Background(), mwTestDelivery("1")), "first")
	mwEqual(t, 0, len(c.Requested()), "a burst of one")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Handle(ctx, mwTestDelivery("1")) }()
	mwWaitPending(t, c, 1)
	cancel()
	mwErrIs(t, <-done, context.Canceled, "second waits")
}

func TestRateLimitTinyRate(t *testing.T) {
	c := newMWFakeClock()
	b := &mwBucket{clock: c, rate: 1e-300, burst: 1}
	mwEqual(t, time.Duration(0), b.reserve(), "first token")
	mwEqual(t, time.Duration(math.MaxInt64), b.reserve(), "wait saturates instead of overflowing")
}

func TestRateLimitConcurrentRealClock(t *testing.T) {
	mwCheckNoLeak(t)
	var n mwCounter
	h := RateLimit(2000, 10)(&n)
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for range 10 {
				_ = h.Handle(context.Background(), mwTestDelivery("1"))
			}
		})
	}
	wg.Wait()
	mwEqual(t, int64(80), n.n.Load(), "every call ran")
	// 80 calls at 2000/s with a burst of 10 take at least 35ms.
	mwTrue(t, time.Since(start) >= 34*time.Millisecond, "the limit held")
}
