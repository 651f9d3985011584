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
	// level=WARN msg="eda: delivery attempt failed" destination=orders/placed/crm attempt=1 error="unknown customer"
	// level=WARN msg="eda: dead letter" id=e-1 router=orders rule=placed destination=crm reason=permanent-error attempts=1 error="unknown customer"
}

// WithDeadLetter receives the dead letters of every target that has
// none of its own.
func ExampleWithDeadLetter() {
	ctx := context.Background()
	dlq := eda.DeadLetterFunc(func(ctx context.Context, dl eda.DeadLetter) {
		fmt.Printf("%s/%s: %s after %d attempts: %v\n", dl.Delivery.Rule, dl.Delivery.Destination, dl.Reason, dl.Attempts, dl.Err)
	})
	bus, err := eda.NewBus("orders",
		eda.WithDeadLetter(dlq),
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

// A bus stamps its account and region on events put without them, as
// EventBridge stamps the caller's; rules can match on them.
func ExampleWithAccount() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders", eda.WithAccount("123456789012"), eda.WithRegion("eu-west-1"))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	show := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		var e eda.Event // the whole event: the target has no input option
		if err := json.Unmarshal(d.Payload, &e); err != nil {
			return eda.Permanent(err)
		}
		fmt.Println(e.Account, e.Region)
		return nil
	})
	err = bus.PutRule(eda.Rule{
		Name:         "eu",
		EventPattern: `{"region": [{"prefix": "eu-"}]}`,
		Targets:      []eda.Target{eda.HandlerTarget("show", show)},
	})
	if err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{}`))
	// Output:
	// 123456789012 eu-west-1
}

// A typed producer can stamp resources on its events and marshal the
// detail its own way.
func ExampleWithResources() {
	var put []eda.Event
	fake := eda.ProducerFunc(func(ctx context.Context, entries ...eda.Event) (eda.PutEventsResult, error) {
		put = append(put, entries...)
		return eda.PutEventsResult{Entries: make([]eda.PutEventsResultEntry, len(entries))}, nil
	})
	type Refund struct{ Amount int }
	refunds, err := eda.NewProducer[Refund](fake, "com.example.payments", "RefundIssued",
		eda.WithResources("arn:aws:payments:eu-west-1:123456789012:order/o-1"),
		eda.WithMarshal(func(v any) ([]byte, error) { return json.MarshalIndent(v, "", "") }),
	)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := refunds.Put(context.Background(), Refund{Amount: 5}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(put[0].Resources, strings.ReplaceAll(string(put[0].Detail), "\n", " "))
	// Output:
	// [arn:aws:payments:eu-west-1:123456789012:order/o-1] { "Amount": 5 }
}

// By default a Matcher reads an event only as far as its patterns need;
// WithStrictEvents makes it reject any malformed event.
func ExampleWithStrictEvents() {
	event := []byte(`{"source": "aws.ec2", "detail": {"state": "running",}}`) // a trailing comma
	for _, m := range []*eda.Matcher{eda.NewMatcher(), eda.NewMatcher(eda.WithStrictEvents())} {
		if err := m.Add("ec2", []byte(`{"source": ["aws.ec2"]}`)); err != nil {
			log.Fatal(err)
		}
		ids, err := m.Match(event)
		fmt.Println(ids, err != nil)
	}
	// Output:
	// [ec2] false
	// [] true
}

// WithMaxPatternSize raises or lowers the 4,096-byte limit on a pattern.
func ExampleWithMaxPatternSize() {
	m := eda.NewMatcher(eda.WithMaxPatternSize(32))
	err := m.Add("long", []byte(`{"source": ["com.example.orders", "com.example.payments"]}`))
	fmt.Println(err)
	fmt.Println(m.Add("short", []byte(`{"source": ["aws.ec2"]}`)), m.Len())
	// Output:
	// event pattern: pattern is 58 bytes, more than the limit of 32
	// <nil> 1
}
