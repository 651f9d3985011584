package eda

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

type orderPlaced struct {
	OrderID string  `json:"orderId"`
	Total   float64 `json:"total"`
}

func TestNewProducerValidates(t *testing.T) {
	fake := ProducerFunc(func(context.Context, ...Event) (PutEventsResult, error) { return PutEventsResult{}, nil })
	if _, err := NewProducer[orderPlaced](nil, "s", "d"); err == nil {
		t.Error("nil producer: no error")
	}
	if _, err := NewProducer[orderPlaced](fake, "", "d"); err == nil {
		t.Error("empty source: no error")
	}
	if _, err := NewProducer[orderPlaced](fake, "s", ""); err == nil {
		t.Error("empty detail-type: no error")
	}
}

// TestProducerWithFake shows the point of the Producer interface:
// application code is tested without a bus.
func TestProducerWithFake(t *testing.T) {
	var put []Event
	fake := ProducerFunc(func(_ context.Context, entries ...Event) (PutEventsResult, error) {
		put = append(put, entries...)
		return PutEventsResult{Entries: []PutEventsResultEntry{{EventID: "fake-1"}}}, nil
	})
	p, err := NewProducer[orderPlaced](fake, "com.example.orders", "OrderPlaced", WithResources("arn:orders"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Put(context.Background(), orderPlaced{OrderID: "o-1", Total: 12.5})
	if err != nil || id != "fake-1" {
		t.Fatalf("Put: %q %v", id, err)
	}
	if len(put) != 1 || put[0].Source != "com.example.orders" || put[0].DetailType != "OrderPlaced" ||
		string(put[0].Detail) != `{"orderId":"o-1","total":12.5}` || put[0].Resources[0] != "arn:orders" {
		t.Errorf("put %+v", put)
	}
	if p.Source() != "com.example.orders" || p.DetailType() != "OrderPlaced" {
		t.Error("accessors")
	}

	failing := ProducerFunc(func(context.Context, ...Event) (PutEventsResult, error) {
		return PutEventsResult{FailedEntryCount: 1, Entries: []PutEventsResultEntry{{ErrorCode: ErrorCodeThrottling, ErrorMessage: "slow down"}}}, nil
	})
	p2, _ := NewProducer[orderPlaced](failing, "s", "d")
	_, err = p2.Put(context.Background(), orderPlaced{})
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Code != ErrorCodeThrottling || !ee.Retryable() {
		t.Errorf("entry failure: %v", err)
	}
}

func TestProducerOnBus(t *testing.T) {
	b := newTestBus(t, "producer")
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "big", EventPattern: `{"detail-type":["OrderPlaced"],"detail":{"total":[{"numeric":[">",100]}]}}`,
		Targets: []Target{HandlerTarget("rec", rec, WithInputPath("$.detail"))}})
	p, err := NewProducer[orderPlaced](b, "com.example.orders", "OrderPlaced")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Put(ctx, orderPlaced{OrderID: "small", Total: 5}); err != nil {
		t.Fatal(err)
	}
	id, err := p.Put(ctx, orderPlaced{OrderID: "big", Total: 500})
	if err != nil || !uuidV4.MatchString(id) {
		t.Fatalf("Put: %q %v", id, err)
	}
	drain(t, b)
	got := rec.deliveries()
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("deliveries %+v", got)
	}
	var o orderPlaced
	if err := json.Unmarshal(got[0].Payload, &o); err != nil || o.OrderID != "big" {
		t.Errorf("payload %s", got[0].Payload)
	}

	// A T that is not a JSON object is refused by the bus, per entry.
	ints, _ := NewProducer[int](b, "s", "d")
	_, err = ints.Put(ctx, 42)
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Code != ErrorCodeMalformedDetail {
		t.Errorf("non-object detail: %v", err)
	}
	// Marshal errors surface as they are.
	bad, _ := NewProducer[orderPlaced](b, "s", "d", WithMarshal(func(any) ([]byte, error) { return nil, errors.New("nope") }))
	if _, err := bad.Put(ctx, orderPlaced{}); err == nil {
		t.Error("marshal error: nil")
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Put(ctx, orderPlaced{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
}
