package delivery

// This file holds a destination's queue: a bounded ring of accepted items,
// an unbounded overflow list for retries and cascades (served first), the
// idle workers waiting for an item and the producers waiting for room, all
// under the destination's mutex.
//
// Producers that find the ring full wait in line, first come first served:
// a worker that takes items from a full ring moves the waiting producers'
// items into the room it made, oldest first, and tells them; a producer
// that comes later does not get ahead of them. So under sustained
// backpressure every producer gets its turn, and none waits for room while
// others arriving after it are served.
//
// Why not a channel: a worker takes several items per lock when many are
// queued and deliveries are fast, which a channel cannot do, and a producer
// that finds a worker idle hands the item to exactly that worker.

// queue is the state behind a destination's mutex that holds items.
type queue[T any] struct {
	ring   []entry[T] // bounded: items accepted by Enqueue
	size   int        // the bound: ring grows up to it as needed
	head   int        // index of the oldest item in ring
	n      int        // items in ring
	ov     []entry[T] // unbounded: ready retries and cascades, served first
	ovHead int
	// idle holds the workers waiting for an item, the one that waited last
	// on top. A worker is taken off the list by whoever sends it its wake-up
	// token, so it gets at most one token per wait.
	idle []*worker[T]
	// waiters holds the items of producers waiting for room, oldest first.
	waiters []*roomWaiter[T]
	// takes counts the takes from the queue; the hold watch compares it
	// with takesSeen, its value when the watch last looked (see hold.go).
	takes       uint64
	takesSeen   uint64
	watched     bool   // on the engine's hold watch
	watchedTick uint64 // the watch's tick when it began to watch
}

// tryPush adds en to the ring unless it is full. It returns the idle
// worker to wake (outside the lock) for it, if one should be, or whether it
// is held for a busy worker (see summon); when neither, the caller may
// start a worker. When the queue is empty, en is handed to the idle worker
// directly: it needs no lock to take it, and the order is kept. A worker is
// returned even when the ring is full, to take what is queued. The caller
// holds d.mu.
func (d *Destination[T]) tryPush(en *entry[T]) (wake *worker[T], held, ok bool) {
	w, held, handed := d.handOver(en)
	if handed {
		return w, false, true
	}
	q := &d.q
	if len(q.waiters) > 0 || !q.pushRing(en) {
		return w, held, false // the ring is full, or others wait in line
	}
	return w, held, true
}

// pushRing appends en to the ring, unless it is full. The caller holds d.mu.
func (q *queue[T]) pushRing(en *entry[T]) bool {
	if q.n == len(q.ring) && !q.grow() {
		return false
	}
	i := q.head + q.n
	if i >= len(q.ring) {
		i -= len(q.ring)
	}
	q.ring[i] = *en
	q.n++
	return true
}

// roomWaiter is a producer waiting for room in the ring: its item, and a
// channel closed once a worker moved the item into the ring (moved, under
// d.mu).
type roomWaiter[T any] struct {
	en    entry[T]
	done  chan struct{}
	moved bool
}

// admit moves the items of waiting producers into the ring, oldest first,
// as far as there is room, and tells each producer. The caller holds d.mu.
func (q *queue[T]) admit() {
	for len(q.waiters) > 0 && q.pushRing(&q.waiters[0].en) {
		w := q.waiters[0]
		q.waiters[0] = nil
		q.waiters = q.waiters[1:]
		w.moved = true
		close(w.done)
	}
	if len(q.waiters) == 0 {
		q.waiters = nil
	}
}

// leave takes w, whose producer stops waiting, out of the line. The caller
// holds d.mu.
func (q *queue[T]) leave(w *roomWaiter[T]) {
	for i, x := range q.waiters {
		if x == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			return
		}
	}
}

// pushOverflow adds en to the overflow list, or hands it to an idle worker,
// as tryPush does. The caller holds d.mu.
func (d *Destination[T]) pushOverflow(en *entry[T]) (wake *worker[T], held bool) {
	w, held, handed := d.handOver(en)
	if !handed {
		d.q.ov = append(d.q.ov, *en)
	}
	return w, held
}

// handOver summons who serves en (see summon) and, when that is an idle
// worker and the queue is empty, hands en to it. The caller holds d.mu.
func (d *Destination[T]) handOver(en *entry[T]) (wake *worker[T], held, handed bool) {
	w, held := d.summon()
	if w != nil && d.queued() == 0 {
		w.batch = append(w.batch[:0], *en)
		return w, false, true
	}
	return w, held, false
}

