package eda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edakit/eda"
)

// exampleEvent is an OrderPlaced event with the given detail.
func exampleEvent(detail string) eda.Event {
	return eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(detail)}
}

// putAndDrain puts events on bus and waits until they are delivered or
// dead-lettered.
func putAndDrain(ctx context.Context, bus *eda.Bus, events ...eda.Event) {
	res, err := bus.PutEvents(ctx, events...)
	if err != nil {
		log.Fatal(err)
	}
	if err := res.Err(); err != nil {
		log.Fatal(err)
	}
	if err := bus.Drain(ctx); err != nil {
		log.Fatal(err)
	}
}

// NoRetries is EventBridge's MaximumRetryAttempts: 0 — one attempt, then
// the dead letters. The zero RetryPolicy is not: it means the default of
// 185 attempts.
func ExampleNoRetries() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	charge := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		fmt.Println("charge attempt", d.Attempt)
		return errors.New("card declined")
	})
	dlq := eda.DeadLetterFunc(func(ctx context.Context, dl eda.DeadLetter) {
		fmt.Printf("dead letter after %d attempt (%s): %v\n", dl.Attempts, dl.Reason, dl.Err)
	})
	err = bus.PutRule(eda.Rule{
		Name:         "charge",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets: []eda.Target{eda.HandlerTarget("payments", charge,
			eda.WithRetryPolicy(eda.NoRetries()), // not eda.RetryPolicy{}: that is 185 attempts
			eda.WithDeadLetter(dlq),
		)},
	})
	if err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{"orderId":"o-1"}`))
	// Output:
	// charge attempt 1
	// dead letter after 1 attempt (max-attempts): card declined
}

// HandlerOfDelivery decodes the detail like HandlerOf and also passes the
// Delivery, whose ID is the same on every attempt: an idempotency key.
func ExampleHandlerOfDelivery() {
	type OrderPlaced struct {
		OrderID string  `json:"orderId"`
		Total   float64 `json:"total"`
	}
	charged := map[string]bool{} // by event id; one call at a time here
	h := eda.HandlerOfDelivery(func(ctx context.Context, o OrderPlaced, d eda.Delivery) error {
		if charged[d.ID] {
			fmt.Printf("attempt %d of %s: already charged\n", d.Attempt, d.ID)
			return nil
		}
		charged[d.ID] = true
		fmt.Printf("attempt %d of %s: charged %.2f for %s\n", d.Attempt, d.ID, o.Total, o.OrderID)
		return nil
	})

	event := []byte(`{"id":"e-1","source":"shop","detail-type":"OrderPlaced","detail":{"orderId":"o-17","total":42.5}}`)
	ctx := context.Background()
	for attempt := 1; attempt <= 2; attempt++ { // a redelivery, as after a failure
		if err := h.Handle(ctx, eda.Delivery{ID: "e-1", Attempt: attempt, Kind: eda.PayloadEvent, Payload: event}); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// attempt 1 of e-1: charged 42.50 for o-17
	// attempt 2 of e-1: already charged
}

// fastClock is a Clock that fires every timer at once and moves its time
// forward by the timer's duration: a test's retries take no time.
type fastClock struct {
	mu     sync.Mutex
	now    time.Time
	timers int // how many timers were set
}

func (c *fastClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fastClock) AfterFunc(d time.Duration, f func()) eda.Timer {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.timers++
	c.mu.Unlock()
	t := &fastTimer{}
	go func() { // never inside AfterFunc
		if t.state.CompareAndSwap(0, 1) {
			f()
		}
	}()
	return t
}

// fastTimer is 0 while pending, 1 once fired, 2 once stopped.
type fastTimer struct{ state atomic.Int32 }

func (t *fastTimer) Stop() bool { return t.state.CompareAndSwap(0, 2) }

// WithClock replaces the clock that stamps events and times retries. With
// a clock that fires at once, EventBridge's backoffs (up to 3 minutes
// between attempts) take no time.
func ExampleWithClock() {
	ctx := context.Background()
	clock := &fastClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	bus, err := eda.NewBus("orders", eda.WithClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	flaky := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		if d.Attempt < 4 {
			return errors.New("service unavailable")
		}
		fmt.Printf("delivered on attempt %d; event time %s\n", d.Attempt, d.Time.Format(time.RFC3339))
		return nil
	})
	err = bus.PutRule(eda.Rule{
		Name:         "all",
		EventPattern: `{"source": ["com.example.orders"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("flaky", flaky)}, // the default policy: 1 s to 3 min backoffs
	})
	if err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{"orderId":"o-1"}`))
	clock.mu.Lock()
	fmt.Println("backoff timers, fired at once:", clock.timers)
	clock.mu.Unlock()
	// Output:
	// delivered on attempt 4; event time 2026-01-02T03:04:05Z
	// backoff timers, fired at once: 3
}

// Drain waits until every accepted event has been delivered or
// dead-lettered — retries and the events handlers put included — while
// the bus stays open.
func ExampleBus_Drain() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	var handled atomic.Int64
	slow := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		time.Sleep(time.Millisecond) // some work
		handled.Add(1)
		return nil
	})
	err = bus.PutRule(eda.Rule{
		Name:         "all",
		EventPattern: `{"source": ["com.example.orders"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("slow", slow)},
	})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 20 {
		if _, err := bus.PutEvents(ctx, exampleEvent(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			log.Fatal(err)
		}
	}
	if err := bus.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("handled after Drain:", handled.Load())
	// Output:
	// handled after Drain: 20
}

