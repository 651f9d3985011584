package eda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/edakit/eda"
)

// printPayload is a handler that prints what its target receives.
func printPayload(name string) eda.Handler {
	return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		fmt.Printf("%s: %s\n", name, d.Payload)
		return nil
	})
}

// BusTarget forwards matching events to another bus unchanged (same id and
// time), as EventBridge's cross-bus targets do; the other bus's rules then
// route them.
func ExampleBusTarget() {
	ctx := context.Background()
	audit, err := eda.NewBus("audit")
	if err != nil {
		log.Fatal(err)
	}
	defer audit.Close(ctx)
	orders, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer orders.Close(ctx)

	err = orders.PutRule(eda.Rule{
		Name:         "to-audit",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.BusTarget("audit-bus", audit)},
	})
	if err != nil {
		log.Fatal(err)
	}
	err = audit.PutRule(eda.Rule{
		Name:         "keep",
		EventPattern: `{"source": ["com.example.orders"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("archive", printPayload("archive"), eda.WithInputPath("$.detail"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := orders.PutEvents(ctx, exampleEvent(`{"orderId":"o-1"}`)); err != nil {
		log.Fatal(err)
	}
	// Drain the first bus, then the one it forwards to.
	if err := orders.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	if err := audit.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// archive: {"orderId":"o-1"}
}

// A handler that puts an event matching its own rule would loop forever;
// the bus refuses an event put more than WithMaxHops times in a row.
func ExampleWithMaxHops() {
	ctx := context.Background()
	bus, err := eda.NewBus("loop", eda.WithMaxHops(3))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	deliveries := 0 // one delivery at a time: MaxConcurrency 1
	echo := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		deliveries++
		fmt.Println("delivery", deliveries)
		res, err := bus.PutEvents(ctx, exampleEvent(`{}`)) // ctx: the bus counts the hop
		if err != nil {
			return err
		}
		if e := res.Entries[0]; e.ErrorCode != "" {
			fmt.Println("refused:", e.ErrorCode)
		}
		return nil
	})
	err = bus.PutRule(eda.Rule{
		Name:         "echo",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("echo", echo, eda.WithMaxConcurrency(1))},
	})
	if err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{}`))
	st := bus.Stats()
	fmt.Println("entries:", st.PutEventsEntries, "refused:", st.PutEventsFailedEntries)
	// Output:
	// delivery 1
	// delivery 2
	// delivery 3
	// delivery 4
	// refused: InvalidArgument
	// entries: 5 refused: 1
}

// WithInput sends a constant instead of the event, as EventBridge's Input
// does; WithInputPath sends a part of the event.
func ExampleWithInput() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	err = bus.PutRule(eda.Rule{
		Name:         "placed",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets: []eda.Target{
			eda.HandlerTarget("constant", printPayload("constant"), eda.WithInput(`{"action": "refresh-dashboard"}`)),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	err = bus.PutRule(eda.Rule{
		Name:         "placed-total",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("path", printPayload("path"), eda.WithInputPath("$.detail.total"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{"orderId":"o-1","total":99.5}`))
	// Unordered output:
	// constant: {"action": "refresh-dashboard"}
	// path: 99.5
}

// DisableRule keeps a rule and its targets but stops matching it, as
// EventBridge's DisableRule does; EnableRule turns it back on.
func ExampleBus_DisableRule() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	err = bus.PutRule(eda.Rule{
		Name:         "placed",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("store", printPayload("store"), eda.WithInputPath("$.detail"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := bus.DisableRule("placed"); err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{"orderId":"o-1"}`)) // no rule matches
	r, err := bus.Rule("placed")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", r.State)
	if err := bus.EnableRule("placed"); err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{"orderId":"o-2"}`))
	fmt.Println(errors.Is(bus.DisableRule("no-such-rule"), eda.ErrRuleNotFound))
	// Output:
	// state: DISABLED
	// store: {"orderId":"o-2"}
	// true
}

// Code that puts events can take a Producer; a test passes a ProducerFunc
// instead of a bus.
func ExampleProducerFunc() {
	type Shipped struct {
		OrderID string `json:"orderId"`
	}
	var sent []eda.Event
	fake := eda.ProducerFunc(func(ctx context.Context, entries ...eda.Event) (eda.PutEventsResult, error) {
		sent = append(sent, entries...)
		res := eda.PutEventsResult{Entries: make([]eda.PutEventsResultEntry, len(entries))}
		for i := range res.Entries {
			res.Entries[i].EventID = fmt.Sprintf("fake-%d", len(sent)-len(entries)+i+1)
		}
		return res, nil
	})

	shipped, err := eda.NewProducer[Shipped](fake, "com.example.shipping", "OrderShipped")
	if err != nil {
		log.Fatal(err)
	}
	id, err := shipped.Put(context.Background(), Shipped{OrderID: "o-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id, sent[0].Source, sent[0].DetailType, string(sent[0].Detail))
	// Output:
	// fake-1 com.example.shipping OrderShipped {"orderId":"o-1"}
}

// An Event marshals to EventBridge's JSON envelope; EntrySize counts it as
// PutEvents' 256 KB limit does.
func ExampleEvent() {
	e := eda.Event{
		ID:         "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		Time:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Source:     "com.example.orders",
		DetailType: "OrderPlaced",
		Account:    "123456789012",
		Region:     "us-east-1",
		Detail:     json.RawMessage(`{"orderId":"o-1"}`),
	}
	b, err := json.Marshal(e)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	fmt.Println("entry size:", eda.EntrySize(&e))
	// Output:
	// {"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"OrderPlaced","source":"com.example.orders","account":"123456789012","time":"2026-01-02T03:04:05Z","region":"us-east-1","resources":[],"detail":{"orderId":"o-1"}}
	// entry size: 60
}
