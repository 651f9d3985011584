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
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// mwFakeClock is a manual Clock for the middleware tests: time moves only
// in Advance, which runs the due AfterFunc callbacks synchronously.
type mwFakeClock struct {
	mu        sync.Mutex
	now       time.Time
	timers    []*mwFakeTimer
	requested []time.Duration // every AfterFunc duration, in call order
}

type mwFakeTimer struct {
	c    *mwFakeClock
	when time.Time
	f    func()
	done bool
}

func newMWFakeClock() *mwFakeClock {
	return &mwFakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *mwFakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *mwFakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &mwFakeTimer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	c.requested = append(c.requested, d)
	return t
}

func (t *mwFakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	t.c.timers = slices.DeleteFunc(t.c.timers, func(x *mwFakeTimer) bool { return x == t })
	return true
}

// Advance moves the clock by d and runs the callbacks that fell due, in
// time order.
func (c *mwFakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*mwFakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *mwFakeTimer) bool {
		if t.when.After(c.now) {
			return false
		}
		t.done = true
		due = append(due, t)
		return true
	})
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *mwFakeTimer) int { return a.when.Compare(b.when) })
	for _, t := range due {
		t.f()
	}
}

// Pending counts the timers that have neither fired nor been stopped.
func (c *mwFakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Requested returns the durations of every AfterFunc call so far.
func (c *mwFakeClock) Requested() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requested)
}

// mwWaitFor polls cond (in real time) until it holds, or fails the test.
func mwWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// mwWaitPending waits until the clock has n pending timers.
func mwWaitPending(t *testing.T, c *mwFakeClock, n int) {
	t.Helper()
	mwWaitFor(t, "pending timers", func() bool { return c.Pending() == n })
}

// mwLeakMarks identify stack frames of the middleware files: their
// unexported names start with mw, and the closures of the constructors are
// named after them.
var mwLeakMarks = []string{
	"eda.mw", "eda.(*mw", "eda.(*timeout",
	"eda.Recover.", "eda.Timeout.", "eda.Logging.", "eda.Retry.",
	"eda.Deduplicate.", "eda.RateLimit.", "eda.CircuitBreaker.",
}

// mwCheckNoLeak fails the test if, at its end, a goroutine is still running
// code of the middleware files.
func mwCheckNoLeak(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			var leaked []string
			for _, g := range strings.Split(stacks, "\n\n") {
				if !strings.Contains(g, "mwCheckNoLeak") && slices.ContainsFunc(mwLeakMarks, func(m string) bool {
					return strings.Contains(g, m)
				}) {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leaked goroutines:\n%s", strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// mwTestDelivery is a delivery as the tests use it.
func mwTestDelivery(id string) Delivery {
	return Delivery{ID: id, Router: "bus", Rule: "rule", Destination: "target", Attempt: 1}
}

var errMWTest = errors.New("handler failed")

// The middleware tests use these few checks rather than an assertion
// library. The ...Must forms stop the test.

func mwEqual(t *testing.T, want, got any, what string) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: got %#v, want %#v", what, got, want)
	}
}

func mwTrue(t *testing.T, cond bool, what string) {
	t.Helper()
	if !cond {
		t.Errorf("%s: false", what)
	}
}

func mwMust(t *testing.T, cond bool, what string) {
	t.Helper()
	if !cond {
		t.Fatalf("%s: false", what)
	}
}

func mwNoErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

func mwErrIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v is not %v", what, err, target)
	}
}

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
		return errMWTest
	}))
	err := h.Handle(context.Background(), mwTestDelivery("1"))
	mwErrIs(t, err, errMWTest, "result")
	mwEqual(t, []string{"a in", "b in", "c in", "handler", "c out", "b out", "a out"}, trace, "order")

	trace = nil
	h = Chain()(HandlerFunc(func(context.Context, Delivery) error { trace = append(trace, "alone"); return nil }))
	mwNoErr(t, h.Handle(context.Background(), mwTestDelivery("1")), "empty chain")
	mwEqual(t, []string{"alone"}, trace, "empty chain")
}

// TestChainBuiltins composes every built-in once, in the order a consumer
// would (logging outermost, recover innermost), and checks that panics come
// out as errors that Retry retries, and that the success is logged and
// remembered.
func TestChainBuiltins(t *testing.T) {
	mwCheckNoLeak(t)
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
	mwNoErr(t, h.Handle(context.Background(), mwTestDelivery("e1")), "first")
	mwNoErr(t, h.Handle(context.Background(), mwTestDelivery("e1")), "duplicate")
	mwEqual(t, 3, calls, "handler calls")
	mwEqual(t, 2, strings.Count(buf.String(), `"msg":"delivered"`), "logged successes")
}

