package edatest_test

import (
	"context"
	"fmt"

	"github.com/edakit/eda"
	"github.com/edakit/eda/edatest"
)

// SettleMessage waits for one message published to a topic and for the
// event its subscriber puts on a bus, while an audit subscriber is still
// busy with another message: Settle would wait for that one too.
func ExampleSettleMessage() {
	t := newT()
	defer t.finish()
	topic := edatest.NewTopic(t, "orders")
	bus := edatest.NewBus(t)
	busy := make(chan struct{})
	defer close(busy) // frees the audit subscriber before the routers close
	_, _ = topic.Subscribe("audit", eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		<-busy
		return nil
	}), eda.WithFilterPolicy([]byte(`{"kind": ["audit"]}`), eda.ScopeMessageAttributes))
	_, _ = topic.Subscribe("ship", eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		_, err := bus.PutEvents(ctx, eda.Event{Source: "shipping", DetailType: "OrderShipped", Detail: []byte(`{}`)})
		return err
	}), eda.WithFilterPolicy([]byte(`{"kind": ["order"]}`), eda.ScopeMessageAttributes))
	shipped := edatest.NewRecorder()
	_ = bus.PutRule(eda.Rule{Name: "shipped", EventPattern: `{"detail-type": ["OrderShipped"]}`,
		Targets: []eda.Target{eda.HandlerTarget("mail", shipped)}})

	kind := func(k string) map[string]eda.Attribute {
		return map[string]eda.Attribute{"kind": {DataType: "String", StringValue: k}}
	}
	_, _ = topic.Publish(context.Background(), eda.Message{Body: []byte(`{}`), Attributes: kind("audit")})
	res, _ := topic.Publish(context.Background(), eda.Message{Body: []byte(`{"id":"o-1"}`), Attributes: kind("order")})
	edatest.SettleMessage(t, topic, res.MessageID)
	fmt.Println("shipping mails:", shipped.Len())
	// Output: shipping mails: 1
}
