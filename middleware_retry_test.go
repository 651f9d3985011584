package eda

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flakyHandler fails its first n calls with errHandlerFailed, then succeeds.
type flakyHandler struct {
	n     int32
	calls atomic.Int32
}

func (f *flakyHandler) Handle(context.Context, Delivery) error {
	if f.calls.Add(1) <= f.n {
		return errHandlerFailed
	}
	return nil
}

func TestRetrySucceedsAfterBackoff(t *testing.T) {
	leaktest.Test(t)
	c := clocktest.New(testEpoch)
	p := RetryPolicy{MaxAttempts: 5, MinBackoff: time.Second, MaxBackoff: 3 * time.Second}
	f := &flakyHandler{n: 3}
	h := Retry(p, WithMiddlewareClock(c))(f)

	done := make(chan error, 1)
	go func() { done <- h.Handle(context.Background(), testDelivery("1")) }()
	for i := 1; i <= 3; i++ {
		require.True(t, c.WaitForTimers(1, 5*time.Second), "a pending timer")
		assert.Equal(t, int32(i), f.calls.Load(), "calls before the wait")
		// Fire exactly the pending wait: advancing by the ceiling could
		// also fire the next attempt's wait, drawn within it.
		c.Next()
	}
	require.NoError(t, <-done, "retry")
	assert.Equal(t, int32(4), f.calls.Load(), "calls")

	// The waits were drawn below the ceilings 1s, 2s, 3s (capped).
	waits := c.Requested()
	require.Len(t, waits, 3, "three waits")
	for i, w := range waits {
		ceiling := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}[i]
		assert.True(t, w >= 0 && w < ceiling, "wait within its ceiling")
	}
}

func TestRetryStops(t *testing.T) {
	leaktest.Test(t)
	fast := RetryPolicy{MaxAttempts: 3, MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond}

	t.Run("max attempts", func(t *testing.T) {
		f := &flakyHandler{n: 100}
		err := Retry(fast)(f).Handle(context.Background(), testDelivery("1"))
		var re *RetryError
		require.ErrorAs(t, err, &re, "a *RetryError")
		assert.Equal(t, 3, re.Attempts, "attempts")
		assert.Equal(t, "max-attempts", re.Reason, "reason")
		assert.ErrorIs(t, err, errHandlerFailed, "last error reachable")
		assert.Equal(t, int32(3), f.calls.Load(), "calls")
		assert.Equal(t, "eda: retry gave up after 3 attempts (max-attempts): handler failed", err.Error(), "message")
	})
	t.Run("one attempt", func(t *testing.T) {
		f := &flakyHandler{n: 100}
		err := Retry(RetryPolicy{MaxAttempts: 1})(f).Handle(context.Background(), testDelivery("1"))
		assert.ErrorIs(t, err, errHandlerFailed, "error")
		assert.Equal(t, int32(1), f.calls.Load(), "calls")
	})
	t.Run("permanent", func(t *testing.T) {
		calls := 0
		perm := Permanent(errHandlerFailed)
		h := Retry(fast)(HandlerFunc(func(context.Context, Delivery) error { calls++; return perm }))
		err := h.Handle(context.Background(), testDelivery("1"))
		assert.Equal(t, perm, err, "permanent error returned as it is")
		assert.Equal(t, 1, calls, "calls")
	})
	t.Run("max age", func(t *testing.T) {
		c := clocktest.New(testEpoch)
		f := &flakyHandler{n: 100}
		d := testDelivery("1")
		d.Time = c.Now().Add(-time.Hour) // accepted an hour ago
		p := RetryPolicy{MaxAttempts: 10, MaxAge: time.Hour}
		err := Retry(p, WithMiddlewareClock(c))(f).Handle(context.Background(), d)
		var re *RetryError
		require.ErrorAs(t, err, &re, "a *RetryError")
		assert.Equal(t, "max-age", re.Reason, "reason")
		assert.Equal(t, 1, re.Attempts, "attempts")
		assert.Empty(t, c.Requested(), "no wait")
	})
	t.Run("max age from first attempt", func(t *testing.T) {
		c := clocktest.New(testEpoch)
		var mu sync.Mutex
		var starts []time.Time // the clock's time at each attempt
		f := HandlerFunc(func(context.Context, Delivery) error {
			mu.Lock()
			starts = append(starts, c.Now())
			mu.Unlock()
			return errHandlerFailed
		})
		p := RetryPolicy{MaxAttempts: 100, MaxAge: 3 * time.Second, MinBackoff: time.Second, MaxBackoff: time.Second}
		done := make(chan error, 1)
		go func() {
			done <- Retry(p, WithMiddlewareClock(c))(f).Handle(context.Background(), testDelivery("1"))
		}()
		// Each wait is at most 1s, so attempts continue while the clock
		// stays below 3s past the first. The clock jumps to each wait's end,
		// so that every attempt reads the time it was scheduled for.
		for {
			require.Eventually(t, func() bool { return c.Pending() > 0 || len(done) > 0 },
				5*time.Second, 100*time.Microsecond, "a wait or the result")
			if len(done) > 0 {
				break
			}
			c.Next()
		}
		err := <-done
		var re *RetryError
		require.ErrorAs(t, err, &re, "a *RetryError")
		assert.Equal(t, "max-age", re.Reason, "reason")
		mu.Lock()
		defer mu.Unlock()
		assert.Len(t, starts, re.Attempts, "attempts counted")
		require.NotEmpty(t, starts)
		assert.Equal(t, testEpoch, starts[0], "the age counts from the first attempt")
		for i, at := range starts {
			assert.Less(t, at.Sub(testEpoch), 3*time.Second, "attempt %d starts within the age", i+1)
		}
	})
	t.Run("context ends while waiting", func(t *testing.T) {
		c := clocktest.New(testEpoch)
		f := &flakyHandler{n: 100}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Retry(RetryPolicy{MaxAttempts: 10}, WithMiddlewareClock(c))(f).Handle(ctx, testDelivery("1"))
		}()
		require.True(t, c.WaitForTimers(1, 5*time.Second), "a pending timer")
		cancel()
		err := <-done
		var re *RetryError
		require.ErrorAs(t, err, &re, "a *RetryError")
		assert.Equal(t, "context", re.Reason, "reason")
		assert.ErrorIs(t, err, context.Canceled, "context error reachable")
		assert.ErrorIs(t, err, errHandlerFailed, "handler error reachable")
		assert.Equal(t, 0, c.Pending(), "timer stopped")
		assert.Equal(t, int32(1), f.calls.Load(), "calls")
	})
	t.Run("context ended during attempt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error { calls++; cancel(); return ctx.Err() })
		err := Retry(fast)(h).Handle(ctx, testDelivery("1"))
		assert.ErrorIs(t, err, context.Canceled, "context error")
		assert.Equal(t, 1, calls, "no further attempt")
	})
}

