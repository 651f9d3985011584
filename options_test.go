package eda

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsAreValidated checks the promise of Option's doc: an invalid
// value, or an option given where it does not apply, is an error wrapping
// ErrInvalidOption — from NewBus for a bus, from PutRule (wrapping
// ErrInvalidRule too) for a target — and never silently ignored.
func TestOptionsAreValidated(t *testing.T) {
	nop := HandlerFunc(func(context.Context, Delivery) error { return nil })
	bad := map[string]Option{
		"WithRetryPolicy negative":  WithRetryPolicy(RetryPolicy{MaxAttempts: -1}),
		"WithDeadLetter nil":        WithDeadLetter(nil),
		"WithDeadLetter nil func":   WithDeadLetter(DeadLetterFunc(nil)),
		"WithMaxConcurrency 0":      WithMaxConcurrency(0),
		"WithQueueSize -1":          WithQueueSize(-1),
		"WithIdleTimeout 0":         WithIdleTimeout(0),
		"WithClock nil":             WithClock(nil),
		"WithLogger nil":            WithLogger(nil),
		"WithMaxHops 0":             WithMaxHops(0),
		"WithEntrySizeLimit 0":      WithEntrySizeLimit(0),
		"WithMaxEntriesPerCall 0":   WithMaxEntriesPerCall(0),
		"WithInput on a bus":        WithInput(`{}`),
		"WithInputPath on a bus":    WithInputPath("$.detail"),
		"WithInputTransformer on a": WithInputTransformer(InputTransformer{InputTemplate: `"x"`}),
	}
	for name, o := range bad {
		t.Run("bus/"+name, func(t *testing.T) {
			_, err := NewBus("b", o)
			require.ErrorIs(t, err, ErrInvalidOption)
		})
	}
	b, err := NewBus("b")
	require.NoError(t, err)
	defer b.Close(context.Background())
	badForTarget := map[string]Option{
		"WithRetryPolicy negative": WithRetryPolicy(RetryPolicy{MinBackoff: -time.Second}),
		"WithMaxConcurrency -1":    WithMaxConcurrency(-1),
		"WithClock":                WithClock(SystemClock()),
		"WithMaxHops":              WithMaxHops(3),
		"WithAccount":              WithAccount("123456789012"),
		"WithAWSSources":           WithAWSSources(),
	}
	for name, o := range badForTarget {
		t.Run("target/"+name, func(t *testing.T) {
			err := b.PutRule(Rule{Name: "r", EventPattern: `{"source":["a"]}`,
				Targets: []Target{HandlerTarget("t", nop, o)}})
			require.ErrorIs(t, err, ErrInvalidOption)
			require.ErrorIs(t, err, ErrInvalidRule)
			assert.Contains(t, err.Error(), `target "t"`)
		})
	}
}

// TestDeliverySettingsOverride checks that a target's delivery settings
// override the bus's, and that the bus's middleware wraps the target's.
func TestDeliverySettingsOverride(t *testing.T) {
	ctx := context.Background()
	var busDL, targetDL atomic.Int32
	var trace []string
	mark := func(name string) Middleware {
		return func(next Handler) Handler {
			return HandlerFunc(func(ctx context.Context, d Delivery) error {
				trace = append(trace, name)
				return next.Handle(ctx, d)
			})
		}
	}
	b, err := NewBus("b",
		WithRetryPolicy(RetryPolicy{MaxAttempts: 5, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}),
		WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) { busDL.Add(1) })),
		WithMiddleware(mark("bus")),
		WithMaxConcurrency(1),
	)
	require.NoError(t, err)
	defer b.Close(ctx)
	var attempts atomic.Int32
	failing := HandlerFunc(func(context.Context, Delivery) error { attempts.Add(1); return errors.New("down") })
	require.NoError(t, b.PutRule(Rule{Name: "r", EventPattern: `{"source":["a"]}`, Targets: []Target{
		HandlerTarget("own", failing,
			WithRetryPolicy(NoRetries()),
			WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) { targetDL.Add(1) })),
			WithMiddleware(mark("target")),
			WithQueueSize(8),
		),
	}}))
	_, err = b.PutEvents(ctx, Event{Source: "a", DetailType: "t", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.NoError(t, b.Drain(ctx))
	assert.Equal(t, int32(1), attempts.Load(), "the target's retry policy")
	assert.Equal(t, int32(1), targetDL.Load(), "the target's dead-letter handler")
	assert.Equal(t, int32(0), busDL.Load())
	assert.Equal(t, []string{"bus", "target"}, trace, "the bus's middleware is outermost")
}

// TestMiddlewareOptionsAreValidated checks the promise of MiddlewareOption's
// doc: an invalid value, or an option the constructor does not read, makes
// the middleware panic when it wraps a handler, and PutRule reports that
// as an error wrapping ErrInvalidRule and ErrInvalidOption.
func TestMiddlewareOptionsAreValidated(t *testing.T) {
	nop := HandlerFunc(func(context.Context, Delivery) error { return nil })
	bad := map[string]Middleware{
		"threshold 0":          CircuitBreaker(WithBreakerThreshold(0)),
		"open duration 0":      CircuitBreaker(WithBreakerOpenDuration(0)),
		"probes -1":            CircuitBreaker(WithBreakerProbes(-1)),
		"dedup capacity 0":     Deduplicate(time.Hour, WithDedupCapacity(0)),
		"nil dedup key":        Deduplicate(time.Hour, WithDedupKey(nil)),
		"nil clock":            Retry(RetryPolicy{}, WithMiddlewareClock(nil)),
		"breaker option":       Deduplicate(time.Hour, WithBreakerThreshold(3)),
		"dedup option":         RateLimit(10, 1, WithDedupCapacity(10)),
		"clock to the breaker": CircuitBreaker(WithMiddlewareClock(SystemClock())),
	}
	b, err := NewBus("b")
	require.NoError(t, err)
	defer b.Close(context.Background())
	for name, mw := range bad {
		t.Run(name, func(t *testing.T) {
			if name == "clock to the breaker" {
				assert.NotPanics(t, func() { mw(nop) }, "the breaker reads the clock")
				return
			}
			assert.Panics(t, func() { mw(nop) })
			err := b.PutRule(Rule{Name: "r", EventPattern: `{"source":["a"]}`,
				Targets: []Target{HandlerTarget("t", nop, WithMiddleware(mw))}})
			require.ErrorIs(t, err, ErrInvalidRule)
			require.ErrorIs(t, err, ErrInvalidOption)
		})
	}
}