// Close stops intake and waits for what was accepted. When its context
// ends first, it cancels the running handlers, dead-letters what is left
// with reason "shutdown", and returns a *ShutdownError.
func ExampleBus_Close() {
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	started := make(chan struct{}, 1)
	stuck := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		started <- struct{}{}
		<-ctx.Done() // waits for a reply that never comes, until Close gives up
		return ctx.Err()
	})
	var mu sync.Mutex
	var reasons []string
	dlq := eda.DeadLetterFunc(func(ctx context.Context, dl eda.DeadLetter) {
		mu.Lock()
		reasons = append(reasons, string(dl.Reason))
		mu.Unlock()
	})
	err = bus.PutRule(eda.Rule{
		Name:         "all",
		EventPattern: `{"source": ["com.example.orders"]}`,
		Targets: []eda.Target{eda.HandlerTarget("stuck", stuck,
			eda.WithMaxConcurrency(1), eda.WithDeadLetter(dlq))},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, detail := range []string{`{"orderId":"o-1"}`, `{"orderId":"o-2"}`} {
		if _, err := bus.PutEvents(ctx, exampleEvent(detail)); err != nil {
			log.Fatal(err)
		}
	}
	<-started // o-1 is being handled; o-2 waits in the queue

	closeCtx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = bus.Close(closeCtx)
	var se *eda.ShutdownError
	fmt.Println(errors.As(err, &se), errors.Is(err, context.DeadlineExceeded))
	mu.Lock()
	fmt.Println("dead-lettered:", reasons)
	mu.Unlock()

	_, err = bus.PutEvents(ctx, exampleEvent(`{"orderId":"o-3"}`))
	fmt.Println(errors.Is(err, eda.ErrClosed))
	// Output:
	// true true
	// dead-lettered: [shutdown shutdown]
	// true
}

// Stats reports EventBridge's CloudWatch metrics for the bus, each rule
// and each target.
func ExampleBus_Stats() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders", eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	var failed atomic.Bool
	flaky := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		if failed.CompareAndSwap(false, true) {
			return errors.New("first call fails")
		}
		return nil
	})
	logger := eda.DeadLetterFunc(func(context.Context, eda.DeadLetter) {})
	err = bus.PutRule(eda.Rule{
		Name:         "big-orders",
		EventPattern: `{"detail": {"total": [{"numeric": [">", 1000]}]}}`,
		Targets:      []eda.Target{eda.HandlerTarget("fraud-check", flaky, eda.WithDeadLetter(logger))},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = bus.PutEvents(ctx,
		exampleEvent(`{"total":25}`),
		exampleEvent(`{"total":4200}`),
		exampleEvent(`[]`), // refused: the detail is not an object
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := bus.Drain(ctx); err != nil {
		log.Fatal(err)
	}

	st := bus.Stats()
	fmt.Printf("bus %s: entries %d, failed %d, matched %d\n",
		st.Bus, st.PutEventsEntries, st.PutEventsFailedEntries, st.MatchedEvents)
	rs, _ := st.Rule("big-orders")
	fmt.Printf("rule %s: matched %d, triggered %d\n", rs.Rule, rs.MatchedEvents, rs.TriggeredRules)
	ts, _ := rs.Target("fraud-check")
	fmt.Printf("target %s: invocations %d, attempts %d, retries %d, failed %d\n",
		ts.Target, ts.Invocations, ts.InvocationAttempts, ts.RetryInvocationAttempts, ts.FailedInvocations)
	// Output:
	// bus orders: entries 3, failed 1, matched 1
	// rule big-orders: matched 1, triggered 1
	// target fraud-check: invocations 1, attempts 2, retries 1, failed 0
}

// When a target's queue is full, PutEvents waits for room until its context
// ends; then the entry fails with ThrottlingException. Nothing is dropped
// silently.
func ExampleWithQueueSize() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders", eda.WithQueueSize(1), eda.WithMaxConcurrency(1))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	started, release := make(chan struct{}, 1), make(chan struct{})
	busy := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return nil
	})
	err = bus.PutRule(eda.Rule{
		Name:         "all",
		EventPattern: `{"source": ["com.example.orders"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("busy", busy)},
	})
	if err != nil {
		log.Fatal(err)
	}
	put := func(ctx context.Context, detail string) string {
		res, err := bus.PutEvents(ctx, exampleEvent(detail))
		if err != nil {
			log.Fatal(err)
		}
		if code := res.Entries[0].ErrorCode; code != "" {
			return string(code)
		}
		return "accepted"
	}
	fmt.Println("o-1:", put(ctx, `{"orderId":"o-1"}`)) // taken by the one worker
	<-started
	fmt.Println("o-2:", put(ctx, `{"orderId":"o-2"}`)) // fills the queue
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	fmt.Println("o-3:", put(short, `{"orderId":"o-3"}`)) // no room before the context ends
	close(release)
	if err := bus.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// o-1: accepted
	// o-2: accepted
	// o-3: ThrottlingException
}

// Target middleware wraps one target's handler, inside the bus's
// middleware.
func ExampleWithMiddleware() {
	ctx := context.Background()
	trace := func(name string) eda.Middleware {
		return func(next eda.Handler) eda.Handler {
			return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
				fmt.Println(name, "sees", d.Destination)
				return next.Handle(ctx, d)
			})
		}
	}
	bus, err := eda.NewBus("orders", eda.WithMiddleware(trace("bus middleware")))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	store := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		fmt.Println("store handles", d.ID)
		return nil
	})
	err = bus.PutRule(eda.Rule{
		Name:         "all",
		EventPattern: `{"source": ["com.example.orders"]}`,
		Targets: []eda.Target{eda.HandlerTarget("store", store,
			eda.WithMiddleware(trace("target middleware")))},
	})
	if err != nil {
		log.Fatal(err)
	}
	e := exampleEvent(`{"orderId":"o-1"}`)
	e.ID = "e-1"
	putAndDrain(ctx, bus, e)
	// Output:
	// bus middleware sees store
	// target middleware sees store
	// store handles e-1
}

// Decode reads a delivery's body — an event's detail, a target's input, an
// SNS message — into a Go value; Body returns it as bytes.
func ExampleDelivery_Decode() {
	d := eda.Delivery{Kind: eda.PayloadEvent, Payload: []byte(
		`{"id":"e-1","source":"shop","detail-type":"OrderPlaced","detail":{"orderId":"o-1","total":12.5}}`)}
	var o struct {
		OrderID string  `json:"orderId"`
		Total   float64 `json:"total"`
	}
	if err := d.Decode(&o); err != nil {
		log.Fatal(err)
	}
	fmt.Println(o.OrderID, o.Total)
	body, ok := d.Body()
	fmt.Println(string(body), ok)

	text := eda.Delivery{Kind: eda.PayloadInput, Payload: []byte(`Order o-1 shipped`)}
	var s string
	if err := text.Decode(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output:
	// o-1 12.5
	// {"orderId":"o-1","total":12.5} true
	// Order o-1 shipped
}
