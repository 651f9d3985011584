package eda

import (
	"sync"

	"github.com/edakit/eda/internal/delivery"
)

// TopicStats is a snapshot of a [Topic]'s counters, named after the
// CloudWatch metrics of Amazon SNS.
type TopicStats struct {
	// Topic is the topic's name.
	Topic string
	// NumberOfMessagesPublished counts the messages accepted (a FIFO
	// duplicate is not counted again).
	NumberOfMessagesPublished uint64
	// PublishSize is the total size of the messages accepted, in bytes as
	// SNS counts them (body, attribute names, types and values).
	PublishSize uint64
	// NumberOfDuplicatesDropped counts FIFO messages that were not
	// delivered again because their de-duplication id was seen within
	// the window (an eda counter; SNS has no metric for it).
	NumberOfDuplicatesDropped uint64
	// PublishFailedEntries counts the messages of PublishBatch calls that
	// were refused.
	PublishFailedEntries uint64
	// NumberOfMessagesRefused counts the valid messages whose Publish
	// failed because a subscription refused its copy — its queue stayed
	// full until the publisher's context ended, or the topic closed — and
	// NumberOfNotificationsRefused those copies. The other subscriptions
	// may have received such a message (see [Topic.Publish]). So, for
	// every message published or refused, each subscription received a
	// copy (which ends delivered or dead-lettered), was filtered out, or
	// refused it:
	//
	//	Σ delivered + dead-lettered + FilteredOut + NotificationsRefused
	//	  = subscriptions × (MessagesPublished + MessagesRefused)
	NumberOfMessagesRefused      uint64
	NumberOfNotificationsRefused uint64
	// NumberOfNotificationsDelivered, …Failed, …RedrivenToDlq and
	// …FailedToRedriveToDlq sum those of the subscriptions.
	NumberOfNotificationsDelivered       uint64
	NumberOfNotificationsFailed          uint64
	NumberOfNotificationsRedrivenToDlq   uint64
	NumberOfNotificationsFailedToRedrive uint64
	// NumberOfNotificationsFilteredOut counts the copies not made because a
	// message did not pass a subscription's filter policy; so, for every
	// message accepted, each subscription either received a copy or was
	// counted here (but see NumberOfMessagesRefused). Each subscription
	// has its own count too (see [SubscriptionStats]), as SNS's metrics
	// have a subscription dimension.
	NumberOfNotificationsFilteredOut uint64
	// NumberOfNotificationsFilteredOutNoMessageAttributes counts those of
	// them filtered out by an attribute-scope policy because the message
	// had no attributes.
	NumberOfNotificationsFilteredOutNoMessageAttributes uint64
	// NumberOfNotificationsFilteredOutInvalidAttributes is always zero:
	// Publish refuses a message whose attributes SNS could not filter on
	// (see [Message]), so none reaches the filter.
	NumberOfNotificationsFilteredOutInvalidAttributes uint64
	// Subscriptions are sorted by name.
	Subscriptions []SubscriptionStats
}

// SubscriptionStats is a snapshot of one subscription's counters.
type SubscriptionStats struct {
	// Subscription is the subscription's name.
	Subscription string
	// NumberOfNotificationsDelivered counts the messages its handler
	// acknowledged.
	NumberOfNotificationsDelivered uint64
	// NumberOfNotificationsFailed counts the messages that failed for good
	// (retries exhausted, a permanent error, or shutdown); each was
	// dead-lettered.
	NumberOfNotificationsFailed uint64
	// NumberOfNotificationsRedrivenToDlq counts the messages sent to the
	// dead-letter handler (SNS's redrive policy).
	NumberOfNotificationsRedrivenToDlq uint64
	// NumberOfNotificationsFailedToRedrive counts the dead letters whose
	// dead-letter handler panicked or called runtime.Goexit (each is logged
	// at Error level).
	NumberOfNotificationsFailedToRedrive uint64
	// NumberOfNotificationsFilteredOut counts the messages published while
	// the subscription was on the topic that its filter policy (the one in
	// force when each was published) did not pass, and
	// NumberOfNotificationsRefused the copies it refused (see
	// [TopicStats].NumberOfMessagesRefused). So, once the topic is drained,
	// for the messages published or refused while it was subscribed:
	//
	//	delivered + dead-lettered + FilteredOut + NotificationsRefused
	//	  = MessagesPublished + MessagesRefused
	//
	// The count is derived (messages routed to the topic while subscribed,
	// less the copies made), so that publishing costs the same however many
	// subscriptions there are; while messages are being published it may
	// count a message whose copy is still being queued as filtered out.
	NumberOfNotificationsFilteredOut uint64
	NumberOfNotificationsRefused     uint64
	// NumberOfNotificationsFilteredOutNoMessageAttributes counts those
	// filtered out by an attribute-scope policy because the message had no
	// attributes.
	NumberOfNotificationsFilteredOutNoMessageAttributes uint64
	// NumberOfNotificationsFilteredOutInvalidAttributes is always zero, as
	// the topic's.
	NumberOfNotificationsFilteredOutInvalidAttributes uint64
	// Delivery holds the delivery engine's counters the figures above are
	// derived from. For a FIFO topic they add up its message groups', the
	// groups retired once idle included (the latencies are the largest of
	// the groups').
	Delivery DeliveryStats
}

