package delivery

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// entry is an item with its delivery state, as it sits in a queue.
type entry[T any] struct {
	item    T
	acc     int64          // engine now() at Enqueue: its age counts from there
	attempt int32          // number of the next attempt, from 1
	bucket  uint8          // epoch bucket (see Engine.Drain)
	sample  bool           // its latency is recorded
	rt      *retryState[T] // set once the item failed
}

// retryState is allocated when an item fails for the first time.
type retryState[T any] struct {
	en    entry[T] // the item, waiting for its next attempt
	err   error    // last error
	timer Timer    // pending retry
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
	max         int32
	procs       int32 // GOMAXPROCS when created
	idleTimeout time.Duration
	policy      Policy
	deliver     func(ctx context.Context, item T, attempt int) error
	deadLetter  func(ctx context.Context, item T, f Failure)
	ordered     bool
	state       atomic.Int32
	_           cacheLinePad

	// Written by producers and workers, under mu.
	mu sync.Mutex
	q  queue[T]
	_  cacheLinePad

	// Written by producers.
	offered   [epochBuckets]atomic.Uint64 // Enqueue calls, per epoch bucket
	refused   atomic.Uint64               // Enqueue calls that returned an error
	throttled atomic.Uint64               // of which ErrFull
	_         cacheLinePad

	// Written by workers as they start and stop, and rarely otherwise.
	workers atomic.Int32
	fast    atomic.Bool // timed calls take less than fastDelivery (see tuning.go)
	// Judgements of speed in a row that disagree with fast (see
	// judgePace).
	paceAgainst atomic.Int32
	_           cacheLinePad

	// Written by workers per delivery.
	// Items delivered, dead-lettered or refused, per epoch bucket; the
	// delivered ones are not counted on their own (see Stats), to keep a
	// delivery's bookkeeping to one atomic addition.
	finishedB    [epochBuckets]atomic.Uint64
	failed       atomic.Uint64
	retries      atomic.Uint64
	deadLettered atomic.Uint64
	dlFailed     atomic.Uint64 // dead letters whose function panicked or called Goexit
	handlerNanos atomic.Int64
	_            cacheLinePad

	// Written on failures (see noteFailure).
	lastErr       atomic.Pointer[error]
	logAt         atomic.Int64 // engine now() of the last failure logged, +1; 0: none yet
	logSuppressed atomic.Int64 // failures not logged since
	_             cacheLinePad

	// Under mu, rarely used.
	waiting map[*retryState[T]]struct{} // retries whose timer is pending
	swept   bool                        // shut down: nothing waits any more

	// latency samples successful deliveries, enqueue to success; made on
	// the first sample (see sampleLatency), so that a destination that
	// delivers nothing does not hold its 2 KB.
	latency atomic.Pointer[histogram]
}

// cacheLinePad separates groups of counters.
type cacheLinePad [64]byte

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
		max:         int32(min(opts.MaxConcurrency, 1<<30)),
		procs:       int32(runtime.GOMAXPROCS(0)),
		idleTimeout: opts.IdleTimeout,
		policy:      opts.Retry.WithDefaults(),
		deliver:     opts.Deliver,
		deadLetter:  opts.DeadLetter,
		ordered:     opts.Ordered,
		waiting:     make(map[*retryState[T]]struct{}),
	}
	d.paceAgainst.Store(paceFlip - 1) // the first judgement counts alone
	// The ring is made for the first item (grow): an idle destination has none.
	d.q.size = opts.QueueSize
	d.state.Store(e.register(d))
	return d
}

// Name returns the destination's name.
func (d *Destination[T]) Name() string { return d.name }

// Enqueue accepts item. When the queue is full it waits until there is room
// or ctx ends (then it returns an error wrapping ErrFull and the context's
// error). When ctx was derived from a context that the engine passed to
// Deliver (a cascade), the bound is bypassed so handlers that publish never
// deadlock. After Close or Retire it returns ErrClosed. The item's age (see
// Policy.MaxAge) counts from now, on the engine's Clock.
func (d *Destination[T]) Enqueue(ctx context.Context, item T) error {
	e := d.e
	return d.EnqueueFrom(ctx, item, Origin{acc: e.now(), bucket: e.bucketFor(ctx)})
}

// Origin says when an item was accepted and which epoch (see Engine.Drain)
// it belongs to. A router gets one per accepted event from Engine.Origin
// and passes it to EnqueueFrom for each of the event's destinations.
type Origin struct {
	acc    int64 // Engine.now() at acceptance
	bucket uint8 // epoch bucket
}

// Origin returns the origin of an item that a router accepted at the
// given time of the engine's Clock (for the system clock, a time.Now()
// reading) and enqueues with ctx: its age counts from then, and when ctx
// is a handler's of this engine, the item is a cascade of that handler's
// item. Computed once per event, it spares Enqueue the work for each of
// the event's destinations.
func (e *Engine) Origin(ctx context.Context, accepted time.Time) Origin {
	return Origin{acc: int64(accepted.Sub(e.clockBase)), bucket: e.bucketFor(ctx)}
}