func TestRecover(t *testing.T) {
	ctx := context.Background()
	d := mwTestDelivery("1")

	t.Run("value", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { panic("boom") }))
		err := h.Handle(ctx, d)
		mwMust(t, err != nil, "an error")
		mwTrue(t, !IsPermanent(err), "not permanent")
		mwEqual(t, "eda: handler panicked: boom", err.Error(), "message")
		var pe *PanicError
		mwMust(t, errors.As(err, &pe), "a *PanicError")
		mwEqual(t, any("boom"), pe.Value, "value")
		mwTrue(t, strings.HasPrefix(string(pe.Stack), "goroutine "), "stack")
		mwTrue(t, strings.Contains(string(pe.Stack), "TestRecover"), "the stack names the panicking function")
	})
	t.Run("error value", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { panic(errMWTest) }))
		mwErrIs(t, h.Handle(ctx, d), errMWTest, "panic value reachable")
	})
	t.Run("nil value", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { panic(nil) }))
		var pn *runtime.PanicNilError
		mwTrue(t, errors.As(h.Handle(ctx, d), &pn), "panic(nil) is recovered as a PanicNilError")
	})
	t.Run("no panic", func(t *testing.T) {
		h := Recover()(HandlerFunc(func(context.Context, Delivery) error { return errMWTest }))
		mwEqual(t, errMWTest, h.Handle(ctx, d), "error passes unchanged")
		h = Recover()(HandlerFunc(func(context.Context, Delivery) error { return nil }))
		mwNoErr(t, h.Handle(ctx, d), "success")
	})
}

func TestTimeout(t *testing.T) {
	d := mwTestDelivery("1")
	blocking := HandlerFunc(func(ctx context.Context, _ Delivery) error {
		<-ctx.Done()
		return ctx.Err()
	})

	t.Run("exceeded", func(t *testing.T) {
		parent := context.Background()
		err := Timeout(time.Millisecond)(blocking).Handle(parent, d)
		var te *TimeoutError
		mwMust(t, errors.As(err, &te), "a *TimeoutError")
		mwEqual(t, time.Millisecond, te.Timeout, "Timeout field")
		mwErrIs(t, err, context.DeadlineExceeded, "wraps DeadlineExceeded")
		mwTrue(t, strings.Contains(err.Error(), "timed out after 1ms"), "message: "+err.Error())
	})
	t.Run("handler error wrapped", func(t *testing.T) {
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error {
			<-ctx.Done()
			return Permanent(errMWTest)
		})
		err := Timeout(time.Millisecond)(h).Handle(context.Background(), d)
		mwErrIs(t, err, errMWTest, "handler error reachable")
		mwTrue(t, IsPermanent(err), "the handler's verdict is kept")
	})
	t.Run("derived context cancelled on return", func(t *testing.T) {
		var inner context.Context
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error { inner = ctx; return nil })
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		mwNoErr(t, Timeout(time.Hour)(h).Handle(parent, d), "handle")
		_, has := inner.Deadline()
		mwTrue(t, has, "inner context has a deadline")
		mwErrIs(t, inner.Err(), context.Canceled, "derived context released")
		mwNoErr(t, parent.Err(), "caller's context untouched")
	})
	t.Run("cancelled by caller", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Millisecond, cancel)
		err := Timeout(time.Hour)(blocking).Handle(parent, d)
		mwEqual(t, context.Canceled, err, "the caller's cancellation is not a timeout")
	})
	t.Run("caller deadline earlier", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		err := Timeout(time.Hour)(blocking).Handle(parent, d)
		mwEqual(t, context.DeadlineExceeded, err, "the caller's deadline is not our timeout")
	})
	t.Run("late success", func(t *testing.T) {
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error { <-ctx.Done(); return nil })
		mwNoErr(t, Timeout(time.Millisecond)(h).Handle(context.Background(), d), "late success")
	})
	t.Run("disabled", func(t *testing.T) {
		for _, limit := range []time.Duration{0, -time.Second} {
			var inner context.Context
			h := HandlerFunc(func(ctx context.Context, _ Delivery) error { inner = ctx; return nil })
			mwNoErr(t, Timeout(limit)(h).Handle(context.Background(), d), "handle")
			_, has := inner.Deadline()
			mwTrue(t, !has, "no deadline")
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
			mwNoErr(t, json.Unmarshal([]byte(line), &m), "log line is JSON")
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
		{"retryable", errMWTest, "WARN", "delivery failed"},
		{"permanent", Permanent(errMWTest), "ERROR", "delivery failed permanently"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := Logging(newLogger(&buf, slog.LevelDebug))(HandlerFunc(func(context.Context, Delivery) error {
				time.Sleep(time.Millisecond)
				return tt.err
			}))
			mwEqual(t, tt.err, h.Handle(ctx, d), "result passes unchanged")
			recs := records(t, &buf)
			mwMust(t, len(recs) == 1, "one record")
			r := recs[0]
			mwEqual(t, tt.level, r["level"], "level")
			mwEqual(t, tt.msg, r["msg"], "msg")
			mwEqual(t, "e-1", r["id"], "id")
			mwEqual(t, "orders", r["router"], "router")
			mwEqual(t, "big", r["rule"], "rule")
			mwEqual(t, "mailer", r["destination"], "destination")
			mwEqual(t, float64(2), r["attempt"], "attempt")
			dur, _ := r["duration"].(float64)
			mwTrue(t, dur >= float64(time.Millisecond), "duration measured")
			if tt.err != nil {
				mwEqual(t, "handler failed", r["error"], "error")
			} else {
				_, has := r["error"]
				mwTrue(t, !has, "no error attribute on success")
			}
		})
	}

	t.Run("level filter", func(t *testing.T) {
		var buf bytes.Buffer
		h := Logging(newLogger(&buf, slog.LevelInfo))(HandlerFunc(func(context.Context, Delivery) error { return nil }))
		mwNoErr(t, h.Handle(ctx, d), "handle")
		mwEqual(t, "", buf.String(), "nothing logged below the level")
	})
	t.Run("nil logger uses default", func(t *testing.T) {
		var buf bytes.Buffer
		old := slog.Default()
		slog.SetDefault(newLogger(&buf, slog.LevelDebug))
		defer slog.SetDefault(old)
		h := Logging(nil)(HandlerFunc(func(context.Context, Delivery) error { return errMWTest }))
		mwEqual(t, errMWTest, h.Handle(ctx, d), "result")
		recs := records(t, &buf)
		mwMust(t, len(recs) == 1, "one record")
		mwEqual(t, "delivery failed", recs[0]["msg"], "msg")
	})
}

