package eda

import (
	"time"

	"github.com/edakit/eda/internal/delivery"
)

// DeliveryStats are the delivery counters of one destination (a Bus target
// or a Topic subscription). Routers include them in their own statistics.
// They are kept on all the time: recording costs a few atomic additions per
// delivery and no locks.
type DeliveryStats struct {
	// Enqueued counts the events accepted for the destination.
	Enqueued uint64
	// Throttled counts publishes that gave up because the destination's
	// queue stayed full until their context ended (they failed with
	// [ErrFull]; nothing was dropped silently).
	Throttled uint64
	// Refused counts the events the destination did not accept, each a
	// failure its publisher was told of: those Throttled counts, and those
	// offered while its router was closing ([ErrClosed]).
	Refused uint64
	// Delivered counts the events a handler acknowledged.
	Delivered uint64
	// Failed counts failed attempts (errors, panics and runtime.Goexit).
	Failed uint64
	// Retries counts attempts after the first.
	Retries uint64
	// DeadLettered counts the events handed to the dead-letter handler.
	DeadLettered uint64
	// DeadLetterFailed counts the dead letters whose dead-letter handler
	// panicked or called runtime.Goexit: the event may be lost. Each is
	// also logged at Error level.
	DeadLetterFailed uint64
	// InFlight counts the events accepted and not yet delivered or
	// dead-lettered: queued, being handled or waiting for a retry.
	InFlight int64
	// QueueDepth counts the events waiting for a worker. (Events a worker
	// has already taken, up to 32 at a time when deliveries are fast, count
	// as in flight only.)
	QueueDepth int64
	// Workers is the number of workers now running (from zero when idle up
	// to the destination's maximum concurrency).
	Workers int64
	// HandlerTime is the total time workers spent handling deliveries,
	// like serverless compute billing.
	HandlerTime time.Duration
	// LatencyP50, LatencyP90, LatencyP99 and LatencyMax describe the time
	// from acceptance to successful delivery (retries included), on the
	// router's [Clock], over a sample of 1 in 16 events; quantiles are
	// exact within 25%.
	LatencyP50, LatencyP90, LatencyP99, LatencyMax time.Duration
}

// deliveryStatsOf converts the engine's snapshot.
func deliveryStatsOf(s delivery.Stats) DeliveryStats {
	return DeliveryStats{
		Enqueued:         s.Enqueued,
		Throttled:        s.Throttled,
		Refused:          s.Refused,
		Delivered:        s.Delivered,
		Failed:           s.Failed,
		Retries:          s.Retries,
		DeadLettered:     s.DeadLettered,
		DeadLetterFailed: s.DeadLetterFailed,
		InFlight:         s.InFlight,
		QueueDepth:       s.QueueDepth,
		Workers:          s.Workers,
		HandlerTime:      s.HandlerTime,
		LatencyP50:       s.LatencyP50,
		LatencyP90:       s.LatencyP90,
		LatencyP99:       s.LatencyP99,
		LatencyMax:       s.LatencyMax,
	}
}
