package eda

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type probeKey struct{}

// The copies of a message share one handler context made for the engine's
// context, and a dead letter (another engine context) gets its own; each
// carries the hop count and the publisher's values.
func TestPublishedHandlerContext(t *testing.T) {
	producer := context.WithValue(context.Background(), probeKey{}, "v")
	p := newPublished(&Message{Body: []byte("b")}, time.Now(), 1, producer)
	engineCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := p.handlerContext(engineCtx)
	assert.Same(t, first, p.handlerContext(engineCtx), "shared by the copies")
	assert.Equal(t, "v", first.Value(probeKey{}))
	assert.Equal(t, 1, hopsFrom(first))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = p.handlerContext(engineCtx) }))
	dl := p.handlerContext(context.Background())
	assert.NotSame(t, first, dl)
	assert.Equal(t, "v", dl.Value(probeKey{}))
	cancel()
	assert.Error(t, first.Err(), "the engine's cancellation reaches the handler")

	none := newPublished(&Message{Body: []byte("b")}, time.Now(), 0, nil)
	assert.Same(t, engineCtx, none.handlerContext(engineCtx), "nothing to add")
}

// The body is copied (the caller may reuse its buffer) into the message's
// own allocation up to maxInlineBody bytes, and apart beyond.
func TestNewPublishedCopiesTheBody(t *testing.T) {
	for _, n := range []int{1, 64, 65, 200, 1024, 2049, maxInlineBody, maxInlineBody + 1, 100_000} {
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(i)
		}
		m := Message{Body: body, Subject: "s", Attributes: map[string]Attribute{"a": strAttr("x")}}
		p := newPublished(&m, time.Now(), 0, nil)
		require.Equal(t, body, p.body, "n=%d", n)
		require.Equal(t, n, cap(p.body), "n=%d", n)
		body[0]++
		m.Attributes["a"] = strAttr("changed")
		assert.NotEqual(t, body[0], p.body[0], "n=%d: the body is a copy", n)
		assert.Equal(t, "x", p.attrs["a"].StringValue, "the attributes are a copy")
	}
}

// A Publish to a topic with one subscriber costs at most one allocation
// per delivered copy, delivery included, even with a publisher's context
// whose values follow the message; one that no subscription takes costs
// its id only.
func TestTopicPublishAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	tp := newTestTopic(t, "allocs")
	_, err := tp.Subscribe("s", HandlerFunc(func(context.Context, Delivery) error { return nil }), WithRawDelivery())
	require.NoError(t, err)
	_, err = tp.Subscribe("picky", HandlerFunc(func(context.Context, Delivery) error { return nil }),
		WithFilterPolicy([]byte(`{"k":["x"]}`), ScopeMessageAttributes), WithRawDelivery())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := Message{Body: make([]byte, 200)}
	publish := func() {
		if _, err := tp.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	publish() // the subscription's first worker
	drainTopic(t, tp)
	allocs := testing.AllocsPerRun(1000, publish)
	drainTopic(t, tp)
	t.Logf("%.3f allocations per Publish with one delivered copy", allocs)
	assert.LessOrEqual(t, allocs, 1.2, "one delivered copy")

	solo, err := NewTopic("solo")
	require.NoError(t, err)
	defer solo.Close(context.Background())
	_, err = solo.Subscribe("picky", HandlerFunc(func(context.Context, Delivery) error { return nil }),
		WithFilterPolicy([]byte(`{"k":["x"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	filtered := Message{Body: []byte("b"), Attributes: map[string]Attribute{"k": strAttr("y")}}
	assert.Equal(t, 1.0, testing.AllocsPerRun(1000, func() {
		if _, err := solo.Publish(ctx, filtered); err != nil {
			t.Fatal(err)
		}
	}), "filtered out everywhere: the id only")
}
