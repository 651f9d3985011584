package eda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// This file holds what the built-in middleware share (options, sleeping on
// a Clock) and the three stateless ones: Recover, Timeout and Logging. The
// stateful ones live in middleware_retry.go, middleware_dedupe.go,
// middleware_ratelimit.go and middleware_breaker.go.
//
// Every built-in has the same shape: a constructor that returns a
// [Middleware], taking the settings it cannot do without as arguments and
// the rest as [MiddlewareOption] values. A stateful middleware creates its
// state when it wraps a handler, so every wrapped handler (every target or
// subscription it is set on) has its own bucket, breaker or memory. Wrap a
// handler once and reuse the result; wrapping anew for every delivery would
// start from empty state each time.
//
// None of them replaces the context it passes on, except Timeout, whose
// derived context reaches only the handler it wraps and is cancelled before
// Timeout returns.
//
// A sensible order, outermost first: Logging (sees every outcome),
// Deduplicate (skips before anything is spent), CircuitBreaker, RateLimit,
// Retry, Timeout (bounds each attempt), Recover (turns panics into errors
// that every layer above sees).

// MiddlewareOption configures a built-in middleware; each constructor lists
// the options it reads. An option given an invalid value (a nil clock, a
// count below one, a duration of zero or less), or given to a constructor
// that does not read it, makes the middleware invalid: it panics, with an
// error wrapping [ErrInvalidOption], when it wraps a handler — which
// [Bus.PutRule] reports as an error wrapping [ErrInvalidRule] instead.
type MiddlewareOption func(*middlewareConfig) error

// middlewareConfig holds the settings of every built-in middleware; each reads its own.
type middlewareConfig struct {
	ctor             string // the constructor being configured
	clock            Clock
	dedupKey         func(Delivery) string
	dedupCapacity    int
	breakerThreshold int
	breakerOpen      time.Duration
	breakerProbes    int
}

// Defaults of the options.
const (
	// DefaultDedupCapacity is how many handled keys [Deduplicate] remembers
	// at most unless [WithDedupCapacity] says otherwise.
	DefaultDedupCapacity = 100_000
	// DefaultBreakerThreshold is how many consecutive failures open a
	// [CircuitBreaker] unless [WithBreakerThreshold] says otherwise.
	DefaultBreakerThreshold = 5
	// DefaultBreakerOpenDuration is how long a [CircuitBreaker] stays open
	// before it lets a probe through, unless [WithBreakerOpenDuration] says
	// otherwise.
	DefaultBreakerOpenDuration = 30 * time.Second
	// DefaultBreakerProbes is how many consecutive successful probes close a
	// half-open [CircuitBreaker] unless [WithBreakerProbes] says otherwise.
	DefaultBreakerProbes = 1
)

// newMiddlewareConfig returns the settings opts give, for tests; it panics on an
// invalid option.
func newMiddlewareConfig(opts []MiddlewareOption) middlewareConfig {
	c, err := configure("", opts)
	if err != nil {
		panic(err)
	}
	return c
}

// configure returns the settings that opts give the constructor ctor, or
// the error of the first invalid option.
func configure(ctor string, opts []MiddlewareOption) (middlewareConfig, error) {
	c := middlewareConfig{
		ctor:             ctor,
		clock:            SystemClock(),
		dedupCapacity:    DefaultDedupCapacity,
		breakerThreshold: DefaultBreakerThreshold,
		breakerOpen:      DefaultBreakerOpenDuration,
		breakerProbes:    DefaultBreakerProbes,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return c, fmt.Errorf("%w: %s: %w", ErrInvalidOption, ctor, err)
		}
	}
	return c, nil
}

// atLeastOne returns an error unless n is at least one.
func atLeastOne(n int) error {
	if n < 1 {
		return fmt.Errorf("must be at least 1, got %d", n)
	}
	return nil
}

// invalid returns middleware that panics with err when it wraps a handler:
// the middleware of a constructor given an invalid option.
func invalid(err error) Middleware {
	return func(Handler) Handler { panic(err) }
}

