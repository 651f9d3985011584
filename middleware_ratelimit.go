package eda

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// RateLimit returns middleware that lets at most rate calls per second
// through to each handler it wraps, with bursts of up to burst calls: a
// token bucket that holds burst tokens, starts full and refills at rate
// tokens per second.
//
// RateLimit delays, it never drops: a call that finds no token waits for
// its turn (calls are served in the order they arrive) and then runs the
// handler. If ctx ends while it waits, the call gives its token back and
// returns an error wrapping ctx's error, so the engine retries the delivery
// later; the handler is not called. While a call waits it holds its worker.
//
// A rate of zero or less, NaN or +Inf disables limiting; a burst below one
// is taken as one. Every wrapped handler has its own bucket, shared by all
// concurrent calls of that handler. Options: [WithMiddlewareClock].
func RateLimit(rate float64, burst int, opts ...MiddlewareOption) Middleware {
	cfg, err := configure("RateLimit", opts)
	if err != nil {
		return invalid(err)
	}
	return func(next Handler) Handler {
		if !(rate > 0) || math.IsInf(rate, 1) {
			return next
		}
		b := &tokenBucket{clock: cfg.clock, rate: rate, burst: float64(max(burst, 1))}
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			if err := b.wait(ctx); err != nil {
				return err
			}
			return next.Handle(ctx, d)
		})
	}
}

// tokenBucket is a token bucket. tokens may go negative: a negative balance is
// the debt of calls already promised a later start, which is what queues
// them in arrival order.
type tokenBucket struct {
	clock Clock
	rate  float64 // tokens per second
	burst float64

	mu      sync.Mutex
	started bool
	tokens  float64
	last    time.Time
}

// reserve takes a token and says how long the caller must wait before using it.
func (b *tokenBucket) reserve() time.Duration {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		b.started, b.tokens, b.last = true, b.burst, now
	} else if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	wait := math.Ceil(-b.tokens / b.rate * float64(time.Second))
	if wait >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(wait)
}

// unreserve gives back a token taken by reserve that will not be used.
func (b *tokenBucket) unreserve() {
	b.mu.Lock()
	b.tokens = min(b.burst, b.tokens+1)
	b.mu.Unlock()
}

// wait blocks until the caller may proceed or ctx ends.
func (b *tokenBucket) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("eda: rate limit: %w", err)
	}
	d := b.reserve()
	if d == 0 {
		return nil
	}
	if err := clockSleep(ctx, b.clock, d); err != nil {
		b.unreserve()
		return fmt.Errorf("eda: rate limit: %w", err)
	}
	return nil
}
