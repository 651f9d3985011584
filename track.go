package eda

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/edakit/eda/internal/delivery"
)

// This file holds the tracking of one event's or message's completion
// (WithEventTracking, Bus.WaitEvent and Topic.WaitMessage): a tracker per
// event put or message published from outside, counting its copies in
// flight and those of every event or message its handlers put in turn, on
// any bus or topic.
//
// A tracker counts one per copy queued for a destination, from just before
// it is queued until its handler returns nil or its dead letter has been
// handed over, plus one per routing in progress (the event itself while it
// is routed, and each event a handler of a tracked copy puts, while it is
// routed). A handler puts its events before it returns, so the copy that
// caused them is still counted while they are: the count reaches zero only
// when everything the event caused has ended, and never earlier. Routers
// without tracking pay one nil check per event and per copy.

// eventTracker counts what one tracked event still has in flight.
type eventTracker struct {
	n    atomic.Int64
	done chan struct{} // closed when n reaches zero
}

// newEventTracker returns a tracker that counts one routing in progress.
func newEventTracker() *eventTracker {
	t := &eventTracker{done: make(chan struct{})}
	t.n.Store(1)
	return t
}

// join counts one more routing in progress, unless the event has settled
// (an event put by a goroutine that outlived the handler which started
// it): then it reports false, and the new event is not tracked.
func (t *eventTracker) join() bool {
	for {
		n := t.n.Load()
		if n <= 0 {
			return false
		}
		if t.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// add counts one more copy. The caller holds a count (a routing in
// progress), so the tracker cannot have settled.
func (t *eventTracker) add() { t.n.Add(1) }

// release ends one count; the last one settles the event. A nil tracker
// does nothing.
func (t *eventTracker) release() {
	if t != nil && t.n.Add(-1) == 0 {
		close(t.done)
	}
}

// trackers holds the trackers of a bus's events by id.
type trackers struct {
	mu   sync.Mutex
	byID map[string]*eventTracker
}

// newTrackers returns the trackers of a router configured by cfg: nil
// unless it tracks events (WithEventTracking).
func newTrackers(cfg *routerConfig) *trackers {
	if !cfg.eventTracking {
		return nil
	}
	return &trackers{byID: make(map[string]*eventTracker)}
}

// start returns the tracker of an event put from outside with the given id,
// counting its routing: the tracker of an event with that id still in
// flight (an entry put again), or a new one.
func (ts *trackers) start(id string) *eventTracker {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t := ts.byID[id]; t != nil && t.join() {
		return t
	}
	t := newEventTracker()
	// A copy of the id: a stamped id shares the memory of the event's JSON,
	// which the map would otherwise keep.
	ts.byID[strings.Clone(id)] = t
	return t
}

// get returns the tracker of the event with the given id, or nil.
func (ts *trackers) get(id string) *eventTracker {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.byID[id]
}

// track returns the tracker of an event or message put with a context
// whose event's tracker is parent (nil: none), counting its routing:
// parent when it has not settled (a cascade of a tracked event is tracked
// as part of it, on any bus or topic), else a tracker of its own when the
// router tracks (ts is not nil), else nil.
func (ts *trackers) track(parent *eventTracker, id string) *eventTracker {
	if parent != nil && parent.join() {
		return parent
	}
	if ts != nil {
		return ts.start(id)
	}
	return nil
}

// waitWords are the words of a router's waits, for their errors.
type waitWords struct {
	method string // "WaitEvent"
	router string // "bus"
	name   string // the router's name
	item   string // "event"
	put    string // "put on"
}

// wait waits for the tracker of the item with the given id to settle (see
// Bus.WaitEvent), on a router whose trackers are ts (nil: it does not
// track) and whose engine is e.
func (ts *trackers) wait(ctx context.Context, e *delivery.Engine, w waitWords, id string) error {
	if ctx == nil {
		return fmt.Errorf("eda: %s: %w: nil context", w.method, ErrInvalidRequest)
	}
	if e.InHandler(ctx) {
		return fmt.Errorf("eda: %s: %w", w.method, ErrInHandler)
	}
	if ts == nil {
		return fmt.Errorf("eda: %s: %s %q does not track %ss: create it WithEventTracking", w.method, w.router, w.name, w.item)
	}
	t := ts.get(id)
	if t == nil {
		return fmt.Errorf("eda: %s: no %s with id %q was %s %s %q", w.method, w.item, id, w.put, w.router, w.name)
	}
	select {
	case <-t.done:
		return nil
	default:
	}
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("eda: %s: %s %q: %d still in flight: %w", w.method, w.item, id, t.n.Load(), context.Cause(ctx))
	}
}

// WithEventTracking makes a bus track each event put on it, so that
// [Bus.WaitEvent] can wait for one event to settle without waiting for the
// others, and a topic each message published to it, so that
// [Topic.WaitMessage] can wait for one message — except the events and
// messages of a tracked one's cascade (put or published by its handlers,
// on this router or another), which count as part of it rather than on
// their own. It is meant for tests (edatest.NewBus and edatest.NewTopic
// turn it on): the router keeps a small record of every event or message
// it tracks for as long as it lives. A router without it pays nothing for
// tracking.
func WithEventTracking() Option {
	return routerOption("WithEventTracking", func(c *routerConfig) error { c.eventTracking = true; return nil })
}

// WaitEvent waits until the event with the given id, put on the bus and
// tracked on its own (see [WithEventTracking]), has settled: every copy that its rules' targets accepted has
// been delivered (its handler returned nil) or dead-lettered, and so has
// every copy of every event that its handlers, dead-letter handlers and bus
// or topic targets put in turn, on this bus or any other bus or topic, with
// the contexts they were given. Other events, in flight before or after,
// do not hold it up. An event that matched no rule has settled as soon as
// PutEvents returned. Events that a handler puts from a goroutine of its
// own after it returned are not waited for. A batch handler (see [Batch])
// receives copies of several events in one call; what it puts counts as
// part of the first event of its batch, so another event of the same batch
// can settle before the events that batch put have.
//
// The bus must have been created [WithEventTracking]. WaitEvent returns an
// error at once when it was not, when no event with that id was put on the
// bus and tracked on its own, and when ctx is a handler's context of this bus (as
// [Bus.Drain] does, wrapping [ErrInHandler]); and when ctx ends first, an
// error wrapping ctx's error that says how many copies were still in
// flight. When several events were put with the same id, it waits for the
// latest, and for the earlier ones still in flight when it was put.
func (b *Bus) WaitEvent(ctx context.Context, id string) error {
	return b.trackers.wait(ctx, b.engine, waitWords{method: "WaitEvent", router: "bus", name: b.name, item: "event", put: "put on"}, id)
}

// WaitMessage waits until the message with the given id (the MessageID of
// its [PublishResult]), published to the topic and tracked on its own (see
// [WithEventTracking]), has settled: every copy that its subscriptions
// accepted has been delivered (its handler returned nil) or
// dead-lettered, and so has every copy of every event or message that its
// handlers and dead-letter handlers put or published in turn, on any bus
// or topic, with the contexts they were given — the contract of
// [Bus.WaitEvent], for a message. Other messages, in flight before or
// after, do not hold it up. A message that no subscription took has
// settled as soon as Publish returned. On a FIFO topic, a duplicate is
// answered with the id of the message it duplicates: waiting on that id
// waits for the original.
//
// The topic must have been created [WithEventTracking]. WaitMessage
// returns an error at once when it was not, when no message with that id
// was published to the topic and tracked on its own, when ctx is nil
// (wrapping [ErrInvalidRequest]), and when ctx is a handler's context of
// this topic (wrapping [ErrInHandler]); and when ctx ends first, an error
// wrapping ctx's error that says how many copies were still in flight.
func (t *Topic) WaitMessage(ctx context.Context, id string) error {
	return t.trackers.wait(ctx, t.engine, waitWords{method: "WaitMessage", router: "topic", name: t.name, item: "message", put: "published to"}, id)
}