// grow doubles the ring, up to the queue size, and reports whether it did.
// The caller holds d.mu.
func (q *queue[T]) grow() bool {
	if len(q.ring) >= q.size {
		return false
	}
	ring := make([]entry[T], min(max(2*len(q.ring), minRing), q.size))
	tail := copy(ring, q.ring[q.head:min(q.head+q.n, len(q.ring))])
	copy(ring[tail:], q.ring[:q.n-tail])
	q.ring, q.head = ring, 0
	return true
}

// claimIdle removes the most recently idle worker from the idle list and
// returns it, or nil; the caller must wake it. The caller holds d.mu.
func (d *Destination[T]) claimIdle() *worker[T] {
	q := &d.q
	k := len(q.idle)
	if k == 0 {
		return nil
	}
	w := q.idle[k-1]
	q.idle[k-1] = nil
	q.idle = q.idle[:k-1]
	w.idle = false
	return w
}

// unidle removes w from the idle list, if it is there; the caller must
// wake it. The caller holds d.mu.
func (d *Destination[T]) unidle(w *worker[T]) bool {
	q := &d.q
	for i := len(q.idle) - 1; i >= 0; i-- {
		if q.idle[i] == w {
			copy(q.idle[i:], q.idle[i+1:])
			q.idle[len(q.idle)-1] = nil
			q.idle = q.idle[:len(q.idle)-1]
			w.idle = false
			return true
		}
	}
	return false
}

// wakeAll takes every idle worker off the idle list and wakes it: the
// engine stopped. The caller holds d.mu.
func (d *Destination[T]) wakeAll() {
	for w := d.claimIdle(); w != nil; w = d.claimIdle() {
		w.wake <- struct{}{}
	}
}

// take appends to batch up to k queued items, overflow first, and returns
// it. With nothing queued it returns batch unchanged. The caller holds
// d.mu.
func (d *Destination[T]) take(batch []entry[T], k int) []entry[T] {
	q := &d.q
	start := len(batch)
	q.takes++
	for len(batch)-start < k && q.ovHead < len(q.ov) {
		batch = append(batch, q.ov[q.ovHead])
		q.ov[q.ovHead] = entry[T]{}
		q.ovHead++
	}
	if q.ovHead == len(q.ov) && q.ovHead > 0 {
		if cap(q.ov) > 4096 {
			q.ov = nil // release what a burst of cascades grew
		} else {
			q.ov = q.ov[:0]
		}
		q.ovHead = 0
	}
	fromRing := min(k-(len(batch)-start), q.n)
	if fromRing > 0 {
		wasFull := q.n == q.size
		for range fromRing {
			batch = append(batch, q.ring[q.head])
			q.ring[q.head] = entry[T]{}
			q.head++
			if q.head == len(q.ring) {
				q.head = 0
			}
		}
		q.n -= fromRing
		if wasFull {
			q.admit()
		}
	}
	return batch
}

// queued returns the items in the ring and the overflow list. The caller
// holds d.mu.
func (d *Destination[T]) queued() int { return d.q.n + len(d.q.ov) - d.q.ovHead }

// takeAll removes every queued item, for the shutdown sweep. The caller
// holds d.mu.
func (d *Destination[T]) takeAll(items []entry[T]) []entry[T] {
	for d.queued() > 0 {
		items = d.take(items, d.queued())
	}
	d.q.ov, d.q.ovHead = nil, 0
	return items
}

// putBack returns items that a worker took but will not deliver (its
// goroutine is ending) to the front of the overflow list, in order, or, if
// the destination was swept, dead-letters them.
func (d *Destination[T]) putBack(items []entry[T]) {
	if len(items) == 0 {
		return
	}
	d.mu.Lock()
	if d.swept {
		d.mu.Unlock()
		for i := range items {
			d.buryShutdown(&items[i])
		}
		return
	}
	q := &d.q
	rest := q.ov[q.ovHead:]
	ov := make([]entry[T], 0, len(items)+len(rest))
	ov = append(ov, items...)
	q.ov = append(ov, rest...)
	q.ovHead = 0
	w := d.claimIdle()
	d.mu.Unlock()
	d.wakeOrSpawn(w)
}

// wakeOrSpawn wakes w, a claimed idle worker, or, when there was none,
// starts a worker if the destination has none.
func (d *Destination[T]) wakeOrSpawn(w *worker[T]) {
	if w != nil {
		w.wake <- struct{}{}
		return
	}
	if d.workers.Load() == 0 {
		d.spawn()
	}
}
