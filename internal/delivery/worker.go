package delivery

import (
	"context"
	"log/slog"
	"time"
)

// This file holds the workers: how they start, take items, make attempts
// and stop.

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
func (d *Destination[T]) hasWork() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queued() > 0
}

// worker is the state of one worker goroutine.
type worker[T any] struct {
	// wake receives a token when the worker is taken off the idle list: an
	// item was handed to it (in batch) or queued, its idle timeout passed
	// or the engine stopped.
	wake     chan struct{}
	batch    []entry[T] // items taken from the queue or handed over
	next     int        // index in batch of the item after the current one
	emptied  bool       // taking batch emptied the queue
	runStart int64      // start of the busy run (engine mono time)
	runLen   int        // deliveries in the busy run
	paced    uint32     // deliveries so far: one in paceSample is timed

	// Under the destination's mu.
	idle      bool        // on the idle list
	idleSince int64       // when it went on the idle list (mono)
	expired   bool        // taken off the idle list by its timer or by Retire
	gone      bool        // exited
	timer     *time.Timer // the idle timeout (see idleCheck)
}

// work is a worker's loop. It exits after IdleTimeout without work, or when
// the engine stops.
//
// A worker takes one item at a time, or, when the destination's deliveries
// are fast (or it has a single worker), up to maxTake at once, its share of
// what is queued: one lock then serves many items.
//
// A worker without work waits on its own channel alone, the cheapest wait
// there is; its idle timer is not re-armed per wait but checks, when it
// fires, how long the worker has been idle (see idleCheck).
//
// To keep clock readings rare, HandlerTime is measured per busy run (from
// the first item after a wait to the next wait, flushed every
// handlerTimeFlush deliveries), not per delivery; it includes the worker's
// own small overhead between deliveries.
func (d *Destination[T]) work() {
	e := d.e
	defer e.wg.Done()
	w := &worker[T]{wake: make(chan struct{}, 1), batch: make([]entry[T], 0, maxTake), runStart: e.mono()}
	d.mu.Lock()
	w.timer = time.AfterFunc(d.idleTimeout, func() { d.idleCheck(w) })
	d.mu.Unlock()
	e.running.Add(1)
	running := true // counted in e.running
	defer func() {
		if running {
			e.running.Add(-1)
		}
		d.mu.Lock()
		w.gone = true
		w.timer.Stop()
		d.mu.Unlock()
	}()
	for {
		if d.state.Load() == stateStopped {
			d.flushHandlerTime(w)
			d.workers.Add(-1)
			return
		}
		d.mu.Lock()
		k := 1
		if d.max == 1 || d.fast.Load() {
			k = min(maxTake, max(1, d.queued()/max(int(d.workers.Load()), 1)))
		}
		w.batch = d.take(w.batch[:0], k)
		w.emptied = d.queued() == 0
		if len(w.batch) == 0 && d.swept {
			// The engine stopped after this worker looked at the state;
			// the sweep woke the idle workers before this one would wait.
			d.workers.Add(-1)
			d.mu.Unlock()
			d.flushHandlerTime(w)
			return
		}
		idle := len(w.batch) == 0
		if idle {
			if w.runLen > 0 {
				d.flushHandlerTime(w)
			}
			if d.surplus() || d.state.Load() >= stateRetired {
				d.workers.Add(-1) // under mu: an Enqueue that finds no idle worker sees it
				d.mu.Unlock()
				return
			}
			d.q.idle = append(d.q.idle, w)
			w.idle, w.idleSince = true, w.runStart
			e.running.Add(-1)
			running = false
		}
		d.mu.Unlock()
		if idle {
			// From here until the token, a producer may write w.batch.
			<-w.wake
			if w.expired { // see idleCheck
				return
			}
			e.running.Add(1)
			running = true
			w.runStart = e.mono()
			if len(w.batch) == 0 {
				continue // woken to look at the queue, or to stop
			}
			w.emptied = true // handed over by a producer that found the queue empty
		}
		for w.next = 0; w.next < len(w.batch); {
			en := &w.batch[w.next]
			w.next++
			if d.state.Load() == stateStopped {
				d.putBack(w.batch[w.next-1:])
				break
			}
			d.process(w, en)
		}
		clear(w.batch)
	}
}

// idleCheck runs when a worker's idle timer fires. A worker idle for
// IdleTimeout is taken off the idle list and told to exit; otherwise the
// timer is armed again for when that could be the case.
func (d *Destination[T]) idleCheck(w *worker[T]) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w.gone {
		return
	}
	next := d.idleTimeout
	if w.idle {
		idle := time.Duration(d.e.mono() - w.idleSince)
		if idle >= d.idleTimeout {
			d.unidle(w)
			w.expired = true
			d.workers.Add(-1) // under mu: an Enqueue that finds no idle worker sees it
			w.wake <- struct{}{}
			return
		}
		next -= idle
	}
	w.timer.Reset(next)
}

