package eda

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingHandler counts its calls.
type countingHandler struct{ n atomic.Int64 }

func (c *countingHandler) Handle(context.Context, Delivery) error { c.n.Add(1); return nil }

func TestRateLimitBurstThenWait(t *testing.T) {
	leaktest.Test(t)
	c := clocktest.New(testEpoch)
	var n countingHandler
	h := RateLimit(1, 3, WithMiddlewareClock(c))(&n)
	ctx := context.Background()
	for range 3 {
		require.NoError(t, h.Handle(ctx, testDelivery("1")), "burst")
	}
	assert.Empty(t, c.Requested(), "the burst does not wait")

	done := make(chan error, 1)
	go func() { done <- h.Handle(ctx, testDelivery("1")) }()
	require.True(t, c.WaitForTimers(1, 5*time.Second), "a pending timer")
	assert.Equal(t, []time.Duration{time.Second}, c.Requested(), "one token's time")
	assert.Equal(t, int64(3), n.n.Load(), "fourth call waits")
	c.Advance(999 * time.Millisecond)
	assert.Equal(t, int64(3), n.n.Load(), "still waiting")
	c.Advance(time.Millisecond)
	require.NoError(t, <-done, "fourth call")
	assert.Equal(t, int64(4), n.n.Load(), "fourth call ran")
}

func TestRateLimitRefillCapsAtBurst(t *testing.T) {
	c := clocktest.New(testEpoch)
	var n countingHandler
	h := RateLimit(10, 2, WithMiddlewareClock(c))(&n)
	ctx := context.Background()
	require.NoError(t, h.Handle(ctx, testDelivery("1")), "first")
	c.Advance(time.Hour)
	require.NoError(t, h.Handle(ctx, testDelivery("1")), "second")
	require.NoError(t, h.Handle(ctx, testDelivery("1")), "third")
	assert.Empty(t, c.Requested(), "two tokens after a long pause")

	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	// The fourth needs a token the bucket no longer has: it would wait.
	assert.ErrorIs(t, h.Handle(ctx2, testDelivery("1")), context.Canceled, "ended context")
}

func TestRateLimitOrderAndSpacing(t *testing.T) {
	leaktest.Test(t)
	c := clocktest.New(testEpoch)
	var n countingHandler
	h := RateLimit(10, 1, WithMiddlewareClock(c))(&n)
	const callers = 5
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() { _ = h.Handle(context.Background(), testDelivery("1")) })
	}
	require.Eventually(t, func() bool { return n.n.Load()+int64(c.Pending()) == callers }, 5*time.Second, time.Millisecond, "callers to reserve")
	for i := 1; i < callers; i++ {
		assert.Equal(t, int64(i), n.n.Load(), "calls before the next 100ms")
		c.Advance(100 * time.Millisecond)
		require.Eventually(t, func() bool { return n.n.Load() == int64(i+1) }, 5*time.Second, time.Millisecond, "next call")
	}
	wg.Wait()
	req := c.Requested()
	assert.Equal(t, callers-1, len(req), "waits")
	seen := map[time.Duration]bool{}
	for _, w := range req {
		seen[w] = true
	}
	for i := 1; i < callers; i++ {
		assert.True(t, seen[time.Duration(i)*100*time.Millisecond], "waits are spaced 100ms apart")
	}
}

func TestRateLimitCancelWhileWaiting(t *testing.T) {
	leaktest.Test(t)
	c := clocktest.New(testEpoch)
	var n countingHandler
	h := RateLimit(1, 1, WithMiddlewareClock(c))(&n)
	require.NoError(t, h.Handle(context.Background(), testDelivery("1")), "first")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Handle(ctx, testDelivery("1")) }()
	require.True(t, c.WaitForTimers(1, 5*time.Second), "a pending timer")
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled, "context error")
	assert.Equal(t, int64(1), n.n.Load(), "handler not called")
	assert.Equal(t, 0, c.Pending(), "timer stopped")

	// The abandoned token was given back: one second later a token is free.
	c.Advance(time.Second)
	require.NoError(t, h.Handle(context.Background(), testDelivery("1")), "third")
	assert.Len(t, c.Requested(), 1, "the third call did not wait")
}

func TestRateLimitDisabled(t *testing.T) {
	for _, rate := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		c := clocktest.New(testEpoch)
		var n countingHandler
		h := RateLimit(rate, 0, WithMiddlewareClock(c))(&n)
		for range 100 {
			require.NoError(t, h.Handle(context.Background(), testDelivery("1")), "call")
		}
		assert.Equal(t, int64(100), n.n.Load(), "calls")
		assert.Empty(t, c.Requested(), "no waits")
	}
}

func TestRateLimitZeroBurstIsOne(t *testing.T) {
	c := clocktest.New(testEpoch)
	var n countingHandler
	h := RateLimit(1, 0, WithMiddlewareClock(c))(&n)
	require.NoError(t, h.Handle(context.Background(), testDelivery("1")), "first")
	assert.Empty(t, c.Requested(), "a burst of one")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Handle(ctx, testDelivery("1")) }()
	require.True(t, c.WaitForTimers(1, 5*time.Second), "a pending timer")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "second waits")
}

func TestRateLimitTinyRate(t *testing.T) {
	c := clocktest.New(testEpoch)
	b := &tokenBucket{clock: c, rate: 1e-300, burst: 1}
	assert.Equal(t, time.Duration(0), b.reserve(), "first token")
	assert.Equal(t, time.Duration(math.MaxInt64), b.reserve(), "wait saturates instead of overflowing")
}

func TestRateLimitConcurrentRealClock(t *testing.T) {
	leaktest.Test(t)
	var n countingHandler
	h := RateLimit(2000, 10)(&n)
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for range 10 {
				_ = h.Handle(context.Background(), testDelivery("1"))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(80), n.n.Load(), "every call ran")
	// 80 calls at 2000/s with a burst of 10 take at least 35ms.
	assert.GreaterOrEqual(t, time.Since(start), 34*time.Millisecond, "the limit held")
}
