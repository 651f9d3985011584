package eda

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
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
	p := newPublished(&Message{Body: []byte("b")}, time.Now(), 1, producer, false)
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

	none := newPublished(&Message{Body: []byte("b")}, time.Now(), 0, nil, false)
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
		p := newPublished(&m, time.Now(), 0, nil, false)
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

// The buffer sizes of newPublished grow, end at maxInlineBody, and each
// makes a record and its buffer fill one of the allocator's size classes
// exactly: a message of 200 bytes (a record, no extra) allocates 384
// bytes, not the 480 of a buffer rounded up to a power of two. (The
// classes are those of go.mod's Go version; should a later one change
// them, this test says which rows to update.)
func TestInlineBodiesFitSizeClasses(t *testing.T) {
	for i := 1; i < len(inlineBodies); i++ {
		require.Less(t, inlineBodies[i-1].size, inlineBodies[i].size, "row %d", i)
	}
	require.Equal(t, maxInlineBody, inlineBodies[len(inlineBodies)-1].size)
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	// allocated returns the bytes the allocator takes for one record with
	// a body of n bytes.
	allocated := func(n int) float64 {
		m := Message{Body: make([]byte, n)}
		now := time.Now()
		keep := make([]*published, 1000)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = newPublished(&m, now, 0, nil, false)
		}
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(len(keep))
	}
	perRecord := allocated(200)
	t.Logf("%.0f bytes per record with a body of 200 bytes", perRecord)
	assert.InDelta(t, 384, perRecord, 8, "one size class of 384 bytes")
	for _, c := range inlineBodies[:len(inlineBodies)-1] {
		want := publishedSize + c.size
		if want > 512 {
			want += plusHeader
		}
		assert.InDelta(t, want, allocated(c.size), 8, "a body of %d bytes: nothing wasted", c.size)
	}
}

// A subject, a message group or a FIFO topic's sequence number go into
// the record's extra, in the same allocation; a plain message has none.
func TestPublishedExtra(t *testing.T) {
	plain := newPublished(&Message{Body: []byte("b")}, time.Now(), 0, nil, false)
	assert.Nil(t, plain.x)
	assert.Empty(t, plain.subject())
	assert.Empty(t, plain.group())
	assert.Empty(t, plain.seq())
	for _, body := range [][]byte{[]byte("b"), make([]byte, maxInlineBody+1)} {
		p := newPublished(&Message{Body: body, Subject: "s", GroupID: "g"}, time.Now(), 0, nil, true)
		require.NotNil(t, p.x)
		assert.Equal(t, "s", p.subject())
		assert.Equal(t, "g", p.group())
		assert.Equal(t, body, p.body)
	}
	fifo := newPublished(&Message{Body: []byte("b")}, time.Now(), 0, nil, true)
	assert.NotNil(t, fifo.x, "a FIFO message gets its sequence number there")
	m := Message{Body: []byte("b"), Subject: "s"}
	now := time.Now()
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = newPublished(&m, now, 0, nil, false) }), "one allocation with the extra")
	big := Message{Body: make([]byte, maxInlineBody+1), Subject: "s"}
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() { _ = newPublished(&big, now, 0, nil, false) }), "a large body apart, the extra with the record")
}

// newPublished's lookup picks, for every body size, the smallest buffer
// that holds it.
func TestInlineIndexPicksTheSmallestFit(t *testing.T) {
	for n := 0; n <= maxInlineBody; n++ {
		want := 0
		for inlineBodies[want].size < n {
			want++
		}
		require.Equal(t, want, int(inlineIndex[(n+inlineStep-1)/inlineStep]), "n=%d", n)
	}
	for _, c := range inlineBodies {
		require.Zero(t, c.size%inlineStep, "size %d", c.size)
	}
}

// countingClock is the system clock, counting the calls of Now.
type countingClock struct {
	systemClock
	nows atomic.Int64
}

func (c *countingClock) Now() time.Time {
	c.nows.Add(1)
	return time.Now()
}

// A message that no subscription takes is not stamped with the time:
// nothing would read it. One that a subscription takes is.
func TestTopicFilteredOutReadsNoClock(t *testing.T) {
	clk := &countingClock{}
	tp, err := NewTopic("clocked", WithClock(clk))
	require.NoError(t, err)
	defer tp.Close(context.Background())
	_, err = tp.Subscribe("picky", HandlerFunc(func(context.Context, Delivery) error { return nil }),
		WithFilterPolicy([]byte(`{"k":["x"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	ctx := context.Background()
	before := clk.nows.Load()
	_, err = tp.Publish(ctx, Message{Body: []byte("b"), Attributes: map[string]Attribute{"k": strAttr("y")}})
	require.NoError(t, err)
	assert.Equal(t, before, clk.nows.Load(), "filtered out: no clock reading")
	_, err = tp.Publish(ctx, Message{Body: []byte("b"), Attributes: map[string]Attribute{"k": strAttr("x")}})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, clk.nows.Load(), before+1, "taken: stamped (the engine may read the clock too, as it delivers)")
	require.NoError(t, tp.Drain(ctx))
}

// Through Publish, every copy of a message delivered to several
// subscriptions receives a handler context with the publisher's values.
// The copies share one context (made once per message, not per copy)
// unless two make it at the same instant, or a copy is handled under
// another engine context (a dead letter's): then that copy gets a context
// of its own with the same values (TestPublishedHandlerContextAtOnce).
func TestTopicCopiesCarryThePublishersValues(t *testing.T) {
	tp := newTestTopic(t, "shared")
	got := make(chan context.Context, 3)
	for _, name := range []string{"a", "b", "c"} {
		_, err := tp.Subscribe(name, HandlerFunc(func(ctx context.Context, _ Delivery) error {
			got <- ctx
			return nil
		}), WithRawDelivery())
		require.NoError(t, err)
	}
	ctx := context.WithValue(context.Background(), probeKey{}, "v")
	_, err := tp.Publish(ctx, Message{Body: []byte("b")})
	require.NoError(t, err)
	drainTopic(t, tp)
	for range 3 {
		assert.Equal(t, "v", (<-got).Value(probeKey{}))
	}
}

// Copies asking for a published message's handler context at once (see
// TestPublishedHandlerContext for one at a time): each gets the
// publisher's values, and those that got the shared context got the same
// one; a copy that asks while it is being made gets one of its own.
func TestPublishedHandlerContextAtOnce(t *testing.T) {
	values := context.WithValue(context.Background(), probeKey{}, "v")
	engine := context.Background()
	q := newPublished(&Message{Body: []byte("b")}, testEpoch, 1, values, false)
	ctxs := make([]context.Context, 8)
	var wg sync.WaitGroup
	for i := range ctxs {
		wg.Go(func() { ctxs[i] = q.handlerContext(engine) })
	}
	wg.Wait()
	shared := q.handlerContext(engine)
	n := 0
	for _, c := range ctxs {
		assert.Equal(t, "v", c.Value(probeKey{}))
		if c == shared {
			n++
		}
	}
	assert.Positive(t, n, "the copy that made the shared context got it")
}
