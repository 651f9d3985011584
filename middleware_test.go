package eda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testDelivery is a delivery as the tests use it.
func testDelivery(id string) Delivery {
	return Delivery{ID: id, Router: "bus", Rule: "rule", Destination: "target", Attempt: 1}
}

var errHandlerFailed = errors.New("handler failed")

func TestChainOrder(t *testing.T) {
	var trace []string
	mark := func(name string) Middleware {
		return func(next Handler) Handler {
			return HandlerFunc(func(ctx context.Context, d Delivery) error {
				trace = append(trace, name+" in")
				err := next.Handle(ctx, d)
				trace = append(trace, name+" out")
				return err
			})
		}
	}
	h := Chain(mark("a"), nil, mark("b"), mark("c"))(HandlerFunc(func(context.Context, Delivery) error {
		trace = append(trace, "handler")
		return errHandlerFailed
	}))
	err := h.Handle(context.Background(), testDelivery("1"))
	assert.ErrorIs(t, err, errHandlerFailed, "result")
	assert.Equal(t, []string{"a in", "b in", "c in", "handler", "c out", "b out", "a out"}, trace, "order")

	trace = nil
	h = Chain()(HandlerFunc(func(context.Context, Delivery) error { trace = append(trace, "alone"); return nil }))
	require.NoError(t, h.Handle(context.Background(), testDelivery("1")), "empty chain")
	assert.Equal(t, []string{"alone"}, trace, "empty chain")
}

// TestChainBuiltins composes every built-in once, in the order a consumer
// would (logging outermost, recover innermost), and checks that panics come
// out as errors that Retry retries, and that the success is logged and
// remembered.
func TestChainBuiltins(t *testing.T) {
	leaktest.Test(t)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	calls := 0
	h := Chain(
		Logging(logger),
		Deduplicate(time.Minute),
		CircuitBreaker(WithBreakerThreshold(10)),
		RateLimit(1e6, 100),
		Retry(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}),
		Timeout(time.Second),
		Recover(),
	)(HandlerFunc(func(ctx context.Context, d Delivery) error {
		calls++
		if calls < 3 {
			panic("flaky")
		}
		return nil
	}))
	require.NoError(t, h.Handle(context.Background(), testDelivery("e1")), "first")
	require.NoError(t, h.Handle(context.Background(), testDelivery("e1")), "duplicate")
	assert.Equal(t, 3, calls, "handler calls")
	assert.Equal(t, 2, strings.Count(buf.String(), `"msg":"delivered"`), "logged successes")
}

func TestRecover(t *testing.T) {
	ctx := context.Background()
	d := testDelivery("1")

	t.Run("value", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { panic("boom") }))
		err := h.Handle(ctx, d)
		require.Error(t, err, "an error")
		assert.False(t, IsPermanent(err), "not permanent")
		assert.Equal(t, "eda: handler panicked: boom", err.Error(), "message")
		var pe *PanicError
		require.ErrorAs(t, err, &pe, "a *PanicError")
		assert.Equal(t, any("boom"), pe.Value, "value")
		assert.True(t, bytes.HasPrefix(pe.Stack, []byte("goroutine ")), "stack")
		assert.Contains(t, string(pe.Stack), "TestRecover", "the stack names the panicking function")
	})
	t.Run("error value", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { panic(errHandlerFailed) }))
		assert.ErrorIs(t, h.Handle(ctx, d), errHandlerFailed, "panic value reachable")
	})
	t.Run("nil value", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { panic(nil) }))
		var pn *runtime.PanicNilError
		assert.ErrorAs(t, h.Handle(ctx, d), &pn, "panic(nil) is recovered as a PanicNilError")
	})
	t.Run("no panic", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { return errHandlerFailed }))
		assert.Equal(t, errHandlerFailed, h.Handle(ctx, d), "error passes unchanged")
		h = Recover()(HandlerFunc(func(context.Context, Delivery) error { return nil }))
		require.NoError(t, h.Handle(ctx, d), "success")
	})
}