// Stats returns a snapshot of the topic's counters.
func (t *Topic) Stats() TopicStats {
	s := TopicStats{
		Topic:                            t.name,
		NumberOfMessagesPublished:        t.stats.published.Load(),
		PublishSize:                      t.stats.publishSize.Load(),
		NumberOfDuplicatesDropped:        t.stats.duplicates.Load(),
		PublishFailedEntries:             t.stats.failedPublishEntries.Load(),
		NumberOfMessagesRefused:          t.stats.refused.Load(),
		NumberOfNotificationsRefused:     t.stats.refusedCopies.Load(),
		NumberOfNotificationsFilteredOut: t.stats.filteredOut.Load(),
		NumberOfNotificationsFilteredOutNoMessageAttributes: t.stats.filteredOutNoAttrs.Load(),
	}
	sum := t.gone.stats()
	for _, sub := range t.Subscriptions() {
		ss := sub.Stats()
		sum = addSubscriptionStats(sum, ss)
		s.Subscriptions = append(s.Subscriptions, ss)
	}
	s.NumberOfNotificationsDelivered = sum.NumberOfNotificationsDelivered
	s.NumberOfNotificationsFailed = sum.NumberOfNotificationsFailed
	s.NumberOfNotificationsRedrivenToDlq = sum.NumberOfNotificationsRedrivenToDlq
	s.NumberOfNotificationsFailedToRedrive = sum.NumberOfNotificationsFailedToRedrive
	return s
}

// goneSubscriptions keeps the counts of the subscriptions that left the
// topic, so that the topic's totals never go down: a subscription still
// delivering what was queued for it is read live, and one that was retired
// (no publish can reach it any more) and has nothing in flight is folded
// into the totals and forgotten.
type goneSubscriptions struct {
	mu       sync.Mutex
	draining []*Subscription
	total    SubscriptionStats
}

// add records that s left the topic.
func (g *goneSubscriptions) add(s *Subscription) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.draining = append(g.draining, s)
}

// stats returns the counts of every subscription that left the topic.
func (g *goneSubscriptions) stats() SubscriptionStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	sum := g.total
	kept := g.draining[:0]
	for _, s := range g.draining {
		retired := s.isRetired() // read first: no copy can be queued after
		ss := s.Stats()
		if retired && ss.Delivery.InFlight == 0 {
			g.total = addSubscriptionStats(g.total, ss)
		} else {
			kept = append(kept, s)
		}
		sum = addSubscriptionStats(sum, ss)
	}
	clear(g.draining[len(kept):])
	g.draining = kept
	return sum
}

// addSubscriptionStats returns a with b's notification counts added.
func addSubscriptionStats(a, b SubscriptionStats) SubscriptionStats {
	a.NumberOfNotificationsDelivered += b.NumberOfNotificationsDelivered
	a.NumberOfNotificationsFailed += b.NumberOfNotificationsFailed
	a.NumberOfNotificationsRedrivenToDlq += b.NumberOfNotificationsRedrivenToDlq
	a.NumberOfNotificationsFailedToRedrive += b.NumberOfNotificationsFailedToRedrive
	a.NumberOfNotificationsFilteredOut += b.NumberOfNotificationsFilteredOut
	a.NumberOfNotificationsRefused += b.NumberOfNotificationsRefused
	a.NumberOfNotificationsFilteredOutNoMessageAttributes += b.NumberOfNotificationsFilteredOutNoMessageAttributes
	return a
}

// filterSums are a topic's running sums over its settled route tables:
// the messages routed with them, and those of them without attributes.
type filterSums struct{ seen, noAttrs uint64 }

// filterSpan counts, for one subscription, the part of a running sum that
// fell in the spans of route tables during which a condition held (the
// subscription was on the topic; its policy was in attribute scope).
type filterSpan struct {
	in   bool   // the condition holds since base
	base uint64 // the running sum when it began to hold
	sum  uint64 // the counts of the spans that ended
}

// set makes the condition hold (in) or not from now, when the running
// sum is at.
func (f *filterSpan) set(in bool, at uint64) {
	switch {
	case in && !f.in:
		f.base = at
	case !in && f.in:
		f.sum += at - f.base
	}
	f.in = in
}