func TestMWSleep(t *testing.T) {
	mwCheckNoLeak(t)
	c := newMWFakeClock()
	done := make(chan error, 1)
	go func() { done <- mwSleep(context.Background(), c, time.Second) }()
	mwWaitPending(t, c, 1)
	c.Advance(time.Second)
	mwNoErr(t, <-done, "sleep")

	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- mwSleep(ctx, c, time.Second) }()
	mwWaitPending(t, c, 1)
	cancel()
	mwErrIs(t, <-done, context.Canceled, "cancelled sleep")
	mwEqual(t, 0, c.Pending(), "the timer is stopped")

	mwErrIs(t, mwSleep(ctx, c, time.Second), context.Canceled, "an ended context does not wait")
	mwNoErr(t, mwSleep(context.Background(), c, 0), "zero sleep")
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
			d := mwTestDelivery("")
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
				d := mwTestDelivery("")
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
	mwCheckNoLeak(t)
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
	mwNoErr(t, err, "NewBus")
	defer func() { mwNoErr(t, b.Close(ctx), "Close") }()

	calls := map[string]int{}
	handler := func(failures int) Handler {
		return HandlerFunc(func(_ context.Context, d Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			calls[d.Destination]++
			if calls[d.Destination] <= failures {
				return errMWTest
			}
			return nil
		})
	}
	mwNoErr(t, b.PutRule(Rule{Name: "orders", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("flaky", handler(4)), HandlerTarget("steady", handler(0))}}), "PutRule")
	res, err := b.PutEvents(ctx, Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: []byte(`{"id":1}`)})
	mwNoErr(t, err, "PutEvents")
	mwNoErr(t, res.Err(), "PutEvents entries")
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	mwNoErr(t, b.Drain(dctx), "Drain")

	mu.Lock()
	defer mu.Unlock()
	mwEqual(t, 0, len(deadLetters), "dead letters")
	mwEqual(t, map[string]int{"flaky": 5, "steady": 1}, calls, "handler calls per target")
	mwTrue(t, refused > 0, "the open breaker refused attempts, which the engine retried")
}