func TestTimeout(t *testing.T) {
	d := testDelivery("1")
	blocking := HandlerFunc(func(ctx context.Context, _ Delivery) error {
		<-ctx.Done()
		return ctx.Err()
	})

	t.Run("exceeded", func(t *testing.T) {
		parent := context.Background()
		err := Timeout(time.Millisecond)(blocking).Handle(parent, d)
		var te *TimeoutError
		require.ErrorAs(t, err, &te, "a *TimeoutError")
		assert.Equal(t, time.Millisecond, te.Timeout, "Timeout field")
		assert.ErrorIs(t, err, context.DeadlineExceeded, "wraps DeadlineExceeded")
		assert.ErrorContains(t, err, "timed out after 1ms")
	})
	t.Run("handler error wrapped", func(t *testing.T) {
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error {
			<-ctx.Done()
			return Permanent(errHandlerFailed)
		})
		err := Timeout(time.Millisecond)(h).Handle(context.Background(), d)
		assert.ErrorIs(t, err, errHandlerFailed, "handler error reachable")
		assert.True(t, IsPermanent(err), "the handler's verdict is kept")
	})
	t.Run("derived context cancelled on return", func(t *testing.T) {
		var inner context.Context
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error { inner = ctx; return nil })
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		require.NoError(t, Timeout(time.Hour)(h).Handle(parent, d), "handle")
		_, has := inner.Deadline()
		assert.True(t, has, "inner context has a deadline")
		assert.ErrorIs(t, inner.Err(), context.Canceled, "derived context released")
		require.NoError(t, parent.Err(), "caller's context untouched")
	})
	t.Run("cancelled by caller", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Millisecond, cancel)
		err := Timeout(time.Hour)(blocking).Handle(parent, d)
		assert.Equal(t, context.Canceled, err, "the caller's cancellation is not a timeout")
	})
	t.Run("caller deadline earlier", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		err := Timeout(time.Hour)(blocking).Handle(parent, d)
		assert.Equal(t, context.DeadlineExceeded, err, "the caller's deadline is not our timeout")
	})
	t.Run("late success", func(t *testing.T) {
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error { <-ctx.Done(); return nil })
		require.NoError(t, Timeout(time.Millisecond)(h).Handle(context.Background(), d), "late success")
	})
	t.Run("disabled", func(t *testing.T) {
		for _, limit := range []time.Duration{0, -time.Second} {
			var inner context.Context
			h := HandlerFunc(func(ctx context.Context, _ Delivery) error { inner = ctx; return nil })
			require.NoError(t, Timeout(limit)(h).Handle(context.Background(), d), "handle")
			_, has := inner.Deadline()
			assert.False(t, has, "no deadline")
		}
	})
}

func TestLogging(t *testing.T) {
	ctx := context.Background()
	d := Delivery{ID: "e-1", Router: "orders", Rule: "big", Destination: "mailer", Attempt: 2}
	records := func(t *testing.T, buf *bytes.Buffer) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), "log line is JSON")
			out = append(out, m)
		}
		return out
	}
	newLogger := func(buf *bytes.Buffer, level slog.Level) *slog.Logger {
		return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level}))
	}

	tests := []struct {
		name  string
		err   error
		level string
		msg   string
	}{
		{"success", nil, "DEBUG", "delivered"},
		{"retryable", errHandlerFailed, "WARN", "delivery failed"},
		{"permanent", Permanent(errHandlerFailed), "ERROR", "delivery failed permanently"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := Logging(newLogger(&buf, slog.LevelDebug))(HandlerFunc(func(context.Context, Delivery) error {
				time.Sleep(time.Millisecond)
				return tt.err
			}))
			assert.Equal(t, tt.err, h.Handle(ctx, d), "result passes unchanged")
			recs := records(t, &buf)
			require.Len(t, recs, 1, "one record")
			r := recs[0]
			assert.Equal(t, tt.level, r["level"], "level")
			assert.Equal(t, tt.msg, r["msg"], "msg")
			assert.Equal(t, "e-1", r["id"], "id")
			assert.Equal(t, "orders", r["router"], "router")
			assert.Equal(t, "big", r["rule"], "rule")
			assert.Equal(t, "mailer", r["destination"], "destination")
			assert.Equal(t, float64(2), r["attempt"], "attempt")
			dur, _ := r["duration"].(float64)
			assert.GreaterOrEqual(t, dur, float64(time.Millisecond), "duration measured")
			if tt.err != nil {
				assert.Equal(t, "handler failed", r["error"], "error")
			} else {
				_, has := r["error"]
				assert.False(t, has, "no error attribute on success")
			}
		})
	}

	t.Run("level filter", func(t *testing.T) {
		var buf bytes.Buffer
		h := Logging(newLogger(&buf, slog.LevelInfo))(HandlerFunc(func(context.Context, Delivery) error { return nil }))
		require.NoError(t, h.Handle(ctx, d), "handle")
		assert.Equal(t, "", buf.String(), "nothing logged below the level")
	})
	t.Run("nil logger uses default", func(t *testing.T) {
		var buf bytes.Buffer
		old := slog.Default()
		slog.SetDefault(newLogger(&buf, slog.LevelDebug))
		defer slog.SetDefault(old)
		h := Logging(nil)(HandlerFunc(func(context.Context, Delivery) error { return errHandlerFailed }))
		assert.Equal(t, errHandlerFailed, h.Handle(ctx, d), "result")
		recs := records(t, &buf)
		require.Len(t, recs, 1, "one record")
		assert.Equal(t, "delivery failed", recs[0]["msg"], "msg")
	})
}

