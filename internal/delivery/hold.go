package delivery

import "time"

// Holding items for busy workers.
//
// While a destination's deliveries are fast, a busy worker comes back for
// more within microseconds, sooner than a parked worker wakes up; so an item
// may wait in the queue for a busy worker rather than wake an idle one (see
// summon). Two bounds keep a busy worker that gets stuck in one long call
// from holding items up: at most holdPerBusy items per busy worker wait,
// the next one wakes an idle worker; and the hold watch, an engine-wide
// timer that ticks while some destination holds items, wakes an idle worker
// of every destination whose workers took nothing from its queue over a
// whole tick (holdWait). The tick is not shorter because a worker that is
// runnable but waits for a CPU makes no progress either: on a loaded
// machine, with many destinations, a short tick would wake idle workers
// for nothing, and they would only add to the load.

// holdPerBusy bounds the items that wait for a busy worker of a fast
// destination while another worker is idle.
const holdPerBusy = 8

// holdWait is the hold watch's tick: items held for a stuck worker wait
// between one and two ticks.
const holdWait = 5 * time.Millisecond

// holder is a destination on the hold watch.
type holder interface {
	// checkHeld wakes an idle worker for the items held if no worker took
	// from the queue over a whole tick, and puts the destination back on
	// the watch while it still holds items.
	checkHeld(tick uint64)
}

// summon picks the idle worker that will serve an item about to be
// queued, or returns nil: when no worker is idle, or when a busy worker
// should serve it (see above). The caller holds d.mu.
func (d *Destination[T]) summon() *worker[T] {
	if len(d.q.idle) == 0 {
		return nil
	}
	if d.fast.Load() {
		if busy := int(d.workers.Load()) - len(d.q.idle); busy > 0 && d.queued() < busy*holdPerBusy {
			if !d.q.watched {
				d.q.watched, d.q.takesSeen = true, d.q.takes
				d.q.watchedTick = d.e.watchHeld(d)
			}
			return nil
		}
	}
	return d.claimIdle()
}

// checkHeld implements holder: tick is the tick that just ended.
func (d *Destination[T]) checkHeld(tick uint64) {
	var w *worker[T]
	d.mu.Lock()
	q := &d.q
	q.watched = false
	if d.queued() > 0 && len(q.idle) > 0 && !d.swept {
		switch {
		case q.watchedTick == tick:
			q.watched = true // watched for part of a tick only: not yet judged
		case q.takes == q.takesSeen:
			w = d.claimIdle() // the busy workers are stuck
		default:
			q.watched, q.takesSeen = true, q.takes
		}
	}
	rewatch := q.watched
	d.mu.Unlock()
	if w != nil {
		w.wake <- struct{}{}
	}
	if rewatch {
		// On the next tick's list: watchedTick, at most tick, says that
		// the destination will have been watched for a whole tick.
		d.e.watchHeld(d)
	}
}

// watchHeld puts h on the hold watch, starts the watch's timer if h is the
// first, and returns the current tick. h's caller may hold h's mutex.
func (e *Engine) watchHeld(h holder) uint64 {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watchStopped {
		return e.watchTick
	}
	e.watched = append(e.watched, h)
	if len(e.watched) > 1 {
		return e.watchTick
	}
	if e.watchTimer == nil {
		e.watchTimer = time.AfterFunc(holdWait, e.checkHeld)
	} else {
		e.watchTimer.Reset(holdWait)
	}
	return e.watchTick
}

// checkHeld is the hold watch's tick: it checks every destination on the
// watch, which each put themselves back on it while they hold items.
func (e *Engine) checkHeld() {
	e.watchMu.Lock()
	list := e.watched
	e.watched = nil
	tick := e.watchTick
	e.watchTick++
	e.watchMu.Unlock()
	for _, h := range list {
		h.checkHeld(tick)
	}
}

// stopWatch stops the hold watch for good: the workers are gone.
func (e *Engine) stopWatch() {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	e.watchStopped = true
	e.watched = nil
	if e.watchTimer != nil {
		e.watchTimer.Stop()
	}
}
