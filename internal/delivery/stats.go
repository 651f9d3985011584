package delivery

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of one destination's counters.
type Stats struct {
	Enqueued     uint64 // items accepted
	Throttled    uint64 // Enqueue calls that gave up on a full queue
	Refused      uint64 // Enqueue calls that returned an error (Throttled among them)
	Delivered    uint64 // items delivered
	Failed       uint64 // failed attempts
	Retries      uint64 // attempts after the first
	DeadLettered uint64
	// DeadLetterFailed counts the dead letters whose dead-letter function
	// panicked or called runtime.Goexit (EventBridge's
	// InvocationsFailedToBeSentToDlq).
	DeadLetterFailed uint64
	InFlight         int64 // accepted, not yet delivered or dead-lettered
	QueueDepth       int64 // waiting in the queue or overflow (not retries waiting for their timer, nor items a worker took)
	Workers          int64
	HandlerTime      time.Duration // total time workers spent delivering (busy time)
	// Latency quantiles and maximum, from Enqueue to successful delivery
	// on the engine's Clock, over a sample: the first of every 16 items
	// accepted (reading the clock costs more than the rest of the
	// bookkeeping). Quantiles are exact within 25%.
	LatencyP50 time.Duration
	LatencyP90 time.Duration
	LatencyP99 time.Duration
	LatencyMax time.Duration
}

// Stats returns a snapshot. The counters are read one by one, without
// stopping deliveries, so they may be off by the deliveries in progress.
func (d *Destination[T]) Stats() Stats {
	// Delivered is derived: the items that finished and were neither
	// dead-lettered nor refused (both are counted before they finish).
	dead, refusedBefore := d.deadLettered.Load(), d.refused.Load()
	s := Stats{
		Delivered:        uint64(max(int64(d.finishedCount()-dead-refusedBefore), 0)),
		Throttled:        d.throttled.Load(),
		Refused:          d.refused.Load(),
		Failed:           d.failed.Load(),
		Retries:          d.retries.Load(),
		DeadLettered:     dead,
		DeadLetterFailed: d.dlFailed.Load(),
		Workers:          int64(d.workers.Load()),
		HandlerTime:      time.Duration(d.handlerNanos.Load()),
	}
	d.mu.Lock()
	s.QueueDepth = int64(d.queued())
	d.mu.Unlock()
	refused := d.refused.Load() // before offered: refused ≤ offered
	s.Enqueued = d.acceptedCount() - refused
	if h := d.latency.Load(); h != nil {
		_, q := h.quantiles(0.50, 0.90, 0.99)
		s.LatencyP50, s.LatencyP90, s.LatencyP99 = time.Duration(q[0]), time.Duration(q[1]), time.Duration(q[2])
		s.LatencyMax = time.Duration(h.max.Load())
	}
	s.InFlight = max(int64(s.Enqueued)-int64(s.Delivered)-int64(s.DeadLettered), 0)
	return s
}

// histogram counts durations in log-linear buckets: four per power of two,
// so a quantile is known within 25%. Recording is one atomic add (and
// rarely a compare-and-swap for the maximum); no locks.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	max     atomic.Int64
}

const histBuckets = 248 // bucketOf(math.MaxInt64) + 1

// bucketOf returns the bucket of v nanoseconds.
func bucketOf(v int64) int {
	if v < 4 {
		return int(max(v, 0))
	}
	exp := bits.Len64(uint64(v)) - 1 // 2..62
	sub := int(uint64(v)>>(exp-2)) & 3
	return (exp-1)*4 + sub
}

// bucketUpper returns the largest value of bucket i.
func bucketUpper(i int) int64 {
	if i < 4 {
		return int64(i)
	}
	exp, sub := i/4+1, i%4
	if exp >= 62 && sub == 3 {
		return math.MaxInt64
	}
	return int64(uint64(5+sub)<<(exp-2)) - 1
}

// sampleLatency records one delivery's latency of v nanoseconds, making
// the histogram first if this is the first sample.
func (d *Destination[T]) sampleLatency(v int64) {
	h := d.latency.Load()
	if h == nil {
		h = new(histogram)
		if !d.latency.CompareAndSwap(nil, h) {
			h = d.latency.Load()
		}
	}
	h.record(v)
}

func (h *histogram) record(v int64) {
	h.buckets[bucketOf(v)].Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// quantiles returns the count and, for each q, the upper bound of the
// bucket holding that quantile (capped by the maximum seen).
func (h *histogram) quantiles(qs ...float64) (uint64, [3]int64) {
	var counts [histBuckets]uint64
	var n uint64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		n += counts[i]
	}
	var out [3]int64
	if n == 0 {
		return 0, out
	}
	hi := h.max.Load()
	for j, q := range qs[:min(len(qs), len(out))] {
		rank := uint64(math.Ceil(q * float64(n)))
		rank = max(rank, 1)
		var seen uint64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				out[j] = min(bucketUpper(i), hi)
				break
			}
		}
	}
	return n, out
}
