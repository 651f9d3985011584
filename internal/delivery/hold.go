package delivery

import "time"

// Holding items for busy workers.
//
// While a destination's deliveries are fast, a busy worker comes back for
// more within microseconds, sooner than a parked worker wakes up or a new
// one starts; so an item may wait in the queue for a busy worker rather
// than wake an idle worker or start another (see summon). With many busy
// destinations (more workers running in the engine than there are CPUs),
// items always wait for the busy worker: each destination keeps to the one
// worker it needs, where more would only crowd the CPUs. The hold watch
// keeps a busy worker that gets stuck in one long call from holding items
// up: an engine-wide timer that ticks while some destination holds items,
// it wakes an idle worker (or starts one) for every destination whose
// workers took nothing from its queue over a whole tick (holdWait). Outside
// many busy destinations, at most holdPerBusy items per busy worker wait,
// and the next one wakes or starts another worker at once. The tick is not
// shorter because a worker that is runnable but waits for a CPU makes no
// progress either: on a loaded machine, with many destinations, a short
// tick would wake workers for nothing, and they would only add to the load.

// summon decides who serves an item about to be queued: while deliveries
// are fast and fewer than holdPerBusy items per busy worker are queued, or
// the engine runs more workers than there are CPUs, the busy workers (held
// is true, and the destination goes on the hold watch); else an idle
// worker, which it claims and returns; or else nobody yet, and the caller
// may start a worker. The caller holds d.mu.
func (d *Destination[T]) summon() (w *worker[T], held bool) {
	if d.max == 1 || !d.fast.Load() { // (with one worker, nobody else could serve)
		return d.claimIdle(), false
	}
	// More workers running in the engine than there are CPUs (many busy
	// destinations): another would only take CPU time from them.
	if busy := int(d.workers.Load()) - len(d.q.idle); busy > 0 &&
		(d.queued() < busy*holdPerBusy || d.e.running.Load() > d.procs) {
		d.hold()
		return nil, true
	}
	return d.claimIdle(), false
}

// hold puts the destination on the hold watch, unless it is on it. The
// caller holds d.mu.
func (d *Destination[T]) hold() {
	if !d.q.watched {
		d.q.watched, d.q.takesSeen = true, d.q.takes
		d.q.watchedTick = d.e.watchHeld(d)
	}
}

// checkHeld runs on the hold watch's tick; tick is the tick that just
// ended. When the busy workers took nothing from the queue over a whole
// tick, it wakes an idle worker or, if none is idle, starts one; while the
// destination still holds items, it puts it back on the watch.
func (d *Destination[T]) checkHeld(tick uint64) {
	var w *worker[T]
	stuck := false
	d.mu.Lock()
	q := &d.q
	q.watched = false
	if d.queued() > 0 && !d.swept {
		switch {
		case q.watchedTick == tick:
			q.watched = true // watched for part of a tick only: not yet judged
		case q.takes == q.takesSeen:
			stuck = true
			w = d.claimIdle()
		default:
			q.watched, q.takesSeen = true, q.takes
		}
	}
	rewatch := q.watched
	d.mu.Unlock()
	switch {
	case w != nil:
		w.wake <- struct{}{}
	case stuck:
		d.spawn()
	}
	if rewatch {
		// On the next tick's list: watchedTick, at most tick, says that
		// the destination will have been watched for a whole tick.
		d.e.watchHeld(d)
	}
}

// watchHeld puts d on the hold watch, starts the watch's timer if d is the
// first, and returns the current tick. The caller may hold d's mutex.
func (e *Engine) watchHeld(d dest) uint64 {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watchStopped {
		return e.watchTick
	}
	e.watched = append(e.watched, d)
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
	for _, d := range list {
		d.checkHeld(tick)
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
