package eda

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type orderPlaced struct {
	OrderID string  `json:"orderId"`
	Total   float64 `json:"total"`
}

func TestNewProducerValidates(t *testing.T) {
	fake := ProducerFunc(func(context.Context, ...Event) (PutEventsResult, error) { return PutEventsResult{}, nil })
	_, err := NewProducer[orderPlaced](nil, "s", "d")
	assert.Error(t, err, "nil producer")
	_, err = NewProducer[orderPlaced](fake, "", "d")
	assert.Error(t, err, "empty source")
	_, err = NewProducer[orderPlaced](fake, "s", "")
	assert.Error(t, err, "empty detail-type")
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
	require.NoError(t, err)
	id, err := p.Put(context.Background(), orderPlaced{OrderID: "o-1", Total: 12.5})
	require.NoError(t, err, "Put")
	assert.Equal(t, "fake-1", id)
	require.Len(t, put, 1)
	assert.Equal(t, "com.example.orders", put[0].Source)
	assert.Equal(t, "OrderPlaced", put[0].DetailType)
	assert.JSONEq(t, `{"orderId":"o-1","total":12.5}`, string(put[0].Detail))
	assert.Equal(t, []string{"arn:orders"}, put[0].Resources)
	assert.Equal(t, "com.example.orders", p.Source())
	assert.Equal(t, "OrderPlaced", p.DetailType())

	failing := ProducerFunc(func(context.Context, ...Event) (PutEventsResult, error) {
		return PutEventsResult{FailedEntryCount: 1, Entries: []PutEventsResultEntry{{ErrorCode: ErrorCodeThrottling, ErrorMessage: "slow down"}}}, nil
	})
	p2, _ := NewProducer[orderPlaced](failing, "s", "d")
	_, err = p2.Put(context.Background(), orderPlaced{})
	var ee *EntryError
	require.ErrorAs(t, err, &ee, "entry failure")
	assert.Equal(t, ErrorCodeThrottling, ee.Code)
	assert.True(t, ee.Retryable(), "retryable")
}

func TestProducerOnBus(t *testing.T) {
	b := newTestBus(t, "producer")
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "big", EventPattern: `{"detail-type":["OrderPlaced"],"detail":{"total":[{"numeric":[">",100]}]}}`,
		Targets: []Target{HandlerTarget("rec", rec, WithInputPath("$.detail"))}})
	p, err := NewProducer[orderPlaced](b, "com.example.orders", "OrderPlaced")
	require.NoError(t, err)
	ctx := context.Background()
	_, err = p.Put(ctx, orderPlaced{OrderID: "small", Total: 5})
	require.NoError(t, err)
	id, err := p.Put(ctx, orderPlaced{OrderID: "big", Total: 500})
	require.NoError(t, err)
	require.Regexp(t, uuidV4, id)
	drain(t, b)
	got := rec.deliveries()
	require.Len(t, got, 1)
	require.Equal(t, id, got[0].ID)
	var o orderPlaced
	require.NoError(t, json.Unmarshal(got[0].Payload, &o), "payload %s", got[0].Payload)
	assert.Equal(t, "big", o.OrderID)

	// A T that is not a JSON object is refused by the bus, per entry.
	ints, _ := NewProducer[int](b, "s", "d")
	_, err = ints.Put(ctx, 42)
	var ee *EntryError
	if assert.ErrorAs(t, err, &ee, "non-object detail") {
		assert.Equal(t, ErrorCodeMalformedDetail, ee.Code)
	}
	// Marshal errors surface, wrapped.
	errNope := errors.New("nope")
	bad, _ := NewProducer[orderPlaced](b, "s", "d", WithMarshal(func(any) ([]byte, error) { return nil, errNope }))
	_, err = bad.Put(ctx, orderPlaced{})
	assert.ErrorIs(t, err, errNope, "the marshal error")
	require.NoError(t, b.Close(ctx))
	_, err = p.Put(ctx, orderPlaced{})
	assert.ErrorIs(t, err, ErrClosed, "Put after Close")
}