// EnqueueFrom is Enqueue for an item of origin o, which must come from
// the destination's engine's Origin.
func (d *Destination[T]) EnqueueFrom(ctx context.Context, item T, o Origin) error {
	// Count first, check the state after: Close stores the state first and
	// counts after, so one of the two sees the other.
	e := d.e
	b := o.bucket % epochBuckets
	seq := d.offered[b].Add(1)
	if s := d.state.Load(); s != stateOpen && (s != stateClosing || !e.InHandler(ctx)) {
		d.refuse(b, ErrClosed)
		return ErrClosed
	}
	en := entry[T]{item: item, acc: o.acc, attempt: 1, bucket: b, sample: seq%latencySample == 1}
	d.mu.Lock()
	w, held, ok := d.tryPush(&en)
	d.mu.Unlock()
	if !ok {
		if w != nil {
			w.wake <- struct{}{} // to take what is queued
		}
		var err error
		if w, held, err = d.enqueueSlow(ctx, &en); err != nil {
			d.refuse(b, err)
			return err
		}
	}
	if w != nil {
		w.wake <- struct{}{} // an idle worker takes the item
		return nil
	}
	if held {
		return nil // a busy worker takes it (see summon)
	}
	// No worker was idle: scale up, like serverless concurrency. (A busy
	// worker takes from the queue before it waits, so the item cannot be
	// forgotten; a new worker only serves it sooner.) Beyond one worker per
	// CPU, only handlers that take long (wait on I/O) gain from more
	// workers; for fast ones more workers only contend.
	if n := d.workers.Load(); n == 0 || n < d.max && (n < d.procs || !d.fast.Load()) {
		d.spawn()
	}
	return nil
}

// refuse accounts for an Enqueue that failed.
func (d *Destination[T]) refuse(b uint8, err error) {
	if errors.Is(err, ErrFull) {
		d.throttled.Add(1)
	}
	d.refused.Add(1)
	d.finished(b)
}

// finished is called after an item of epoch bucket b was delivered,
// dead-lettered or refused: if the bucket ran empty at this destination
// while someone drains, and it is not the current epoch's (which no Drain
// waits for), it wakes them.
func (d *Destination[T]) finished(b uint8) {
	n := d.finishedB[b].Add(1)
	if e := d.e; e.drainers.Load() > 0 && n == d.offered[b].Load() &&
		uint64(b) != e.epoch.Load()%epochBuckets {
		e.poke()
	}
}

// enqueueSlow handles a full queue: a handler's cascade goes to the
// overflow list; any other call waits for room, ctx or the engine's halt.
func (d *Destination[T]) enqueueSlow(ctx context.Context, en *entry[T]) (wake *worker[T], held bool, err error) {
	if IsHandlerContext(ctx) {
		return d.push(en)
	}
	d.mu.Lock()
	w, held, ok := d.tryPush(en)
	if ok {
		d.mu.Unlock()
		return w, held, nil
	}
	// Wait in line: a worker that makes room moves the item in (see admit).
	wt := &roomWaiter[T]{en: *en, done: make(chan struct{})}
	d.q.waiters = append(d.q.waiters, wt)
	d.mu.Unlock()
	if w != nil {
		w.wake <- struct{}{} // to take what is queued
	}
	select {
	case <-wt.done:
		return nil, false, nil
	case <-ctx.Done():
		err = fmt.Errorf("%w: %w", ErrFull, context.Cause(ctx))
	case <-d.e.halt:
		err = ErrClosed
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if wt.moved {
		return nil, false, nil // moved in meanwhile: accepted after all
	}
	d.q.leave(wt)
	return nil, false, err
}

// push appends en to the overflow list, as pushOverflow does.
func (d *Destination[T]) push(en *entry[T]) (wake *worker[T], held bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.swept {
		return nil, false, ErrClosed
	}
	w, held := d.pushOverflow(en)
	return w, held, nil
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
// queued items and retries are still delivered, and its workers exit as
// soon as they find the queue empty (a retry that comes due later starts
// one again), not after their idle timeout: a removed rule or subscription,
// or an ended FIFO message group, keeps no goroutine waiting.
func (d *Destination[T]) Retire() {
	d.setState(stateRetired)
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.q.idle) > 0 {
		w := d.q.idle[len(d.q.idle)-1]
		d.unidle(w)
		w.expired = true
		d.workers.Add(-1) // under mu: an Enqueue that finds no idle worker sees it
		w.wake <- struct{}{}
	}
}

// retiredAndEmpty reports whether the engine may forget d.
func (d *Destination[T]) retiredAndEmpty() bool {
	return d.state.Load() >= stateRetired && d.inFlight() == 0 && d.workers.Load() == 0
}

// finishedCount and acceptedCount are read by Engine.Pending, in this
// order: finish-side counters first.
func (d *Destination[T]) finishedCount() uint64 {
	var n uint64
	for b := range epochBuckets {
		n += d.finishedB[b].Load()
	}
	return n
}

func (d *Destination[T]) acceptedCount() uint64 {
	var n uint64
	for b := range epochBuckets {
		n += d.offered[b].Load()
	}
	return n
}

func (d *Destination[T]) finishedIn(b int) uint64 { return d.finishedB[b].Load() }

func (d *Destination[T]) acceptedIn(b int) uint64 { return d.offered[b].Load() }

// backlog reports the items in flight in the epoch buckets of mask.
func (d *Destination[T]) backlog(mask uint8) Backlog {
	var n int64
	for b := range epochBuckets {
		if mask&(1<<b) != 0 {
			f := d.finishedB[b].Load()
			n += max(int64(d.offered[b].Load()-f), 0)
		}
	}
	out := Backlog{Destination: d.name, InFlight: n}
	if p := d.lastErr.Load(); p != nil {
		out.LastErr = *p
	}
	return out
}

// inFlight returns accepted items not yet delivered or dead-lettered.
func (d *Destination[T]) inFlight() int64 {
	f := d.finishedCount()
	return max(int64(d.acceptedCount()-f), 0)
}
