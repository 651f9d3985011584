package eda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/edakit/eda"
)

// Without a dead-letter handler, a dead letter is logged at Warn level on
// the bus's logger, with what failed and why.
func ExampleWithLogger() {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // drop what changes from run to run
			}
			return a
		},
	}))
	bus, err := eda.NewBus("orders", eda.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	reject := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		return eda.Permanent(errors.New("unknown customer"))
	})
	err = bus.PutRule(eda.Rule{
		Name:         "placed",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("crm", reject)},
	})
	if err != nil {
		log.Fatal(err)
	}
	e := exampleEvent(`{"orderId":"o-1"}`)
	e.ID = "e-1"
	putAndDrain(ctx, bus, e)
	// Output:
	// level=WARN msg="eda: dead letter" id=e-1 router=orders rule=placed destination=crm reason=permanent-error attempts=1 error="unknown customer"
}

// WithDeadLetterHandler receives the dead letters of every target that has
// none of its own.
func ExampleWithDeadLetterHandler() {
	ctx := context.Background()
	dlq := eda.DeadLetterFunc(func(ctx context.Context, dl eda.DeadLetter) {
		fmt.Printf("%s/%s: %s after %d attempts: %v\n", dl.Delivery.Rule, dl.Delivery.Destination, dl.Reason, dl.Attempts, dl.Err)
	})
	bus, err := eda.NewBus("orders",
		eda.WithDeadLetterHandler(dlq),
		eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	down := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		return errors.New("connection refused")
	})
	err = bus.PutRule(eda.Rule{
		Name:         "placed",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("warehouse", down)},
	})
	if err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{"orderId":"o-1"}`))
	// Output:
	// placed/warehouse: max-attempts after 2 attempts: connection refused
}

// PutEventsResult.Err turns the failed entries into one error; each is an
// *EntryError that says whether putting it again may succeed.
func ExamplePutEventsResult_Err() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders", eda.WithEntrySizeLimit(100))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	res, err := bus.PutEvents(ctx,
		exampleEvent(`{"orderId":"o-1"}`),
		exampleEvent(`{"note":"`+strings.Repeat("x", 100)+`"}`),
	)
	if err != nil {
		log.Fatal(err)
	}
	err = res.Err()
	var ee *eda.EntryError
	if errors.As(err, &ee) {
		fmt.Println(ee.Index, ee.Code, ee.Retryable())
	}
	// Output:
	// 1 InvalidArgument false
}

// A Pattern is one compiled pattern; Match tests events against it.
func ExamplePattern_Match() {
	p, err := eda.ParsePattern([]byte(`{"detail": {"state": [{"anything-but": {"prefix": "stop"}}]}}`))
	if err != nil {
		log.Fatal(err)
	}
	for _, state := range []string{"running", "stopping", "stopped"} {
		ok, err := p.Match([]byte(`{"detail": {"state": "` + state + `"}}`))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(state, ok)
	}
	// Output:
	// running true
	// stopping false
	// stopped false
}

// By default Deduplicate tells deliveries apart by event and destination;
// WithDedupKey can key them by anything, such as an order id in the body.
func ExampleWithDedupKey() {
	byOrder := eda.WithDedupKey(func(d eda.Delivery) string {
		var o struct {
			OrderID string `json:"orderId"`
		}
		if d.Decode(&o) != nil {
			return "" // not deduplicated
		}
		return o.OrderID
	})
	h := eda.Deduplicate(time.Hour, byOrder)(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		fmt.Println("shipping", d.ID)
		return nil
	}))
	ctx := context.Background()
	for _, d := range []eda.Delivery{
		{ID: "e-1", Kind: eda.PayloadInput, Payload: json.RawMessage(`{"orderId":"o-1"}`)},
		{ID: "e-2", Kind: eda.PayloadInput, Payload: json.RawMessage(`{"orderId":"o-1"}`)}, // the same order put twice
		{ID: "e-3", Kind: eda.PayloadInput, Payload: json.RawMessage(`{"orderId":"o-2"}`)},
	} {
		if err := h.Handle(ctx, d); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// shipping e-1
	// shipping e-3
}

// DeleteRule removes a rule; Rules lists those left, sorted by name.
func ExampleBus_DeleteRule() {
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(context.Background())

	for _, name := range []string{"placed", "paid", "shipped"} {
		err := bus.PutRule(eda.Rule{Name: name, EventPattern: `{"detail-type": ["` + name + `"]}`})
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := bus.DeleteRule("paid"); err != nil {
		log.Fatal(err)
	}
	for _, r := range bus.Rules() {
		fmt.Println(r.Name, r.State)
	}
	fmt.Println(errors.Is(bus.DeleteRule("paid"), eda.ErrRuleNotFound))
	// Output:
	// placed ENABLED
	// shipped ENABLED
	// true
}
