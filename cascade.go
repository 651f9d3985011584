package eda

import (
	"context"
	"fmt"

	"github.com/edakit/eda/internal/delivery"
)

// This file holds the accounting of cascades — events put by the handlers
// that deliveries reach — for both routers: the hop count that travels in
// a delivery's context and stops loops, and the mark that tells a router's
// own cascades from other publishes while it closes.

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
// engine passes one context to every delivery and another to every dead
// letter; each is marked once and cached, so that marking costs no
// allocation per delivery.
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

// hopKey is the context key under which a delivery's hop count travels.
type hopKey struct{}

// withHops returns ctx marked as the context of a delivery of an event at
// the given hop of a cascade.
func withHops(ctx context.Context, hops int) context.Context {
	return context.WithValue(ctx, hopKey{}, hops)
}

// hopsFrom returns the hop count of the delivery whose context ctx is, or
// derives from; -1 when ctx is not a delivery's. Deliveries of events at
// hop 0 — most — carry no hop value: the delivery engine's handler marker
// says that ctx is a delivery's, which saves an allocation per delivery.
func hopsFrom(ctx context.Context) int {
	if ctx == nil {
		return -1
	}
	if h, ok := ctx.Value(hopKey{}).(int); ok {
		return h
	}
	if delivery.IsHandlerContext(ctx) {
		return 0
	}
	return -1
}

// overHops returns the error message for an event put at the given hop of
// a cascade when that is beyond max, or "".
func overHops(hops, max int) string {
	if hops <= max {
		return ""
	}
	return fmt.Sprintf("Event refused: it would be hop %d of a cascade, over the limit of %d (a loop?).", hops, max)
}