// newMiddlewareOption returns a MiddlewareOption named name, read by the constructors
// readers (none: read by all), that applies set.
func newMiddlewareOption(name string, readers []string, set func(*middlewareConfig) error) MiddlewareOption {
	return func(c *middlewareConfig) error {
		if c.ctor != "" && len(readers) > 0 && !slices.Contains(readers, c.ctor) {
			return fmt.Errorf("%s applies to %s only", name, strings.Join(readers, ", "))
		}
		if err := set(c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// WithMiddlewareClock sets the clock that [Retry], [Deduplicate],
// [RateLimit] and [CircuitBreaker] use for waiting, expiry and state
// changes. The default is [SystemClock]; tests pass a fake one.
func WithMiddlewareClock(c Clock) MiddlewareOption {
	return newMiddlewareOption("WithMiddlewareClock", []string{"Retry", "Deduplicate", "RateLimit", "CircuitBreaker"}, func(cfg *middlewareConfig) error {
		if c == nil {
			return errors.New("nil clock")
		}
		cfg.clock = c
		return nil
	})
}

// clockSleep waits for d on clock c, or until ctx ends, and then returns ctx's
// error. It leaves nothing behind: the timer is stopped when ctx wins, and a
// timer that fired only closes a channel nobody reads.
func clockSleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	fired := make(chan struct{})
	t := c.AfterFunc(d, func() { close(fired) })
	select {
	case <-fired:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// Recover returns middleware that turns a panic in the handlers it wraps
// into a [*PanicError] carrying the panic value and the stack of the
// panicking goroutine, so the delivery is retried or dead-lettered like any
// other failure and the worker survives. When the value is itself an error,
// errors.Is and errors.As see it through the returned error.
//
// The delivery engine recovers panics too; Recover is for recovering them
// closer to the handler: put it inside [Retry] to have panics retried
// there, inside [Logging] to have them logged, inside [Deduplicate] or
// [CircuitBreaker] to have them seen as errors. A panic is never treated as
// permanent by itself. Recover keeps no state and may be used concurrently.
func Recover() Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, d Delivery) (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = &PanicError{Value: v, Stack: debug.Stack()}
				}
			}()
			return next.Handle(ctx, d)
		})
	}
}

// Logging returns middleware that logs the outcome of every call of the
// handlers it wraps: message "delivered" at Debug level on success,
// "delivery failed" at Warn level for an error that will be retried, and
// "delivery failed permanently" at Error level for a [Permanent] one. Each
// record carries id, router, rule, destination, attempt, duration and, on
// failure, error. A nil logger means [slog.Default] at the time of each
// call.
//
// Logging returns the handler's result unchanged and lets panics pass; put
// [Recover] inside it to have panics logged as errors. It keeps no state of
// its own and may be used concurrently if the logger's handler may (every
// slog handler in the standard library may).
func Logging(logger *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			start := time.Now()
			err := next.Handle(ctx, d)
			l := logger
			if l == nil {
				l = slog.Default()
			}
			level, msg := slog.LevelDebug, "delivered"
			if err != nil {
				level, msg = slog.LevelWarn, "delivery failed"
				if IsPermanent(err) {
					level, msg = slog.LevelError, "delivery failed permanently"
				}
			}
			if !l.Enabled(ctx, level) {
				return err
			}
			elapsed := time.Since(start)
			if err == nil {
				l.LogAttrs(ctx, level, msg,
					slog.String("id", d.ID), slog.String("router", d.Router),
					slog.String("rule", d.Rule), slog.String("destination", d.Destination),
					slog.Int("attempt", d.Attempt), slog.Duration("duration", elapsed))
				return nil
			}
			l.LogAttrs(ctx, level, msg,
				slog.String("id", d.ID), slog.String("router", d.Router),
				slog.String("rule", d.Rule), slog.String("destination", d.Destination),
				slog.Int("attempt", d.Attempt), slog.Duration("duration", elapsed),
				slog.Any("error", err))
			return err
		})
	}
}

// Middleware wraps a Handler to add behaviour around every delivery.
type Middleware func(Handler) Handler

// Chain composes middleware into one. The first listed is outermost: it
// sees the delivery first and the result last.
func Chain(mw ...Middleware) Middleware {
	return func(h Handler) Handler {
		for i := len(mw) - 1; i >= 0; i-- {
			if mw[i] != nil {
				h = mw[i](h)
			}
		}
		return h
	}
}
