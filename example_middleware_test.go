package eda_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/edakit/eda"
)

// printTrace is middleware that prints when a delivery passes it.
func printTrace(name string) eda.Middleware {
	return func(next eda.Handler) eda.Handler {
		return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
			fmt.Println(name, "before")
			err := next.Handle(ctx, d)
			fmt.Println(name, "after")
			return err
		})
	}
}

// The first middleware listed is the outermost: it sees the delivery first
// and the result last.
func ExampleChain() {
	h := eda.Chain(printTrace("outer"), printTrace("inner"))(eda.HandlerFunc(
		func(ctx context.Context, d eda.Delivery) error {
			fmt.Println("handling", d.ID)
			return nil
		}))
	_ = h.Handle(context.Background(), eda.Delivery{ID: "order-1"})
	// Output:
	// outer before
	// inner before
	// handling order-1
	// inner after
	// outer after
}

// A typical consumer stack: log every outcome, skip duplicates, retry a few
// times quickly, bound each attempt, and turn panics into errors.
func ExampleChain_builtins() {
	calls := 0
	h := eda.Chain(
		eda.Deduplicate(time.Hour),
		eda.Retry(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}),
		eda.Timeout(time.Second),
		eda.Recover(),
	)(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		calls++
		if calls == 1 {
			panic("database connection lost")
		}
		fmt.Println("stored", d.ID)
		return nil
	}))
	d := eda.Delivery{ID: "order-1", Destination: "store"}
	fmt.Println(h.Handle(context.Background(), d))
	fmt.Println(h.Handle(context.Background(), d)) // a redelivery
	fmt.Println("calls:", calls)
	// Output:
	// stored order-1
	// <nil>
	// <nil>
	// calls: 2
}

func ExampleRecover() {
	h := eda.Recover()(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		panic("boom")
	}))
	err := h.Handle(context.Background(), eda.Delivery{ID: "1"})
	fmt.Println(err)
	var pe *eda.PanicError
	if errors.As(err, &pe) {
		fmt.Println(strings.Contains(string(pe.Stack), "ExampleRecover"))
	}
	// Output:
	// eda: handler panicked: boom
	// true
}

func ExampleTimeout() {
	h := eda.Timeout(10 * time.Millisecond)(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		<-ctx.Done() // a slow call that honours its context
		return ctx.Err()
	}))
	err := h.Handle(context.Background(), eda.Delivery{ID: "1"})
	fmt.Println(err)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// eda: handler timed out after 10ms: context deadline exceeded
	// true
}

func ExampleRetry() {
	attempts := 0
	h := eda.Retry(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})(
		eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
			attempts++
			return errors.New("service unavailable")
		}))
	err := h.Handle(context.Background(), eda.Delivery{ID: "1"})
	fmt.Println(err)
	var re *eda.RetryError
	if errors.As(err, &re) {
		fmt.Println(re.Attempts, re.Reason, attempts)
	}
	// Output:
	// eda: retry gave up after 3 attempts (max-attempts): service unavailable
	// 3 max-attempts 3
}

func ExampleDeduplicate() {
	h := eda.Deduplicate(time.Hour)(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		fmt.Println("charging for", d.ID, "at", d.Destination)
		return nil
	}))
	ctx := context.Background()
	_ = h.Handle(ctx, eda.Delivery{ID: "order-1", Destination: "billing", Attempt: 1})
	_ = h.Handle(ctx, eda.Delivery{ID: "order-1", Destination: "billing", Attempt: 2}) // skipped
	_ = h.Handle(ctx, eda.Delivery{ID: "order-2", Destination: "billing", Attempt: 1})
	// Output:
	// charging for order-1 at billing
	// charging for order-2 at billing
}

func ExampleCircuitBreaker() {
	h := eda.CircuitBreaker(eda.WithBreakerThreshold(2), eda.WithBreakerOpenDuration(time.Minute))(
		eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
			return errors.New("connection refused")
		}))
	for range 3 {
		err := h.Handle(context.Background(), eda.Delivery{ID: "1"})
		fmt.Println(err, errors.Is(err, eda.ErrCircuitOpen))
	}
	// Output:
	// connection refused false
	// connection refused false
	// eda: circuit breaker open true
}

func ExampleLogging() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{} // drop what changes from run to run
			}
			return a
		},
	}))
	h := eda.Logging(logger)(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		if d.Attempt == 1 {
			return errors.New("timeout")
		}
		return nil
	}))
	d := eda.Delivery{ID: "e1", Router: "orders", Rule: "paid", Destination: "mailer", Attempt: 1}
	_ = h.Handle(context.Background(), d)
	d.Attempt = 2
	_ = h.Handle(context.Background(), d)
	// Output:
	// level=WARN msg="delivery failed" id=e1 router=orders rule=paid destination=mailer attempt=1 error=timeout
	// level=DEBUG msg=delivered id=e1 router=orders rule=paid destination=mailer attempt=2
}

func ExampleRateLimit() {
	// Two calls at once, then one every 10ms.
	h := eda.RateLimit(100, 2)(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error { return nil }))
	start := time.Now()
	for range 4 {
		_ = h.Handle(context.Background(), eda.Delivery{ID: "1"})
	}
	fmt.Println(time.Since(start) >= 20*time.Millisecond)
	// Output:
	// true
}
