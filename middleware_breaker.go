package eda

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrCircuitOpen is returned by a handler wrapped with [CircuitBreaker]
// while the breaker is open (or half-open with its probe in flight): the
// handler was not called.
var ErrCircuitOpen = errors.New("eda: circuit breaker open")

// WithBreakerThreshold sets how many consecutive failures open a
// [CircuitBreaker]. The default is [DefaultBreakerThreshold].
func WithBreakerThreshold(n int) MiddlewareOption {
	return newMiddlewareOption("WithBreakerThreshold", []string{"CircuitBreaker"}, func(c *middlewareConfig) error {
		c.breakerThreshold = n
		return atLeastOne(n)
	})
}

// WithBreakerOpenDuration sets how long a [CircuitBreaker] stays open
// before it lets a probe through. The default is
// [DefaultBreakerOpenDuration].
func WithBreakerOpenDuration(d time.Duration) MiddlewareOption {
	return newMiddlewareOption("WithBreakerOpenDuration", []string{"CircuitBreaker"}, func(c *middlewareConfig) error {
		if d <= 0 {
			return fmt.Errorf("must be positive, got %v", d)
		}
		c.breakerOpen = d
		return nil
	})
}

// WithBreakerProbes sets how many consecutive successful probes close a
// half-open [CircuitBreaker]. The default is [DefaultBreakerProbes].
func WithBreakerProbes(n int) MiddlewareOption {
	return newMiddlewareOption("WithBreakerProbes", []string{"CircuitBreaker"}, func(c *middlewareConfig) error {
		c.breakerProbes = n
		return atLeastOne(n)
	})
}

// CircuitBreaker returns middleware that stops calling a handler that keeps
// failing, to give what it depends on time to recover.
//
// The breaker starts closed: calls go through, and a run of consecutive
// failures (default [DefaultBreakerThreshold]) opens it. While open, calls
// return [ErrCircuitOpen] at once without calling the handler. After the
// open duration (default [DefaultBreakerOpenDuration]) it is half-open:
// one call at a time goes through as a probe, the others still get
// ErrCircuitOpen. A failed probe opens the breaker again for another open
// duration; a run of successful probes (default [DefaultBreakerProbes])
// closes it.
//
// What counts: a nil error is a success. A [Permanent] error is a success
// too: it says the event was bad, not that the handler is unhealthy. An
// error returned after ctx was cancelled (not timed out) counts as nothing,
// since the caller withdrew; an error after a deadline, including one set by
// [Timeout], is a failure, as is a panic (which passes on unchanged).
// Results of calls that started before the last state change are ignored.
//
// Interplay with the engine: ErrCircuitOpen is an ordinary, retryable error,
// so the engine schedules the delivery again with its backoff, and the
// growing backoff spaces the deliveries out while the breaker is open;
// attempts refused by the breaker count toward the destination's
// MaxAttempts and MaxAge like any failure. Keep the open duration well
// under the destination's MaxAge (the defaults, 30 seconds against 24
// hours, are), or events are dead-lettered while the breaker waits. Put
// CircuitBreaker inside [Retry] only with care: Retry would spend its
// attempts on ErrCircuitOpen.
//
// Every wrapped handler has its own breaker, shared by all concurrent calls
// of that handler. Options: [WithBreakerThreshold],
// [WithBreakerOpenDuration], [WithBreakerProbes], [WithMiddlewareClock].
func CircuitBreaker(opts ...MiddlewareOption) Middleware {
	cfg, err := configure("CircuitBreaker", opts)
	if err != nil {
		return invalid(err)
	}
	return func(next Handler) Handler {
		b := &circuitState{
			clock:     cfg.clock,
			threshold: cfg.breakerThreshold,
			open:      cfg.breakerOpen,
			probes:    cfg.breakerProbes,
		}
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			gen, ok := b.allow()
			if !ok {
				return ErrCircuitOpen
			}
			finished := false
			defer func() {
				if !finished { // the handler panicked
					b.record(gen, outcomeFailure)
				}
			}()
			err := next.Handle(ctx, d)
			finished = true
			b.record(gen, classifyOutcome(ctx, err))
			return err
		})
	}
}

// Breaker states.
const (
	circuitClosed uint8 = iota
	circuitOpen
	circuitHalfOpen
)

// Outcomes of a call, as the breaker counts them.
const (
	outcomeSuccess uint8 = iota
	outcomeFailure
	outcomeIgnored
)

// classifyOutcome says how the breaker counts a call that returned err.
func classifyOutcome(ctx context.Context, err error) uint8 {
	switch {
	case err == nil || IsPermanent(err):
		return outcomeSuccess
	case errors.Is(ctx.Err(), context.Canceled):
		return outcomeIgnored
	default:
		return outcomeFailure
	}
}

// circuitState is the state of one circuit breaker. gen changes at every state
// change, so results of calls admitted in an earlier state are ignored.
type circuitState struct {
	clock     Clock
	threshold int
	open      time.Duration
	probes    int

	mu        sync.Mutex
	state     uint8
	gen       uint64
	failures  int       // consecutive failures while closed
	successes int       // consecutive successful probes while half-open
	probing   bool      // a probe is in flight
	until     time.Time // end of the open period
}

// allow says whether a call may go through, and in which generation. The
// clock is read outside the lock: it may be user code.
func (b *circuitState) allow() (uint64, bool) {
	b.mu.Lock()
	if b.state == circuitClosed {
		gen := b.gen
		b.mu.Unlock()
		return gen, true
	}
	b.mu.Unlock()
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case circuitClosed:
		return b.gen, true
	case circuitOpen:
		if now.Before(b.until) {
			return 0, false
		}
		b.setState(circuitHalfOpen, now)
	}
	if b.probing {
		return 0, false
	}
	b.probing = true
	return b.gen, true
}

// record counts the outcome of a call admitted in generation gen.
func (b *circuitState) record(gen uint64, outcome uint8) {
	var now time.Time
	if outcome == outcomeFailure {
		now = b.clock.Now() // a failure may open the breaker from now on
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.gen {
		return
	}
	switch b.state {
	case circuitClosed:
		switch outcome {
		case outcomeSuccess:
			b.failures = 0
		case outcomeFailure:
			b.failures++
			if b.failures >= b.threshold {
				b.setState(circuitOpen, now)
			}
		}
	case circuitHalfOpen:
		b.probing = false
		switch outcome {
		case outcomeSuccess:
			b.successes++
			if b.successes >= b.probes {
				b.setState(circuitClosed, now)
			}
		case outcomeFailure:
			b.setState(circuitOpen, now)
		}
	}
}

// setState moves to state s at time now and starts a new generation. b.mu
// is held.
func (b *circuitState) setState(s uint8, now time.Time) {
	b.state = s
	b.gen++
	b.failures, b.successes, b.probing = 0, 0, false
	if s == circuitOpen {
		b.until = now.Add(b.open)
	}
}
