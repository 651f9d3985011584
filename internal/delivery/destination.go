package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// entry is an item with its delivery state, as it sits in a queue.
type entry[T any] struct {
	item    T
	enq     int64          // engine mono() at Enqueue
	attempt int32          // number of the next attempt, from 1
	rt      *retryState[T] // set once the item failed
}

// retryState is allocated when an item fails for the first time.
type retryState[T any] struct {
	en       entry[T]  // the item, waiting for its next attempt
	deadline time.Time // clock time after which no attempt starts
	err      error     // last error
	timer    Timer     // pending retry
}

// Destination is one bounded queue with its workers. Its methods may be
// called concurrently.
//
// The counters are grouped by who writes them, each group on cache lines
// of its own, so that producers and workers do not contend.
type Destination[T any] struct {
	// Read-mostly.
	e           *Engine
	name        string
	ch          chan entry[T]
	max         int32
	idleTimeout time.Duration
	policy      Policy
	deliver     func(ctx context.Context, item T, attempt int) error
	deadLetter  func(ctx context.Context, item T, f Failure)
	ordered     bool
	wake        chan struct{} // a token: the overflow list has items
	state       atomic.Int32
	ovLen       atomic.Int64 // written only when the overflow list is used
	_           cacheLinePad

	// Written by producers.
	offered   atomic.Uint64 // Enqueue calls
	refused   atomic.Uint64 // Enqueue calls that returned an error
	throttled atomic.Uint64 // of which ErrFull
	_         cacheLinePad

	// Written by workers as they start and stop.
	workers atomic.Int32
	_       cacheLinePad

	// Written by workers per delivery.
	delivered    atomic.Uint64
	failed       atomic.Uint64
	retries      atomic.Uint64
	deadLettered atomic.Uint64
	handlerNanos atomic.Int64
	_            cacheLinePad

	mu      sync.Mutex
	ov      []entry[T] // overflow: ready retries and cascades, served first
	ovHead  int
	waiting map[*retryState[T]]struct{} // retries whose timer is pending
	swept   bool                        // shut down: nothing waits any more

	latency histogram // a sample of successful deliveries, enqueue to success
}

// cacheLinePad separates groups of counters.
type cacheLinePad [64]byte

// latencySample: one item in latencySample has its enqueue time taken, for
// the latency statistics. Reading the clock costs more than the rest of a
// delivery's bookkeeping.
const latencySample = 16

// handlerTimeFlush is how many deliveries a busy worker runs between two
// readings of the clock for Stats.HandlerTime.
const handlerTimeFlush = 64

// NewDestination adds a destination to e. It panics if opts.Deliver is nil.
// A destination added to a closed engine refuses every item.
func NewDestination[T any](e *Engine, opts Options[T]) *Destination[T] {
	if opts.Deliver == nil {
		panic("delivery: NewDestination: Options.Deliver is nil")
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = DefaultMaxConcurrency()
	}
	if opts.Ordered {
		opts.MaxConcurrency = 1
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	d := &Destination[T]{
		e:           e,
		name:        opts.Name,
		ch:          make(chan entry[T], opts.QueueSize),
		max:         int32(min(opts.MaxConcurrency, 1<<30)),
		idleTimeout: opts.IdleTimeout,
		policy:      opts.Retry.withDefaults(),
		deliver:     opts.Deliver,
		deadLetter:  opts.DeadLetter,
		ordered:     opts.Ordered,
		wake:        make(chan struct{}, 1),
		waiting:     make(map[*retryState[T]]struct{}),
	}
	d.state.Store(e.register(d))
	return d
}

// Name returns the destination's name.
func (d *Destination[T]) Name() string { return d.name }

// Enqueue accepts item. When the queue is full it waits until there is room
// or ctx ends (then it returns an error wrapping ErrFull and the context's
// error). When ctx was derived from a context that the engine passed to
// Deliver (a cascade), the bound is bypassed so handlers that publish never
// deadlock. After Close or Retire it returns ErrClosed.
func (d *Destination[T]) Enqueue(ctx context.Context, item T) error {
	// Count first, check the state after: Close stores the state first and
	// counts after, so one of the two sees the other.
	seq := d.offered.Add(1)
	if s := d.state.Load(); s != stateOpen && (s != stateClosing || !d.e.ownContext(ctx)) {
		d.refuse(ErrClosed)
		return ErrClosed
	}
	en := entry[T]{item: item, attempt: 1}
	if seq%latencySample == 1 {
		en.enq = d.e.mono()
	}
	select {
	case d.ch <- en:
	default:
		if err := d.enqueueSlow(ctx, en); err != nil {
			d.refuse(err)
			return err
		}
	}
	// Scale up, like serverless concurrency, when no worker was waiting for
	// the item: a send to a channel with a waiting receiver hands the item
	// over directly, so an item still in the buffer found every worker busy.
	// (A worker about to wait may take it instead: one spare worker, no
	// harm.) Every worker takes from the queue before it waits, and one that
	// leaves looks again (see work), so no item sits with no worker to come.
	if w := d.workers.Load(); w == 0 || w < d.max && len(d.ch) > 0 {
		d.spawn()
	}
	return nil
}

// refuse accounts for an Enqueue that failed.
func (d *Destination[T]) refuse(err error) {
	if errors.Is(err, ErrFull) {
		d.throttled.Add(1)
	}
	d.refused.Add(1)
	d.finished()
}

// finished is called after an item was delivered, dead-lettered or refused:
// if the destination ran empty while someone drains, it wakes them.
func (d *Destination[T]) finished() {
	if d.e.drainers.Load() > 0 && d.inFlight() == 0 {
		d.e.poke()
	}
}

// enqueueSlow handles a full queue.
func (d *Destination[T]) enqueueSlow(ctx context.Context, en entry[T]) error {
	if IsHandlerContext(ctx) {
		return d.push(en)
	}
	select {
	case d.ch <- en:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrFull, context.Cause(ctx))
	case <-d.e.halt:
		return ErrClosed
	}
}

