package eda_test

import (
	"context"
	"fmt"
	"log"

	"github.com/edakit/eda"
)

// As in EventBridge, a rule and its targets are managed apart: PutRule
// without targets keeps the rule's targets, PutTargets adds or replaces
// targets by id, RemoveTargets removes them.
func ExampleBus_PutTargets() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	nop := eda.HandlerFunc(func(context.Context, eda.Delivery) error { return nil })
	if err := bus.PutRule(eda.Rule{Name: "placed", EventPattern: `{"detail-type": ["OrderPlaced"]}`}); err != nil {
		log.Fatal(err)
	}
	if err := bus.PutTargets("placed", eda.HandlerTarget("store", nop), eda.HandlerTarget("audit", nop)); err != nil {
		log.Fatal(err)
	}
	// A new pattern; the targets stay.
	if err := bus.PutRule(eda.Rule{Name: "placed", EventPattern: `{"detail-type": ["OrderPlaced", "OrderAmended"]}`}); err != nil {
		log.Fatal(err)
	}
	if err := bus.RemoveTargets("placed", "audit"); err != nil {
		log.Fatal(err)
	}
	targets, err := bus.ListTargetsByRule("placed")
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range targets {
		fmt.Println(t.TargetID())
	}
	fmt.Println(bus.PutTargets("missing", eda.HandlerTarget("store", nop)))
	// Output:
	// store
	// eda: rule not found: "missing"
}

// Rules lists the rules whose name begins with a prefix, as ListRules's
// NamePrefix.
func ExampleBus_Rules() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)
	for _, name := range []string{"orders-placed", "orders-paid", "billing"} {
		if err := bus.PutRule(eda.Rule{Name: name, EventPattern: `{"source": ["com.example"]}`}); err != nil {
			log.Fatal(err)
		}
	}
	for _, r := range bus.Rules("orders-") {
		fmt.Println(r.Name)
	}
	fmt.Println(len(bus.Rules()), "rules in all")
	// Output:
	// orders-paid
	// orders-placed
	// 3 rules in all
}

// mailer is a handler that names itself for Describe through the Named
// interface, without a wrapper.
type mailer struct{ host string }

func (m *mailer) Handle(context.Context, eda.Delivery) error { return nil }

func (m *mailer) Name() string { return "mailer via " + m.host }

func ExampleNamed() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)
	err = bus.PutRule(eda.Rule{
		Name:         "confirm",
		EventPattern: `{"detail-type": ["OrderStored"]}`,
		Targets: []eda.Target{
			eda.HandlerTarget("mail", &mailer{host: "smtp.example.com"}),
			eda.HandlerTarget("store", eda.HandlerOf(storeConfirmation)),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range bus.Describe().Buses[0].Rules[0].Targets {
		fmt.Println(t.ID, "->", t.Destination)
	}
	// Output:
	// mail -> mailer via smtp.example.com
	// store -> eda_test.storeConfirmation
}

// confirmation is the detail ExampleNamed's typed handler decodes.
type confirmation struct {
	OrderID string `json:"orderId"`
}

func storeConfirmation(context.Context, confirmation) error { return nil }