func TestClockSleep(t *testing.T) {
	leaktest.Test(t)
	c := clocktest.New(testEpoch)
	done := make(chan error, 1)
	go func() { done <- clockSleep(context.Background(), c, time.Second) }()
	require.True(t, c.WaitForTimers(1, 5*time.Second), "a pending timer")
	c.Advance(time.Second)
	require.NoError(t, <-done, "sleep")

	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- clockSleep(ctx, c, time.Second) }()
	require.True(t, c.WaitForTimers(1, 5*time.Second), "a pending timer")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "cancelled sleep")
	assert.Equal(t, 0, c.Pending(), "the timer is stopped")

	assert.ErrorIs(t, clockSleep(ctx, c, time.Second), context.Canceled, "an ended context does not wait")
	require.NoError(t, clockSleep(context.Background(), c, 0), "zero sleep")
}

// BenchmarkMiddleware measures what each built-in adds to one call of a
// handler that does nothing, on its success path.
func BenchmarkMiddleware(b *testing.B) {
	nop := HandlerFunc(func(context.Context, Delivery) error { return nil })
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = fmt.Sprint("event-", i)
	}
	cases := []struct {
		name string
		mw   Middleware
		ids  []string // cycled through; one ID means every call is a duplicate
	}{
		{"none", Chain(), ids[:1]},
		{"Recover", Recover(), ids[:1]},
		{"Timeout", Timeout(time.Minute), ids[:1]},
		{"Logging/filtered", Logging(quiet), ids[:1]},
		{"Retry", Retry(RetryPolicy{}), ids[:1]},
		{"Deduplicate/duplicate", Deduplicate(time.Hour), ids[:1]},
		{"Deduplicate/new", Deduplicate(time.Hour, WithDedupCapacity(len(ids)/2)), ids},
		{"RateLimit", RateLimit(1e12, 1e6), ids[:1]},
		{"CircuitBreaker", CircuitBreaker(), ids[:1]},
	}
	for _, c := range cases {
		h := c.mw(nop)
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			d := testDelivery("")
			d.Time = time.Now() // as the engine sets it
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d.ID = c.ids[i%len(c.ids)]
				i++
				if err := h.Handle(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				d := testDelivery("")
				d.Time = time.Now()
				i := rand.IntN(len(c.ids))
				for pb.Next() {
					d.ID = c.ids[i%len(c.ids)]
					i++
					if err := h.Handle(ctx, d); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// TestMiddlewareOnBus runs built-ins inside a Bus: a circuit breaker whose
// refusals the engine retries with backoff until the handler recovers, and
// a deduplicator set on the bus that keeps its targets apart and lets the
// engine's retries through.
func TestMiddlewareOnBus(t *testing.T) {
	leaktest.Test(t)
	ctx := context.Background()
	var mu sync.Mutex
	var deadLetters []DeadLetter
	refused := 0
	countRefusals := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			err := next.Handle(ctx, d)
			if errors.Is(err, ErrCircuitOpen) {
				mu.Lock()
				refused++
				mu.Unlock()
			}
			return err
		})
	}
	b, err := NewBus("mw-bus",
		WithRetryPolicy(RetryPolicy{MaxAttempts: 1000, MinBackoff: time.Millisecond, MaxBackoff: 3 * time.Millisecond}),
		WithDeadLetter(DeadLetterFunc(func(_ context.Context, dl DeadLetter) {
			mu.Lock()
			deadLetters = append(deadLetters, dl)
			mu.Unlock()
		})),
		WithMiddleware(Deduplicate(time.Hour), countRefusals,
			CircuitBreaker(WithBreakerThreshold(2), WithBreakerOpenDuration(15*time.Millisecond))))
	require.NoError(t, err, "NewBus")
	defer func() { require.NoError(t, b.Close(ctx), "Close") }()

	calls := map[string]int{}
	handler := func(failures int) Handler {
		return HandlerFunc(func(_ context.Context, d Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			calls[d.Destination]++
			if calls[d.Destination] <= failures {
				return errHandlerFailed
			}
			return nil
		})
	}
	require.NoError(t, b.PutRule(Rule{Name: "orders", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("flaky", handler(4)), HandlerTarget("steady", handler(0))}}), "PutRule")
	res, err := b.PutEvents(ctx, Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: []byte(`{"id":1}`)})
	require.NoError(t, err, "PutEvents")
	require.NoError(t, res.Err(), "PutEvents entries")
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, b.Drain(dctx), "Drain")

	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, deadLetters, "dead letters")
	assert.Equal(t, map[string]int{"flaky": 5, "steady": 1}, calls, "handler calls per target")
	assert.Positive(t, refused, "the open breaker refused attempts, which the engine retried")
}