// push appends en to the overflow list and makes sure a worker sees it.
func (d *Destination[T]) push(en entry[T]) error {
	d.mu.Lock()
	if d.swept {
		d.mu.Unlock()
		return ErrClosed
	}
	d.ov = append(d.ov, en)
	d.ovLen.Add(1)
	d.mu.Unlock()
	select { // wakes a waiting worker; busy ones look at the list anyway
	case d.wake <- struct{}{}:
	default:
	}
	if d.workers.Load() == 0 {
		d.spawn()
	}
	return nil
}

// pop takes the oldest overflow entry.
func (d *Destination[T]) pop() (entry[T], bool) {
	var en entry[T]
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ovHead == len(d.ov) {
		return en, false
	}
	en = d.ov[d.ovHead]
	d.ov[d.ovHead] = entry[T]{}
	d.ovHead++
	d.ovLen.Add(-1)
	if d.ovHead == len(d.ov) {
		if cap(d.ov) > 4096 {
			d.ov = nil
		} else {
			d.ov = d.ov[:0]
		}
		d.ovHead = 0
	}
	return en, true
}

// spawn starts a worker unless there are enough.
func (d *Destination[T]) spawn() {
	for {
		n := d.workers.Load()
		if n >= d.max {
			return
		}
		if d.workers.CompareAndSwap(n, n+1) {
			break
		}
	}
	if !d.e.startWorker() {
		d.workers.Add(-1)
		return
	}
	go d.work()
}

// hasWork reports whether items wait in the queue or the overflow list.
func (d *Destination[T]) hasWork() bool { return len(d.ch) > 0 || d.ovLen.Load() > 0 }

