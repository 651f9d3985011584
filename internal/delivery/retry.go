package delivery

import (
	"context"
	"log/slog"
	"time"
)

// This file holds what follows a failed attempt: retries on the clock
// (or in place, for an ordered destination) and dead letters.

// fail decides what follows a failed attempt.
func (d *Destination[T]) fail(en *entry[T], err error) {
	attempts := int(en.attempt)
	switch {
	case IsPermanent(err):
		d.bury(en, Failure{Reason: ReasonPermanent, Err: err, Attempts: attempts})
	case attempts >= d.policy.MaxAttempts:
		d.bury(en, Failure{Reason: ReasonMaxAttempts, Err: err, Attempts: attempts})
	case d.state.Load() == stateStopped:
		d.bury(en, Failure{Reason: ReasonShutdown, Err: err, Attempts: attempts})
	default:
		d.retry(en, err)
	}
}

// backoff returns the wait before the next attempt at en, which just
// failed, or false when that attempt would start after the policy's
// maximum age, counted on the engine's clock from en's acceptance.
func (d *Destination[T]) backoff(en *entry[T]) (time.Duration, bool) {
	delay := d.policy.Backoff(int(en.attempt))
	age := time.Duration(d.e.now() - en.acc)
	return delay, age <= d.policy.MaxAge && delay <= d.policy.MaxAge-age
}

// waitInPlace is the retry of an ordered destination: the worker itself
// waits for the backoff, holding up the items behind en. It reports
// whether en is to be attempted again; if not, en was dead-lettered.
func (d *Destination[T]) waitInPlace(en *entry[T], err error) bool {
	e := d.e
	if IsPermanent(err) || int(en.attempt) >= d.policy.MaxAttempts || d.state.Load() == stateStopped {
		d.fail(en, err)
		return false
	}
	if en.rt == nil {
		en.rt = &retryState[T]{}
	}
	en.rt.err = err
	delay, ok := d.backoff(en)
	if !ok {
		d.bury(en, Failure{Reason: ReasonMaxAge, Err: err, Attempts: int(en.attempt)})
		return false
	}
	ready := make(chan struct{})
	t := e.clock.AfterFunc(delay, func() { close(ready) })
	select {
	case <-ready:
		en.attempt++
		return true
	case <-e.halt:
		t.Stop()
		d.fail(en, err) // stopped: dead-lettered with ReasonShutdown
		return false
	}
}

// retry schedules the next attempt at en on the clock.
func (d *Destination[T]) retry(en *entry[T], err error) {
	e := d.e
	delay, ok := d.backoff(en)
	if !ok {
		d.bury(en, Failure{Reason: ReasonMaxAge, Err: err, Attempts: int(en.attempt)})
		return
	}
	rt := en.rt
	if rt == nil {
		rt = &retryState[T]{}
	}
	rt.err = err
	en.attempt++
	en.rt = rt
	rt.en = *en

	d.mu.Lock()
	if d.swept {
		d.mu.Unlock()
		en.attempt--
		d.bury(en, Failure{Reason: ReasonShutdown, Err: err, Attempts: int(en.attempt)})
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
		d.buryShutdown(&rt.en)
		return
	}
	d.wakeOrSpawn(w)
}

// bury dead-letters en's item and accounts for it. The dead-letter function
// runs contained (see contain): if it panics or calls runtime.Goexit, the
// dead letter counts as failed (DeadLetterFailed) and is logged at Error
// level, and the item counts as dead-lettered all the same.
func (d *Destination[T]) bury(en *entry[T], f Failure) {
	e := d.e
	if f.Reason == ReasonShutdown {
		e.shutdownDL.Add(1)
	}
	e.dead.Add(1)
	ctx := e.dlCtxs[en.bucket]
	switch {
	case d.deadLetter != nil:
		item := en.item
		d.checkDeadLetter(ctx, f, contain(func() { d.deadLetter(ctx, item, f) }))
	case e.deadLetter != nil:
		item := en.item
		d.checkDeadLetter(ctx, f, contain(func() { e.deadLetter(ctx, d.name, item, f) }))
	default:
		e.logDeadLetter(ctx, d.name, f)
	}
	d.deadLettered.Add(1)
	d.finished(en.bucket)
}

// checkDeadLetter accounts for a dead-letter function that failed (err is
// not nil): the dead letter may be lost, so it is counted and logged.
func (d *Destination[T]) checkDeadLetter(ctx context.Context, f Failure, err error) {
	if err == nil {
		return
	}
	d.dlFailed.Add(1)
	d.e.logger.LogAttrs(ctx, slog.LevelError, "eda: dead-letter handler failed; the dead letter may be lost",
		slog.String("destination", d.name),
		slog.String("reason", string(f.Reason)),
		slog.Int("attempts", f.Attempts),
		slog.Any("dead_letter_error", f.Err),
		slog.Any("error", err))
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
	d.bury(en, Failure{Reason: ReasonShutdown, Err: err, Attempts: int(en.attempt) - 1})
}
