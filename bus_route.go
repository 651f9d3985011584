package eda

import (
	"context"
	"errors"
	"fmt"

	"github.com/edakit/eda/internal/delivery"
)

// This file holds the Bus's routing: matching an event against the rules
// and queueing it for their targets, consistently with concurrent rule
// changes (see routes.go).

// route matches ev against the rules and queues it for every target of
// every matching, enabled rule. members locates the envelope's members in
// ev.raw, so that the matcher reads only what patterns name; ids is scratch
// space for the matcher. The
// table it routes with is counted as in use until the event is queued, so
// that the targets it names are not retired meanwhile.
func (b *Bus) route(ctx context.Context, ev *routed, members *envelopeMembers, ids []string) ([]string, ErrorCode, string) {
	t := b.routes.acquire()
	defer b.routes.release(t)
	if t.machine == nil {
		return ids[:0], "", ""
	}
	ids, err := t.machine.MatchLayout(ids[:0], ev.raw, envelopeLayout, members[:])
	if err != nil {
		return ids, ErrorCodeMalformedDetail, "Event is not a valid JSON object: " + err.Error()
	}
	if len(ids) > 0 {
		b.stats.matched.Add(1)
	}
	var code ErrorCode
	var msg string
	o := b.engine.Origin(ctx, ev.accepted) // the same for every target
	for _, id := range ids {
		rs := t.routes.At(id)
		if rs == nil || !rs.enabled {
			continue
		}
		rs.counters.matched.Add(1)
		if len(rs.targets) == 0 {
			continue
		}
		rs.counters.triggered.Add(1)
		for _, tr := range rs.targets {
			if ev.track != nil {
				ev.track.add() // before the copy is queued: it may end at once
			}
			if err := tr.dest.EnqueueFrom(ctx, *ev, o); err != nil {
				ev.track.release()
				if errors.Is(err, delivery.ErrClosed) {
					code, msg = ErrorCodeInternalFailure, msgNotRouted
				} else if code == "" {
					code = ErrorCodeThrottling
					msg = fmt.Sprintf("Target %q of rule %q did not accept the event: %v", tr.id, rs.name, err)
				}
			}
		}
	}
	return ids, code, msg
}
