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

// A dead letter holds both what the target was to receive (here an input
// transformation's output) and, like an EventBridge dead-letter queue, the
// event that failed, which can be inspected or put again.
func ExampleWithDeadLetter_target() {
	ctx := context.Background()
	bus, err := eda.NewBus("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close(ctx)

	var letters []eda.DeadLetter
	dlq := eda.DeadLetterFunc(func(ctx context.Context, dl eda.DeadLetter) {
		letters = append(letters, dl) // one target, one worker at a time here
	})
	mailer := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		return eda.Permanent(errors.New("mailbox does not exist"))
	})
	err = bus.PutRule(eda.Rule{
		Name:         "confirm",
		EventPattern: `{"detail-type": ["OrderStored"]}`,
		Targets: []eda.Target{eda.HandlerTarget("mailer", mailer,
			eda.WithMaxConcurrency(1),
			eda.WithDeadLetter(dlq),
			eda.WithInputTransformer(eda.InputTransformer{
				InputPathsMap: map[string]string{"to": "$.detail.email"},
				InputTemplate: `{"to": <to>}`,
			}))},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = bus.PutEvents(ctx, eda.Event{
		ID:         "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		Time:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Source:     "com.example.orders",
		DetailType: "OrderStored",
		Detail:     json.RawMessage(`{"orderId":"o-4","email":"dave@bounce.example"}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	bus.Drain(ctx) // wait for the delivery and its dead letter

	for _, dl := range letters {
		fmt.Printf("%s/%s: %s after %d attempt: %v\n", dl.Delivery.Rule, dl.Delivery.Destination, dl.Reason, dl.Attempts, dl.Err)
		fmt.Printf("input: %s\n", dl.Delivery.Payload)
		var e eda.Event
		if err := json.Unmarshal(dl.Event, &e); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("event: %s %s %s\n", e.ID, e.DetailType, e.Detail)
	}
	// Output:
	// confirm/mailer: permanent-error after 1 attempt: mailbox does not exist
	// input: {"to":"dave@bounce.example"}
	// event: 6a7e8feb-b491-4cf7-a9f1-bf3703467718 OrderStored {"orderId":"o-4","email":"dave@bounce.example"}
}
