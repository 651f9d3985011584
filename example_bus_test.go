package eda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/edakit/eda"
)

// A bus with one rule: big orders go to a fraud check.
func ExampleNewBus() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	fraudCheck := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		fmt.Printf("fraud check by rule %s: %s\n", d.Rule, d.Payload)
		return nil
	})
	err = bus.PutRule(eda.Rule{
		Name:         "big-orders",
		EventPattern: `{"detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 1000]}]}}`,
		Targets:      []eda.Target{eda.HandlerTarget("fraud-check", fraudCheck, eda.WithInputPath("$.detail"))},
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, detail := range []string{`{"orderId":"o-1","total":25}`, `{"orderId":"o-2","total":4200}`} {
		if _, err := bus.PutEvents(ctx, eda.Event{
			Source:     "com.example.orders",
			DetailType: "OrderPlaced",
			Detail:     json.RawMessage(detail),
		}); err != nil {
			log.Fatal(err)
		}
	}
	bus.Drain(ctx) // wait for the handlers
	// Output:
	// fraud check by rule big-orders: {"orderId":"o-2","total":4200}
}

// PutEvents validates every entry on its own and answers in request order,
// with EventBridge's error codes.
func ExampleBus_PutEvents() {
	ctx := context.Background()
	bus, _ := eda.NewBus("orders")
	defer bus.Close(ctx)

	res, err := bus.PutEvents(ctx,
		eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"orderId":"o-1"}`)},
		eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`["not","an","object"]`)},
		eda.Event{DetailType: "OrderPlaced", Detail: json.RawMessage(`{}`)},
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("failed entries:", res.FailedEntryCount)
	for i, e := range res.Entries {
		if e.ErrorCode != "" {
			fmt.Printf("entry %d: %s\n", i, e.ErrorCode)
		} else {
			fmt.Printf("entry %d: accepted (id of %d characters)\n", i, len(e.EventID))
		}
	}
	// Output:
	// failed entries: 2
	// entry 0: accepted (id of 36 characters)
	// entry 1: MalformedDetail
	// entry 2: InvalidArgument
}

// An input transformer reshapes the event for its target, as in
// EventBridge: JSON paths into variables, variables into a template.
func ExampleWithInputTransformer() {
	ctx := context.Background()
	// WithAWSSources lets the bus take events with AWS services' sources,
	// here a simulated EC2 state change.
	bus, _ := eda.NewBus("ec2", eda.WithAWSSources())
	defer bus.Close(ctx)

	notify := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		fmt.Println(string(d.Payload))
		return nil
	})
	err := bus.PutRule(eda.Rule{
		Name:         "state-change",
		EventPattern: `{"source": ["aws.ec2"]}`,
		Targets: []eda.Target{eda.HandlerTarget("sns", notify, eda.WithInputTransformer(eda.InputTransformer{
			InputPathsMap: map[string]string{"instance": "$.detail.instance-id", "state": "$.detail.state"},
			InputTemplate: `The EC2 instance <instance> has changed state to <state> (rule <aws.events.rule-name>).`,
		}))},
	})
	if err != nil {
		log.Fatal(err)
	}
	bus.PutEvents(ctx, eda.Event{
		Source:     "aws.ec2",
		DetailType: "EC2 Instance State-change Notification",
		Detail:     json.RawMessage(`{"instance-id": "i-1234567890abcdef0", "state": "stopped"}`),
	})
	bus.Drain(ctx)
	// Output:
	// The EC2 instance i-1234567890abcdef0 has changed state to stopped (rule state-change).
}

// A typed producer marshals a Go value as the detail of its events.
func ExampleNewProducer() {
	ctx := context.Background()
	bus, _ := eda.NewBus("orders")
	defer bus.Close(ctx)

	type OrderPlaced struct {
		OrderID string  `json:"orderId"`
		Total   float64 `json:"total"`
	}
	bus.PutRule(eda.Rule{
		Name:         "log",
		EventPattern: `{"source": ["com.example.orders"]}`,
		Targets: []eda.Target{eda.HandlerTarget("log", eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
			var e eda.Event
			json.Unmarshal(d.Payload, &e)
			fmt.Printf("%s from %s: %s\n", e.DetailType, e.Source, e.Detail)
			return nil
		}))},
	})

	orders, err := eda.NewProducer[OrderPlaced](bus, "com.example.orders", "OrderPlaced")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := orders.Put(ctx, OrderPlaced{OrderID: "o-7", Total: 99.5}); err != nil {
		log.Fatal(err)
	}
	bus.Drain(ctx)
	// Output:
	// OrderPlaced from com.example.orders: {"orderId":"o-7","total":99.5}
}

// Describe returns the topology as data; Mermaid draws it.
// storeOrder and archive are the handlers of ExampleBus_Describe, which
// names them after their functions.
func storeOrder(context.Context, eda.Delivery) error { return nil }

func archive(context.Context, eda.Delivery) error { return nil }

func ExampleBus_Describe() {
	ctx := context.Background()
	audit, _ := eda.NewBus("audit")
	defer audit.Close(ctx)
	orders, _ := eda.NewBus("orders")
	defer orders.Close(ctx)

	orders.PutRule(eda.Rule{
		Name:         "placed",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("store", eda.HandlerFunc(storeOrder)), eda.BusTarget("to-audit", audit)},
	})
	audit.PutRule(eda.Rule{
		Name:         "keep",
		EventPattern: `{"source": [{"prefix": "com.example."}]}`,
		Targets:      []eda.Target{eda.HandlerTarget("archive", eda.HandlerFunc(archive), eda.WithInputPath("$.detail"))},
	})

	topo := orders.Describe()
	for _, b := range topo.Buses {
		for _, r := range b.Rules {
			for _, t := range r.Targets {
				fmt.Printf("%s / %s -> %s (%s %s)\n", b.Name, r.Name, t.ID, t.Kind, t.Destination)
			}
		}
	}
	fmt.Print(topo.Mermaid())
	// Output:
	// orders / placed -> store (handler eda_test.storeOrder)
	// orders / placed -> to-audit (bus audit)
	// audit / keep -> archive (handler eda_test.archive)
	// flowchart LR
	//   bus0(["bus: orders"])
	//   bus0_rule0{{"rule: placed<br/>{#quot;detail-type#quot;:[#quot;OrderPlaced#quot;]}"}}
	//   bus0 --> bus0_rule0
	//   bus0_rule0_target0["store<br/>handler: eda_test.storeOrder"]
	//   bus0_rule0 --> bus0_rule0_target0
	//   bus0_rule0 -->|"to-audit"| bus1
	//   bus1(["bus: audit"])
	//   bus1_rule0{{"rule: keep<br/>{#quot;source#quot;:[{#quot;prefix#quot;:#quot;com.example.#quot;}]}"}}
	//   bus1 --> bus1_rule0
	//   bus1_rule0_target0["archive<br/>handler: eda_test.archive<br/>input-path $.detail"]
	//   bus1_rule0 --> bus1_rule0_target0
}
