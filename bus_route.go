package eda

import (
	"context"
	"errors"
	"fmt"

	"github.com/edakit/eda/internal/delivery"
)

// This file holds the Bus's routing: matching an event against the rules
// and queueing it for their targets, consistently with concurrent rule
// changes, and the hop count that stops cascading loops.

// route matches ev against the rules and queues it for every target of
// every matching, enabled rule. ids is scratch space for the matcher.
func (b *Bus) route(ctx context.Context, ev *routed, ids []string) ([]string, string, string) {
	t, ids, err := b.acquire(ids[:0], ev.raw)
	if err != nil {
		return ids, ErrorCodeMalformedDetail, "Event is not a valid JSON object: " + err.Error()
	}
	defer b.release(t)
	if len(ids) > 0 {
		b.stats.matched.Add(1)
	}
	var code, msg string
	o := b.engine.Origin(ctx, ev.accepted) // the same for every target
	for _, id := range ids {
		rs := t.rules[id]
		if rs == nil || !rs.enabled {
			continue
		}
		rs.counters.matched.Add(1)
		if len(rs.targets) == 0 {
			continue
		}
		rs.counters.triggered.Add(1)
		for _, tr := range rs.targets {
			if err := tr.dest.EnqueueFrom(ctx, ev, o); err != nil {
				if errors.Is(err, delivery.ErrClosed) {
					code, msg = ErrorCodeInternalFailure, "The bus closed while the event was routed."
				} else if code == "" {
					code = ErrorCodeThrottling
					msg = fmt.Sprintf("Target %q of rule %q did not accept the event: %v", tr.id, rs.name, err)
				}
			}
		}
	}
	return ids, code, msg
}

// acquire returns the current routing table, registered as in use until
// release, and the names of the rules whose pattern matches raw — both of
// the same generation of the rules. The matcher and the table change
// together under a seqlock (b.seq is odd while a writer works); a table's
// reader count keeps the targets it names from being retired while an
// event is being queued for them.
func (b *Bus) acquire(dst []string, raw []byte) (*routeTable, []string, error) {
	for {
		v := b.seq.Load()
		if v&1 == 1 {
			// A writer is changing the rules: wait for it.
			b.mu.Lock()
			//lint:ignore SA2001 an empty critical section on purpose: it waits for the writer
			b.mu.Unlock()
			continue
		}
		t := b.table.Load()
		t.readers.Add(1)
		ids, err := dst, error(nil)
		if t.enabled > 0 {
			ids, err = b.matcher.MatchAppend(dst, raw)
		}
		if b.seq.Load() == v {
			if err != nil {
				b.release(t)
				return nil, ids, err
			}
			return t, ids, nil
		}
		b.release(t)
		dst = ids[:0]
	}
}

// release ends a use of t that acquire began.
func (b *Bus) release(t *routeTable) {
	if t.readers.Add(-1) == 0 && t.stale.Load() {
		b.sweep()
	}
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