// at returns the count up to now, when the running sum is at.
func (f *filterSpan) at(at uint64) uint64 {
	if f.in {
		return f.sum + at - f.base
	}
	return f.sum
}

// settleTable counts the messages routed with tb, a replaced route table
// no event is being routed with any more, for the subscriptions it held:
// the routes table's settle function (routes.go), called under retireMu
// with each table in the order they were made. The change that made tb
// takes effect before its messages; then they are added to the running
// sums, so that the work does not depend on the number of subscriptions.
func (t *Topic) settleTable(tb *routeTable[*Subscription]) {
	d, sums := tb.delta, &t.sums
	if s := d.from; s != nil {
		on := d.to == s
		s.seen.set(on, sums.seen)
		s.noAttrs.set(on && d.isMain, sums.noAttrs)
	}
	if s := d.to; s != nil && s != d.from {
		s.seen.set(true, sums.seen)
		s.noAttrs.set(d.isMain, sums.noAttrs)
	}
	sums.seen += tb.routed.Load()
	sums.noAttrs += tb.noAttrs.Load()
}

// filterCounts returns the messages routed to the topic while s was on it,
// and those of them without attributes while its policy was in attribute
// scope: the settled counts and those of the tables not settled yet.
func (s *Subscription) filterCounts() (seen, noAttrs uint64) {
	rt := &s.topic.routes
	rt.retireMu.Lock()
	defer rt.retireMu.Unlock()
	sums := s.topic.sums
	seen, noAttrs = s.seen.at(sums.seen), s.noAttrs.at(sums.noAttrs)
	rt.unsettled(func(tb *routeTable[*Subscription]) {
		if tb.routes.At(s.name) != s {
			return
		}
		seen += tb.routed.Load()
		if tb.machine.Has(s.name) {
			noAttrs += tb.noAttrs.Load()
		}
	})
	return seen, noAttrs
}

// Subscription returns the stats of the named subscription, and whether
// there is one.
func (s TopicStats) Subscription(name string) (SubscriptionStats, bool) {
	for _, ss := range s.Subscriptions {
		if ss.Subscription == name {
			return ss, true
		}
	}
	return SubscriptionStats{}, false
}

// Stats returns a snapshot of the subscription's counters.
func (s *Subscription) Stats() SubscriptionStats {
	var d delivery.Stats
	if s.dest != nil {
		d = s.dest.Stats()
	} else {
		s.mu.Lock()
		s.foldIdle()
		d = s.groupsGone
		groups := make([]*delivery.Destination[*published], 0, len(s.groups)+len(s.idle))
		for _, g := range s.groups {
			groups = append(groups, g.dest)
		}
		groups = append(groups, s.idle...)
		s.mu.Unlock()
		for _, g := range groups {
			d = addStats(d, g.Stats())
		}
	}
	// The copies first, then the messages they came from: every copy
	// counted has its message counted (topic.route), so seen ≥ copies.
	refused := s.refused.Load()
	seen, noAttrs := s.filterCounts()
	return SubscriptionStats{
		Subscription:                                        s.name,
		NumberOfNotificationsDelivered:                      d.Delivered,
		NumberOfNotificationsFailed:                         d.DeadLettered,
		NumberOfNotificationsRedrivenToDlq:                  d.DeadLettered,
		NumberOfNotificationsFailedToRedrive:                d.DeadLetterFailed,
		NumberOfNotificationsFilteredOut:                    seen - min(seen, d.Enqueued+refused),
		NumberOfNotificationsRefused:                        refused,
		NumberOfNotificationsFilteredOutNoMessageAttributes: noAttrs,
		Delivery: deliveryStatsOf(d),
	}
}

// addStats returns the sum of a and b; latencies are the larger of the two.
func addStats(a, b delivery.Stats) delivery.Stats {
	a.Enqueued += b.Enqueued
	a.Throttled += b.Throttled
	a.Refused += b.Refused
	a.Delivered += b.Delivered
	a.Failed += b.Failed
	a.Retries += b.Retries
	a.DeadLettered += b.DeadLettered
	a.DeadLetterFailed += b.DeadLetterFailed
	a.InFlight += b.InFlight
	a.QueueDepth += b.QueueDepth
	a.Workers += b.Workers
	a.HandlerTime += b.HandlerTime
	a.LatencyP50 = max(a.LatencyP50, b.LatencyP50)
	a.LatencyP90 = max(a.LatencyP90, b.LatencyP90)
	a.LatencyP99 = max(a.LatencyP99, b.LatencyP99)
	a.LatencyMax = max(a.LatencyMax, b.LatencyMax)
	return a
}
