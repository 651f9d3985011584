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
	procs       int32 // GOMAXPROCS when created
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

	// Written by workers as they start and stop, and rarely otherwise.
	workers atomic.Int32
	fast    atomic.Bool // deliveries take less than fastDelivery each
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

// fastDelivery: when a worker's deliveries take less than this on average,
// the destination scales only up to one worker per CPU.
const fastDelivery = 10 * time.Microsecond

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
		procs:       int32(runtime.GOMAXPROCS(0)),
		idleTimeout: opts.IdleTimeout,
		policy:      opts.Retry.WithDefaults(),
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
	// Beyond one worker per CPU, only handlers that take long (wait on I/O)
	// gain from more workers; for fast ones more workers only contend.
	if w := d.workers.Load(); w == 0 || w < d.max && len(d.ch) > 0 && (w < d.procs || !d.fast.Load()) {
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