// surplus reports whether a worker of the destination is one too many:
// deliveries are fast, so a worker needs a CPU for as long as it has
// items, and the destination has more workers than there are CPUs (they
// were started before deliveries proved fast). A surplus worker that finds
// the queue empty exits instead of waiting. (Workers beyond one while many
// destinations are busy are not surplus: they wait, idle, and summon does
// not wake them.) The caller holds d.mu.
func (d *Destination[T]) surplus() bool {
	return d.workers.Load() > d.procs && d.fast.Load()
}

// flushHandlerTime adds the busy run so far to HandlerTime and returns now.
func (d *Destination[T]) flushHandlerTime(w *worker[T]) int64 {
	now := d.e.mono()
	if w.runLen > 0 {
		d.handlerNanos.Add(now - w.runStart)
	}
	w.runStart, w.runLen = now, 0
	return now
}

// judgePace notes how long one timed call of Deliver took (see paceSample):
// the destination's speed changes when paceFlip timed calls in a row
// disagree with it.
func (d *Destination[T]) judgePace(nanos int64) {
	if fast := nanos < int64(fastDelivery); d.fast.Load() == fast {
		if d.paceAgainst.Load() != 0 { // (a store would take the line from producers)
			d.paceAgainst.Store(0)
		}
	} else if d.paceAgainst.Add(1) >= paceFlip {
		d.fast.Store(fast)
		d.paceAgainst.Store(0)
	}
}

// process makes one attempt at en (and, for an ordered destination, its
// retries), and accounts for it. The busy run's time is added to
// HandlerTime before the item counts as finished whenever that is cheap
// (the clock is read anyway) or due: on failure, at the last item of a
// batch that emptied the queue (the worker is probably about to wait), and
// every handlerTimeFlush deliveries. So when Drain returns, HandlerTime
// includes every attempt (but for a worker whose batch did not empty the
// queue while another worker took the rest: its run is added as it waits).
func (d *Destination[T]) process(w *worker[T], en *entry[T]) {
	w.runLen++
	for {
		if en.attempt > 1 {
			d.retries.Add(1)
		}
		// One call in paceSample is timed on its own, to judge the
		// destination's speed (see paceSample).
		w.paced++
		timed := w.paced%paceSample == 1
		var t0 int64
		if timed {
			t0 = d.e.mono()
		}
		err := d.call(w, en)
		if timed {
			d.judgePace(d.e.mono() - t0)
		}
		if err == nil {
			break
		}
		d.failed.Add(1)
		d.noteFailure(en, err)
		d.flushHandlerTime(w)
		if !d.ordered {
			d.fail(en, err)
			return
		}
		if !d.waitInPlace(en, err) {
			return
		}
		w.runStart, w.runLen = d.e.mono(), 1 // the wait is not handler time
	}
	var now int64
	if w.runLen >= handlerTimeFlush || w.next == len(w.batch) && w.emptied {
		now = d.flushHandlerTime(w)
	}
	if en.sample {
		if now == 0 || !d.e.sysClock {
			now = d.e.now()
		}
		d.sampleLatency(now - en.acc)
	}
	d.finished(en.bucket)
}

// call runs Deliver, recovering a panic into a *PanicError. If Deliver
// calls runtime.Goexit, the worker's goroutine ends: call fails the item,
// puts the rest of the worker's batch back and gives up the worker's slot
// on the way out.
func (d *Destination[T]) call(w *worker[T], en *entry[T]) (err error) {
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
		d.noteFailure(en, errGoexit)
		d.fail(en, errGoexit)
		d.workers.Add(-1)
		d.putBack(w.batch[w.next:])
		if d.hasWork() {
			d.spawn() // a replacement, for what is queued
		}
	}()
	err = d.deliver(d.e.ctxs[en.bucket], en.item, int(en.attempt))
	normal = true
	return err
}

// failureLogEvery is how often, at most, a destination logs a failed
// attempt (on the engine's clock), after its first failure.
const failureLogEvery = 5 * time.Second

// noteFailure records err as the destination's last error (for Drain's and
// Close's errors) and logs the failed attempt at the engine's failure log
// level: the destination's first failure, then at most one record per
// failureLogEvery, with the count of the failures not logged since.
func (d *Destination[T]) noteFailure(en *entry[T], err error) {
	d.lastErr.Store(&err)
	e := d.e
	now := e.now() + 1 // logAt is 0 before the first record
	last := d.logAt.Load()
	if last != 0 && now-last < int64(failureLogEvery) || !d.logAt.CompareAndSwap(last, now) {
		d.logSuppressed.Add(1)
		return
	}
	suppressed := d.logSuppressed.Swap(0)
	ctx := context.Background()
	level := e.failLevel.Level()
	if !e.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("destination", d.name),
		slog.Int("attempt", int(en.attempt)),
		slog.Any("error", err),
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int64("failures_not_logged", suppressed))
	}
	e.logger.LogAttrs(ctx, level, "eda: delivery attempt failed", attrs...)
}