func TestRetryKeepsDelivery(t *testing.T) {
	var seen []Delivery
	h := HandlerFunc(func(_ context.Context, d Delivery) error {
		seen = append(seen, d)
		if len(seen) < 3 {
			return errHandlerFailed
		}
		return nil
	})
	d := testDelivery("x")
	d.Attempt = 7
	p := RetryPolicy{MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond}
	require.NoError(t, Retry(p)(h).Handle(context.Background(), d), "retry")
	for _, s := range seen {
		assert.Equal(t, d, s, "every attempt sees the same delivery")
	}
}

func TestRetryBackoff(t *testing.T) {
	def := normalizedRetryPolicy(RetryPolicy{})
	assert.Equal(t, RetryPolicy{MaxAttempts: 185, MaxAge: 24 * time.Hour, MinBackoff: time.Second, MaxBackoff: 3 * time.Minute}, def, "defaults")
	assert.Equal(t, def, normalizedRetryPolicy(RetryPolicy{MaxAttempts: -1, MaxAge: -1, MinBackoff: -1, MaxBackoff: -1}), "negative means default")
	assert.Equal(t, 5*time.Minute, normalizedRetryPolicy(RetryPolicy{MinBackoff: 5 * time.Minute}).MaxBackoff, "max raised to min")

	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 180, 180}
	for i, w := range want {
		assert.Equal(t, w*time.Second, backoffCeiling(def, i+1), "ceiling")
	}
	assert.Equal(t, 3*time.Minute, backoffCeiling(def, 185), "ceiling at the last attempt")
	assert.Equal(t, 3*time.Minute, backoffCeiling(def, math.MaxInt), "ceiling at a huge attempt")

	huge := normalizedRetryPolicy(RetryPolicy{MinBackoff: math.MaxInt64 / 3, MaxBackoff: math.MaxInt64})
	assert.Equal(t, time.Duration(math.MaxInt64), backoffCeiling(huge, 3), "no overflow")
	assert.GreaterOrEqual(t, jitteredBackoff(huge, 10), time.Duration(0), "non-negative draw")

	// Full jitter: draws cover [0, ceiling].
	below, above := 0, 0
	for range 1000 {
		w := jitteredBackoff(def, 4)
		require.True(t, w >= 0 && w <= 8*time.Second, "draw within [0, 8s]")
		if w < 4*time.Second {
			below++
		} else {
			above++
		}
	}
	assert.True(t, below > 100 && above > 100, "draws spread over the range")
}

func TestRetryConcurrent(t *testing.T) {
	leaktest.Test(t)
	p := RetryPolicy{MaxAttempts: 60, MinBackoff: time.Microsecond, MaxBackoff: 10 * time.Microsecond}
	var calls atomic.Int64
	h := Retry(p)(HandlerFunc(func(context.Context, Delivery) error {
		calls.Add(1)
		if rand.IntN(2) == 0 {
			return errHandlerFailed
		}
		return nil
	}))
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 32 {
		wg.Go(func() {
			for range 20 {
				if h.Handle(context.Background(), testDelivery(string(rune('a'+i)))) != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(0), failed.Load(), "every delivery succeeds within 60 attempts")
	assert.Greater(t, calls.Load(), int64(32*20), "some deliveries were retried")
}
