package delivery

import "time"

// This file holds what follows a failed attempt: retries on the clock
// (or in place, for an ordered destination) and dead letters.

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
	w, _, err := d.push(&rt.en) // (held implies a busy worker)
	if err != nil {
		d.bury(rt.en.item, Failure{Reason: ReasonShutdown, Err: rt.err, Attempts: int(rt.en.attempt) - 1})
		return
	}
	d.wakeOrSpawn(w)
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
	items = d.takeAll(items)
	d.wakeAll() // they see the engine stopped and exit
	d.mu.Unlock()
	for i := range items {
		d.buryShutdown(&items[i])
	}
}

// buryShutdown dead-letters en because the engine stopped before it could
// be delivered.
func (d *Destination[T]) buryShutdown(en *entry[T]) {
	err := error(ErrClosed)
	if en.rt != nil && en.rt.err != nil {
		err = en.rt.err
	}
	d.bury(en.item, Failure{Reason: ReasonShutdown, Err: err, Attempts: int(en.attempt) - 1})
}
