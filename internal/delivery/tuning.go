package delivery

import "time"

// The scheduler's tuning, in one place.
//
// A destination's workers are in one of two states, as seen by the
// destination: idle (on its idle list, parked on their own channel, with
// no CPU used) or running (taking items from the queue and delivering
// them). An idle worker exits after the destination's idle timeout. The
// destination itself is, at any time, either fast or slow:
//
//   - fast: timed calls of Deliver (one in paceSample) took less than
//     fastDelivery. Deliveries need a CPU, not a wait, so more workers
//     than CPUs only contend: a destination scales up to one worker per
//     CPU (a worker beyond that, started while the destination was slow,
//     exits when it finds the queue empty; see surplus). An item that
//     finds every worker busy waits for one of them (it comes back within
//     microseconds), up to holdPerBusy per busy worker, and without bound
//     while the engine runs more workers than there are CPUs (many busy
//     destinations: one worker each); the hold watch (hold.go) wakes or
//     starts another worker when the busy ones take nothing for a tick
//     (one is stuck in a long call). Each worker takes its share of the
//     queue, up to maxTake, per lock.
//   - slow: deliveries wait (on I/O): an item that finds every worker busy
//     starts another at once, up to the destination's maximum
//     concurrency, and each worker takes one item at a time.
//
// A destination starts slow, and its speed changes when paceFlip timed
// calls in a row disagree with it. Timing single calls, not a worker's
// busy run, is what keeps the judgement true on a loaded machine: a busy
// run includes the time its worker was runnable but waited for a CPU,
// which one short call rarely does.
const (
	// maxTake bounds how many items a worker takes from the queue at once.
	maxTake = 32

	// minRing is the ring's length when a destination queues its first
	// item (a destination that never queues one has none); it doubles as
	// needed up to the queue size, so that a destination that never sees
	// a burst does not hold (and make the collector scan) a full queue's
	// memory.
	minRing = 64

	// holdPerBusy bounds the items that wait for the busy workers of a
	// fast destination: per busy worker.
	holdPerBusy = 8

	// holdWait is the hold watch's tick: items held for a stuck worker
	// wait between one and two ticks.
	holdWait = 5 * time.Millisecond

	// fastDelivery: a destination whose timed calls take less than this is
	// fast.
	fastDelivery = 10 * time.Microsecond

	// paceSample: one call of Deliver in paceSample, per worker, is timed
	// to judge the destination's speed (the first one is).
	paceSample = 16

	// paceFlip is how many timed calls in a row must disagree with a
	// destination's speed before it changes: one call can still be
	// interrupted. (The first judgement counts alone.)
	paceFlip = 2

	// latencySample: one item in latencySample has its latency recorded.
	// Reading the clock at the delivery costs more than the rest of its
	// bookkeeping.
	latencySample = 16

	// handlerTimeFlush is how many deliveries a busy worker runs between
	// two readings of the clock for Stats.HandlerTime.
	handlerTimeFlush = 64
)
