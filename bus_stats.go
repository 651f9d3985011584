package eda

import (
	"slices"
	"sync/atomic"
	"time"
)

// busCounters are a bus's own counters.
type busCounters struct {
	requests      atomic.Uint64
	entries       atomic.Uint64
	failedEntries atomic.Uint64
	matched       atomic.Uint64
}

// BusStats is a snapshot of a bus's counters, named after EventBridge's
// CloudWatch metrics. Counters are cumulative since the bus (or, for a
// rule, since its first PutRule) was created.
type BusStats struct {
	// Bus is the bus's name.
	Bus string
	// PutEventsRequests counts PutEvents calls.
	PutEventsRequests uint64
	// PutEventsEntries counts the entries of PutEvents calls.
	PutEventsEntries uint64
	// PutEventsFailedEntries counts the entries that were not accepted.
	PutEventsFailedEntries uint64
	// MatchedEvents counts the events that matched at least one rule.
	MatchedEvents uint64
	// Rules holds one entry per rule, sorted by name.
	Rules []RuleStats
}

// RuleStats is a snapshot of one rule's counters.
type RuleStats struct {
	// Rule is the rule's name.
	Rule string
	// MatchedEvents counts the events that matched the rule while enabled.
	MatchedEvents uint64
	// TriggeredRules counts the matches that were sent to targets (matches
	// of a rule without targets do not trigger it). Each is offered to every
	// target the rule has at the time, and each target accounts for it: once
	// the bus is drained, for a target on the rule since its first trigger,
	// Invocations + Delivery.Refused = TriggeredRules (a refused copy fails
	// the entry with ErrorCodeThrottling or ErrorCodeInternalFailure).
	TriggeredRules uint64
	// Targets holds one entry per target, in the rule's order.
	Targets []TargetStats
}

// TargetStats is a snapshot of one target's delivery counters. A target
// replaced by PutRule (a new Target value) starts from zero.
type TargetStats struct {
	// Target is the target's id.
	Target string
	// Invocations counts the events the target was invoked for that came
	// to an end: delivered, or failed permanently.
	Invocations uint64
	// FailedInvocations counts the events that failed permanently (retries
	// exhausted, a permanent error, or shutdown); each was dead-lettered.
	FailedInvocations uint64
	// DeadLetterInvocations counts the events sent to the dead-letter
	// handler (the target's, the bus's or the engine's default).
	DeadLetterInvocations uint64
	// InvocationsFailedToBeSentToDlq counts the dead letters whose
	// dead-letter handler panicked or called runtime.Goexit (the event may
	// be lost; each is logged at Error level).
	InvocationsFailedToBeSentToDlq uint64
	// InvocationAttempts counts every attempt, first or retry.
	InvocationAttempts uint64
	// SuccessfulInvocationAttempts counts the attempts that succeeded.
	SuccessfulInvocationAttempts uint64
	// RetryInvocationAttempts counts the attempts after the first.
	RetryInvocationAttempts uint64
	// InFlight counts the events accepted and not yet delivered or
	// dead-lettered; QueueDepth those waiting in the queue.
	InFlight, QueueDepth int64
	// Workers is the number of running workers.
	Workers int64
	// HandlerTime is the total time spent in the handler.
	HandlerTime time.Duration
	// IngestionToInvocationSuccessLatency… are percentiles of the time from
	// PutEvents to a successful delivery.
	IngestionToInvocationSuccessLatencyP50 time.Duration
	IngestionToInvocationSuccessLatencyP90 time.Duration
	IngestionToInvocationSuccessLatencyP99 time.Duration
	IngestionToInvocationSuccessLatencyMax time.Duration
	// Delivery holds the delivery engine's counters the figures above are
	// derived from (including Throttled: publishes refused by a full queue).
	Delivery DeliveryStats
}

// Stats returns a snapshot of the bus's counters.
func (b *Bus) Stats() BusStats {
	s := BusStats{
		Bus:                    b.name,
		PutEventsRequests:      b.stats.requests.Load(),
		PutEventsEntries:       b.stats.entries.Load(),
		PutEventsFailedEntries: b.stats.failedEntries.Load(),
		MatchedEvents:          b.stats.matched.Load(),
	}
	t := b.routes.load()
	names := make([]string, 0, t.routes.Len())
	for name := range t.routes.All() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		rs, _ := t.routes.Get(name)
		st := RuleStats{
			Rule:           name,
			MatchedEvents:  rs.counters.matched.Load(),
			TriggeredRules: rs.counters.triggered.Load(),
		}
		for _, tr := range rs.targets {
			st.Targets = append(st.Targets, tr.stats())
		}
		s.Rules = append(s.Rules, st)
	}
	return s
}

// Rule returns the stats of the named rule, and whether there is one.
func (s BusStats) Rule(name string) (RuleStats, bool) {
	for _, r := range s.Rules {
		if r.Rule == name {
			return r, true
		}
	}
	return RuleStats{}, false
}

// Target returns the stats of the target with the given id, and whether
// there is one.
func (s RuleStats) Target(id string) (TargetStats, bool) {
	for _, t := range s.Targets {
		if t.Target == id {
			return t, true
		}
	}
	return TargetStats{}, false
}

// stats converts the delivery engine's counters into EventBridge's terms.
func (t *targetRuntime) stats() TargetStats {
	d := t.dest.Stats()
	return TargetStats{
		Delivery:                               deliveryStatsOf(d),
		Target:                                 t.id,
		Invocations:                            d.Delivered + d.DeadLettered,
		FailedInvocations:                      d.DeadLettered,
		DeadLetterInvocations:                  d.DeadLettered,
		InvocationsFailedToBeSentToDlq:         d.DeadLetterFailed,
		InvocationAttempts:                     d.Delivered + d.Failed,
		SuccessfulInvocationAttempts:           d.Delivered,
		RetryInvocationAttempts:                d.Retries,
		InFlight:                               d.InFlight,
		QueueDepth:                             d.QueueDepth,
		Workers:                                d.Workers,
		HandlerTime:                            d.HandlerTime,
		IngestionToInvocationSuccessLatencyP50: d.LatencyP50,
		IngestionToInvocationSuccessLatencyP90: d.LatencyP90,
		IngestionToInvocationSuccessLatencyP99: d.LatencyP99,
		IngestionToInvocationSuccessLatencyMax: d.LatencyMax,
	}
}
