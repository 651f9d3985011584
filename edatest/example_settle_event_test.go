package edatest_test

import (
	"context"
	"fmt"

	"github.com/edakit/eda"
	"github.com/edakit/eda/edatest"
)

// SettleEvent waits for one request's event and its cascade, while a
// report handler is still busy with another event: Settle would wait for
// that one too.
func ExampleSettleEvent() {
	t := newT()
	defer t.finish()
	bus := edatest.NewBus(t)
	busy := make(chan struct{})
	defer close(busy) // frees the report handler before the bus closes
	shipped := edatest.NewRecorder()
	_ = bus.PutRule(eda.Rule{Name: "report", EventPattern: `{"detail-type": ["DailyReport"]}`,
		Targets: []eda.Target{eda.HandlerTarget("report", eda.HandlerFunc(func(context.Context, eda.Delivery) error {
			<-busy
			return nil
		}))}})
	_ = bus.PutRule(eda.Rule{Name: "ship", EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets: []eda.Target{eda.HandlerTarget("ship", eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
			_, err := bus.PutEvents(ctx, eda.Event{Source: "shipping", DetailType: "OrderShipped", Detail: []byte(`{}`)})
			return err
		}))}})
	_ = bus.PutRule(eda.Rule{Name: "shipped", EventPattern: `{"detail-type": ["OrderShipped"]}`,
		Targets: []eda.Target{eda.HandlerTarget("mail", shipped)}})

	_, _ = bus.PutEvents(context.Background(), eda.Event{Source: "cron", DetailType: "DailyReport", Detail: []byte(`{}`)})
	res, _ := bus.PutEvents(context.Background(), eda.Event{Source: "shop", DetailType: "OrderPlaced", Detail: []byte(`{"id":"o-1"}`)})
	edatest.SettleEvent(t, bus, res.Entries[0].EventID)
	fmt.Println("shipping mails:", shipped.Len())
	// Output: shipping mails: 1
}
