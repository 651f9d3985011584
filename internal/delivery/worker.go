package delivery

import "time"

// This file holds the workers: how they start, take items, make attempts
// and stop.

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
			idleSince := runStart // process flushed when it found the queue empty
			if runLen > 0 {
				idleSince = d.flushHandlerTime(&runStart, &runLen)
			}
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
		runLen++
		d.process(&en, &runStart, &runLen)
	}
}

// flushHandlerTime adds the busy run so far to HandlerTime, notes whether
// deliveries are fast, and returns now.
func (d *Destination[T]) flushHandlerTime(runStart *int64, runLen *int) int64 {
	now := d.e.mono()
	if n := *runLen; n > 0 {
		busy := now - *runStart
		d.handlerNanos.Add(busy)
		if n >= 8 {
			if fast := busy < int64(n)*int64(fastDelivery); d.fast.Load() != fast {
				d.fast.Store(fast)
			}
		}
	}
	*runStart, *runLen = now, 0
	return now
}

// process makes one attempt at en (and, for an ordered destination, its
// retries), and accounts for it. The busy run's time is added to
// HandlerTime before the item counts as finished whenever that is cheap
// (the clock is read anyway) or due: on failure, when the queue is empty
// (the worker is about to wait), and every handlerTimeFlush deliveries. So
// when Drain returns, HandlerTime includes every attempt.
func (d *Destination[T]) process(en *entry[T], runStart *int64, runLen *int) {
	for {
		if en.attempt > 1 {
			d.retries.Add(1)
		}
		err := d.call(en)
		if err == nil {
			break
		}
		d.failed.Add(1)
		d.flushHandlerTime(runStart, runLen)
		if !d.ordered || !d.waitInPlace(en, err) {
			d.fail(en, err)
			return
		}
		*runStart, *runLen = d.e.mono(), 1 // the wait is not handler time
	}
	var now int64
	if *runLen >= handlerTimeFlush || len(d.ch) == 0 && d.ovLen.Load() == 0 {
		now = d.flushHandlerTime(runStart, runLen)
	}
	if en.enq != 0 {
		if now == 0 {
			now = d.e.mono()
		}
		d.latency.record(now - en.enq)
	}
	d.delivered.Add(1)
	d.finished()
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
