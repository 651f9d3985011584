package eda

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type traceKey struct{}

// A handler's context carries the values of the context its event was
// published with — a trace id started at an HTTP request follows the
// event, through a cascade (bus → handler → topic → handler → bus) — but
// not its cancellation: the request may end first.
func TestProducerValuesFollowACascade(t *testing.T) {
	b, err := NewBus("b")
	require.NoError(t, err)
	defer b.Close(context.Background())
	tp, err := NewTopic("t")
	require.NoError(t, err)
	defer tp.Close(context.Background())

	var mu sync.Mutex
	traces := map[string]any{}
	cancelled := map[string]bool{}
	record := func(step string, ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		traces[step] = ctx.Value(traceKey{})
		cancelled[step] = ctx.Err() != nil
	}
	require.NoError(t, b.PutRule(Rule{Name: "first", EventPattern: `{"detail-type":["first"]}`,
		Targets: []Target{HandlerTarget("h", HandlerFunc(func(ctx context.Context, d Delivery) error {
			record("bus handler", ctx)
			_, err := tp.Publish(ctx, Message{Body: []byte("m")})
			return err
		}))}}))
	_, err = tp.Subscribe("s", HandlerFunc(func(ctx context.Context, d Delivery) error {
		record("topic handler", ctx)
		_, err := b.PutEvents(ctx, Event{Source: "s", DetailType: "second", Detail: json.RawMessage(`{}`)})
		return err
	}))
	require.NoError(t, err)
	require.NoError(t, b.PutRule(Rule{Name: "second", EventPattern: `{"detail-type":["second"]}`,
		Targets: []Target{HandlerTarget("h2", HandlerFunc(func(ctx context.Context, d Delivery) error {
			record("bus handler, hop 2", ctx)
			assert.Equal(t, 2, hopsFrom(ctx))
			return nil
		}))}}))

	req, cancel := context.WithCancel(context.WithValue(context.Background(), traceKey{}, "trace-1"))
	_, err = b.PutEvents(req, Event{Source: "s", DetailType: "first", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	cancel() // the request ends before the events are handled
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	require.NoError(t, b.Drain(ctx))
	require.NoError(t, tp.Drain(ctx))
	require.NoError(t, b.Drain(ctx))

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]any{"bus handler": "trace-1", "topic handler": "trace-1", "bus handler, hop 2": "trace-1"}, traces)
	assert.Equal(t, map[string]bool{"bus handler": false, "topic handler": false, "bus handler, hop 2": false}, cancelled,
		"the publisher's cancellation does not reach the handlers")
}

// A router's mark does not travel with the producer's values: a handler of
// a topic that publishes to a closing bus is an outside producer there,
// even if the topic's message came from that bus's handler.
func TestCascadeContextKeepsRouterMarksApart(t *testing.T) {
	b, err := NewBus("b")
	require.NoError(t, err)
	defer b.Close(context.Background())
	busCtx := b.mark(context.Background())
	require.True(t, b.ownsContext(busCtx))
	h := handlerContext(context.Background(), 1, busCtx, nil)
	assert.False(t, b.ownsContext(h))
	assert.Equal(t, 1, hopsFrom(h))
	assert.Same(t, busCtx, handlerContext(busCtx, 0, nil, nil), "nothing to add: no allocation")
}

// hopsFrom returns the hop count of cascadeFrom, for the tests.
func hopsFrom(ctx context.Context) int {
	hops, _ := cascadeFrom(ctx)
	return hops
}