// rejoin lets a worker that decided to exit stay after all.
func (d *Destination[T]) rejoin() bool {
	for {
		n := d.workers.Load()
		if n >= d.max {
			return false
		}
		if d.workers.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// work is a worker's loop. It exits after IdleTimeout without work, or when
// the engine stops.
//
// To keep clock readings rare, HandlerTime is measured per busy run (from
// the first dequeue after a wait to the next wait, flushed every
// handlerTimeFlush deliveries), not per delivery; it includes the worker's
// own small overhead between deliveries.
func (d *Destination[T]) work() {
	e := d.e
	defer e.wg.Done()
	idle := time.NewTimer(d.idleTimeout) // re-armed only when it fires
	defer idle.Stop()
	runStart, runLen := e.mono(), 0
	for {
		if d.state.Load() == stateStopped {
			d.flushHandlerTime(&runStart, &runLen)
			d.workers.Add(-1)
			return
		}
		var en entry[T]
		ok := false
		if d.ovLen.Load() > 0 {
			en, ok = d.pop()
		}
		if !ok {
			select {
			case en = <-d.ch:
				ok = true
			default:
			}
		}
		if !ok {
			idleSince := d.flushHandlerTime(&runStart, &runLen)
		wait:
			select {
			case en = <-d.ch:
				ok = true
			case <-d.wake:
			case <-idle.C:
				if waited := time.Duration(e.mono() - idleSince); waited < d.idleTimeout {
					idle.Reset(d.idleTimeout - waited) // it fired for an earlier wait
					goto wait
				}
				idle.Reset(d.idleTimeout)
				d.workers.Add(-1)
				// An Enqueue may have counted on this worker.
				if d.hasWork() && d.rejoin() {
					runStart = e.mono()
					continue
				}
				return
			case <-e.halt:
				d.workers.Add(-1)
				return
			}
			runStart = e.mono()
			if !ok {
				continue
			}
		}
		if end := d.process(&en); end != 0 {
			d.handlerNanos.Add(end - runStart)
			runStart, runLen = end, 0
		} else if runLen++; runLen >= handlerTimeFlush {
			d.flushHandlerTime(&runStart, &runLen)
		}
	}
}

// flushHandlerTime adds the busy run so far to HandlerTime and returns now.
func (d *Destination[T]) flushHandlerTime(runStart *int64, runLen *int) int64 {
	now := d.e.mono()
	if *runLen > 0 {
		d.handlerNanos.Add(now - *runStart)
	}
	*runStart, *runLen = now, 0
	return now
}

// process makes one attempt at en. It returns the time it ended if it read
// the clock (for a sampled latency), else 0.
func (d *Destination[T]) process(en *entry[T]) int64 {
	for {
		if en.attempt > 1 {
			d.retries.Add(1)
		}
		err := d.call(en)
		if err == nil {
			break
		}
		d.failed.Add(1)
		if !d.ordered || !d.waitInPlace(en, err) {
			d.fail(en, err)
			return 0
		}
	}
	var end int64
	if en.enq != 0 {
		end = d.e.mono()
		d.latency.record(end - en.enq)
	}
	d.delivered.Add(1)
	d.finished()
	return end
}

// call runs Deliver, recovering a panic into a *PanicError. If Deliver
// calls runtime.Goexit, the worker's goroutine ends: call fails the item
// and gives up the worker's slot on the way out.
func (d *Destination[T]) call(en *entry[T]) (err error) {
	normal := false
	defer func() {
		if normal {
			return
		}
		if r := recover(); r != nil {
			err = newPanicError(r)
			return
		}
		// runtime.Goexit: the goroutine ends after the deferred calls.
		d.failed.Add(1)
		d.fail(en, errGoexit)
		d.workers.Add(-1)
		if d.hasWork() {
			d.spawn() // a replacement, for what is queued
		}
	}()
	err = d.deliver(d.e.ctx, en.item, int(en.attempt))
	normal = true
	return err
}

// fail decides what follows a failed attempt.
func (d *Destination[T]) fail(en *entry[T], err error) {
	attempts := int(en.attempt)
	switch {
	case IsPermanent(err):
		d.bury(en.item, Failure{Reason: ReasonPermanent, Err: err, Attempts: attempts})
	case attempts >= d.policy.MaxAttempts:
		d.bury(en.item, Failure{Reason: ReasonMaxAttempts, Err: err, Attempts: attempts})
	case d.state.Load() == stateStopped:
		d.bury(en.item, Failure{Reason: ReasonShutdown, Err: err, Attempts: attempts})
	default:
		d.retry(en, err)
	}
}

// waitInPlace is the retry of an ordered destination: the worker itself
// waits for the backoff, holding up the items behind en. It reports false
// when en must not be retried (fail then dead-letters it).
func (d *Destination[T]) waitInPlace(en *entry[T], err error) bool {
	e := d.e
	if IsPermanent(err) || int(en.attempt) >= d.policy.MaxAttempts || d.state.Load() == stateStopped {
		return false
	}
	now := e.clock.Now()
	if en.rt == nil {
		var age time.Duration
		if en.enq != 0 {
			age = time.Duration(e.mono() - en.enq)
		}
		en.rt = &retryState[T]{deadline: now.Add(d.policy.MaxAge - age)}
	}
	en.rt.err = err
	if !now.Before(en.rt.deadline) {
		return false
	}
	delay := min(d.policy.Backoff(int(en.attempt)), en.rt.deadline.Sub(now))
	ready := make(chan struct{})
	t := e.clock.AfterFunc(delay, func() { close(ready) })
	select {
	case <-ready:
		en.attempt++
		return true
	case <-e.halt:
		t.Stop()
		return false // stopped: dead-lettered with ReasonShutdown
	}
}

// retry schedules the next attempt at en on the clock.
func (d *Destination[T]) retry(en *entry[T], err error) {
	e := d.e
	now := e.clock.Now()
	rt := en.rt
	if rt == nil {
		var age time.Duration // the wait in the queue, when it was sampled
		if en.enq != 0 {
			age = time.Duration(e.mono() - en.enq)
		}
		rt = &retryState[T]{deadline: now.Add(d.policy.MaxAge - age)}
	}
	rt.err = err
	if !now.Before(rt.deadline) {
		d.bury(en.item, Failure{Reason: ReasonMaxAge, Err: err, Attempts: int(en.attempt)})
		return
	}
	delay := d.policy.Backoff(int(en.attempt))
	if left := rt.deadline.Sub(now); delay > left {
		delay = left
	}
	en.attempt++
	en.rt = rt
	rt.en = *en

	d.mu.Lock()
	if d.swept {
		d.mu.Unlock()
		d.bury(en.item, Failure{Reason: ReasonShutdown, Err: err, Attempts: int(en.attempt) - 1})
		return
	}
	d.waiting[rt] = struct{}{}
	d.mu.Unlock()
	// The clock is called without the lock held: it may be user code.
	t := e.clock.AfterFunc(delay, func() { d.retryReady(rt) })
	d.mu.Lock()
	_, still := d.waiting[rt]
	if still {
		rt.timer = t
	}
	d.mu.Unlock()
	if !still {
		t.Stop()
	}
}

// retryReady moves a retry whose timer fired to the overflow list.
func (d *Destination[T]) retryReady(rt *retryState[T]) {
	d.mu.Lock()
	if _, ok := d.waiting[rt]; !ok {
		d.mu.Unlock() // swept at shutdown
		return
	}
	delete(d.waiting, rt)
	rt.timer = nil
	d.mu.Unlock()
	if err := d.push(rt.en); err != nil {
		d.bury(rt.en.item, Failure{Reason: ReasonShutdown, Err: rt.err, Attempts: int(rt.en.attempt) - 1})
	}
}

// bury dead-letters item and accounts for it.
func (d *Destination[T]) bury(item T, f Failure) {
	e := d.e
	if f.Reason == ReasonShutdown {
		e.shutdownDL.Add(1)
	}
	e.dead.Add(1)
	func() {
		defer func() {
			if r := recover(); r != nil {
				e.logger.Error("delivery: dead-letter function panicked",
					"destination", d.name, "panic", r)
			}
		}()
		if d.deadLetter != nil {
			d.deadLetter(e.dlCtx, item, f)
		} else {
			e.logDeadLetter(e.dlCtx, d.name, item, f)
		}
	}()
	d.deadLettered.Add(1)
	d.finished()
}

// setState moves the destination to state s; it never goes back, and a
// retired destination stays retired while the engine drains.
func (d *Destination[T]) setState(s int32) {
	for {
		cur := d.state.Load()
		if cur >= s {
			return
		}
		if d.state.CompareAndSwap(cur, s) {
			return
		}
	}
}

// Retire stops intake for this destination (Enqueue returns ErrClosed);
// queued items and retries are still delivered, then its workers exit
// after their idle timeout. Used when a rule or subscription is removed.
func (d *Destination[T]) Retire() { d.setState(stateRetired) }

// retiredAndEmpty reports whether the engine may forget d.
func (d *Destination[T]) retiredAndEmpty() bool {
	return d.state.Load() >= stateRetired && d.inFlight() == 0 && d.workers.Load() == 0
}

// finishedCount and acceptedCount are read by Engine.Pending, in this
// order: finish-side counters first.
func (d *Destination[T]) finishedCount() uint64 {
	return d.delivered.Load() + d.deadLettered.Load() + d.refused.Load()
}

func (d *Destination[T]) acceptedCount() uint64 { return d.offered.Load() }

// inFlight returns accepted items not yet delivered or dead-lettered.
func (d *Destination[T]) inFlight() int64 {
	f := d.finishedCount()
	return max(int64(d.acceptedCount()-f), 0)
}

// sweep dead-letters everything queued or waiting to retry, at shutdown.
func (d *Destination[T]) sweep() {
	d.mu.Lock()
	d.swept = true
	var items []entry[T]
	for rt := range d.waiting {
		if rt.timer != nil {
			rt.timer.Stop()
			rt.timer = nil
		}
		items = append(items, rt.en)
	}
	clear(d.waiting)
	items = append(items, d.ov[d.ovHead:]...)
	d.ovLen.Add(-int64(len(d.ov) - d.ovHead))
	d.ov, d.ovHead = nil, 0
	d.mu.Unlock()
	for {
		select {
		case en := <-d.ch:
			items = append(items, en)
			continue
		default:
		}
		break
	}
	for _, en := range items {
		err := error(ErrClosed)
		if en.rt != nil && en.rt.err != nil {
			err = en.rt.err
		}
		d.bury(en.item, Failure{Reason: ReasonShutdown, Err: err, Attempts: int(en.attempt) - 1})
	}
}
