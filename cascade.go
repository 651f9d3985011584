package eda

import (
	"context"
	"fmt"

	"github.com/edakit/eda/internal/delivery"
)

// This file holds the accounting of cascades — events put by the handlers
// that deliveries reach — for both routers: the hop count that travels in
// a delivery's context and stops loops, the mark that tells a router's
// own cascades from other publishes while it closes, and the producer's
// context values that follow an event to its handlers.

// cascadeKey is the context key under which the contexts a bus hands to
// its handlers and dead-letter handlers carry the bus (see mark).
type cascadeKey struct{}

// markedContext is a context of the delivery engine and the same context
// marked with the bus.
type markedContext struct {
	engine, marked context.Context
}

// mark returns ctx, a context the bus's delivery engine passes to a
// delivery or dead letter, marked as this bus's, so that PutEvents can
// tell this bus's cascades from other puts while the bus closes. The
// engine passes one of a few contexts to every delivery and dead letter
// (one of each per epoch of Drain, see delivery.HandlerContexts); each is
// marked once and cached, so that marking costs no allocation per
// delivery, however often the bus is drained.
func (b *Bus) mark(ctx context.Context) context.Context {
	for i := range b.marks {
		if m := b.marks[i].Load(); m != nil && m.engine == ctx {
			return m.marked
		}
	}
	m := &markedContext{engine: ctx, marked: context.WithValue(ctx, cascadeKey{}, b)}
	for i := range b.marks {
		if b.marks[i].CompareAndSwap(nil, m) {
			break
		}
		if cur := b.marks[i].Load(); cur.engine == ctx {
			return cur.marked // marked meanwhile by another delivery
		}
	}
	return m.marked
}

// ownsContext reports whether ctx is, or derives from, a context this bus
// handed to a handler or dead-letter handler.
func (b *Bus) ownsContext(ctx context.Context) bool {
	owner, _ := ctx.Value(cascadeKey{}).(*Bus)
	return owner == b
}

// cascadeStateKey is the context key under which a handler's context (a
// *cascadeContext) gives itself: the hop count and the tracker of the
// delivered event.
type cascadeStateKey struct{}

// cascadeFrom returns the hop count of the delivery whose context ctx is,
// or derives from (-1 when ctx is not a delivery's), and the tracker of its
// event (nil when its bus does not track it, see WithEventTracking), in one
// lookup. Deliveries of events at hop 0 — most — carry no hop value: the
// delivery engine's handler marker says that ctx is a delivery's, which
// saves an allocation per delivery.
func cascadeFrom(ctx context.Context) (hops int, track *eventTracker) {
	if ctx == nil {
		return -1, nil
	}
	if c, ok := ctx.Value(cascadeStateKey{}).(*cascadeContext); ok {
		return c.hops, c.track
	}
	if delivery.IsHandlerContext(ctx) {
		return 0, nil
	}
	return -1, nil
}

// overHops returns the error message for an event put at the given hop of
// a cascade when that is beyond max, or "".
func overHops(hops, max int) string {
	if hops <= max {
		return ""
	}
	return fmt.Sprintf("Event refused: it would be hop %d of a cascade, over the limit of %d (a loop?).", hops, max)
}

// producerValues returns the context whose values should follow an event
// published with ctx to its handlers: ctx itself, or nil when it can carry
// none (the background context).
func producerValues(ctx context.Context) context.Context {
	if ctx == context.Background() || ctx == context.TODO() {
		return nil
	}
	return ctx
}

// handlerContext returns the context to hand a handler for an event at the
// given hop of a cascade, published with a context whose values are
// producer (nil: none), and tracked by track (nil: not tracked): ctx, the
// engine's context, with the hop count, the tracker and the producer's
// values added. It allocates only when there is something to add.
func handlerContext(ctx context.Context, hops int, producer context.Context, track *eventTracker) context.Context {
	if hops == 0 && producer == nil && track == nil {
		return ctx
	}
	return &cascadeContext{Context: ctx, hops: hops, producer: producer, track: track}
}

// cascadeContext is a handler's context that carries, besides the engine's
// context (its cancellation, deadline and values), the hop count of the
// event, its tracker, and the values of the context it was published with
// — a trace id, a request-scoped logger — but not that context's
// cancellation: the publisher's request may end long before the event is
// handled, as context.WithoutCancel has it.
type cascadeContext struct {
	context.Context
	hops     int
	producer context.Context
	track    *eventTracker
}

// Value returns the context itself for cascadeStateKey, the engine's
// context's value when it has one, and else the producer's. A router's
// mark (cascadeKey) is never taken from the producer: that the publisher
// ran in a handler of another router does not make this handler one of
// that router's.
func (c *cascadeContext) Value(key any) any {
	switch key.(type) {
	case cascadeStateKey:
		return c
	case cascadeKey:
		return c.Context.Value(key)
	}
	if v := c.Context.Value(key); v != nil || c.producer == nil {
		return v
	}
	return c.producer.Value(key)
}
