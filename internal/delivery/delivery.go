// Package delivery is eda's delivery engine: one bounded queue per
// destination, workers that scale with demand, retries with backoff, dead
// letters, drain and close. Bus targets and Topic subscriptions both use it.
//
// # Life of an item
//
// [Destination.Enqueue] accepts an item into the destination's bounded
// queue (a ring under the destination's mutex, which starts short and
// grows as bursts need, up to the queue size). Workers, started on demand
// up to the destination's maximum concurrency and stopped after an idle
// period, take items and call Deliver: one at a time, or, once deliveries
// prove fast (under 10µs each), their share of the queue (up to 32) per
// lock. An item that arrives while a worker is idle is handed to that
// worker; one that finds every worker busy starts another, up to the
// maximum (for fast deliveries, up to one per CPU; workers started beyond
// that before deliveries proved fast leave when they run out of work). For
// fast deliveries, a few items (8 per busy worker) wait for a busy worker
// instead of waking or starting another, which costs more than the wait;
// should the busy worker be stuck, another takes them within milliseconds
// (see hold.go).
//
// A failed attempt is retried after an exponential backoff with full
// jitter: the item waits on a [Clock] timer, holding no worker, and when
// the timer fires it re-enters the destination through an unbounded
// overflow list that workers serve before the queue, so a retry is never
// refused by a full queue. An item that fails permanently, runs out of
// attempts or ages past the policy's maximum age goes to the destination's
// dead-letter function.
//
// An Ordered destination instead retries in place: its single worker waits
// for the backoff, and the items behind wait too (FIFO message groups).
//
// Every accepted item is counted until it is delivered or dead-lettered;
// [Engine.Drain] waits for that count to reach zero. The counters are per
// destination (see [Engine.Pending]): nothing on the hot path is shared
// between destinations.
//
// # Re-entrancy
//
// Deliver is called with a context that carries a marker of the engine.
// Enqueue with that context, or one derived from it, never waits for room:
// when the queue is full the item goes to the overflow list. A handler that
// publishes (a cascade) therefore cannot deadlock on full queues, and the
// memory used beyond the bound is limited by what running handlers publish.
// During [Engine.Close], such cascades are still accepted while the engine
// drains, so that everything caused by accepted items is delivered too.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Enqueue after the engine or destination closed.
var ErrClosed = errors.New("eda: closed")

// ErrFull is returned (wrapped with the context's error) by Enqueue when
// the destination's queue stayed full until ctx ended.
var ErrFull = errors.New("eda: queue full")

// Timer is a pending AfterFunc call. It is an alias of an unnamed interface
// so that any clock whose AfterFunc returns interface{ Stop() bool } (eda's
// public Clock, a test clock) satisfies [Clock] without an adapter.
type Timer = interface{ Stop() bool }

// Clock is the engine's source of time for retries and ages. AfterFunc must
// run f later on a goroutine of its own, never inside the AfterFunc call.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// SystemClock is the Clock of the real time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc calls time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Config configures an Engine. The zero value is usable.
type Config struct {
	Clock  Clock        // nil: the system clock
	Logger *slog.Logger // nil: slog.Default()
	// DeadLetter receives the dead letters of destinations that have no
	// DeadLetter function of their own. Nil means: log them at Warn level
	// (they are counted in the destination's Stats either way).
	DeadLetter func(ctx context.Context, destination string, item any, f Failure)
}

// ShutdownError is returned by Close when its context ended before every
// accepted item was delivered: the remaining items were dead-lettered with
// ReasonShutdown.
type ShutdownError struct {
	// DeadLettered counts the items dead-lettered because of the shutdown.
	DeadLettered int
	// Err is the context's error (nil when the items were accepted too late
	// to be delivered, which only a handler's background goroutine can do).
	Err error
}

func (e *ShutdownError) Error() string {
	items := "items"
	if e.DeadLettered == 1 {
		items = "item"
	}
	if e.Err == nil {
		return fmt.Sprintf("eda: close: %d %s dead-lettered at shutdown", e.DeadLettered, items)
	}
	return fmt.Sprintf("eda: close: %d %s dead-lettered at shutdown: %v", e.DeadLettered, items, e.Err)
}

// Unwrap returns the context's error.
func (e *ShutdownError) Unwrap() error { return e.Err }

// Engine states, also used per destination.
const (
	stateOpen    int32 = iota // accepting
	stateClosing              // draining: only this engine's cascades are accepted
	stateRetired              // destination retired: nothing accepted, still delivering
	stateStopped              // nothing accepted, workers exit
)

// handlerKey is the context key of the re-entrancy marker.
type handlerKey struct{}

// IsHandlerContext reports whether ctx is, or derives from, a context that
// an engine passed to Deliver or to a dead-letter function.
func IsHandlerContext(ctx context.Context) bool {
	_, ok := ctx.Value(handlerKey{}).(*Engine)
	return ok
}

// dest is the type-independent face of a Destination, used by the engine.
type dest interface {
	setState(s int32)
	sweep()
	retiredAndEmpty() bool
	finishedCount() uint64 // delivered, dead-lettered or refused
	// checkHeld is the hold watch's check of a destination that holds
	// items for its busy workers (see hold.go).
	checkHeld(tick uint64)
	acceptedCount() uint64 // offered to Enqueue
}

// Engine owns destinations and tracks every accepted item until it is
// delivered or dead-lettered. Its methods may be called concurrently.
type Engine struct {
	clock      Clock
	logger     *slog.Logger
	deadLetter func(ctx context.Context, destination string, item any, f Failure)
	base       time.Time // origin of mono()

	ctx    context.Context // passed to Deliver; cancelled when Close gives up
	cancel context.CancelFunc
	dlCtx  context.Context // passed to dead-letter functions; never cancelled

	drainers   atomic.Int32  // Drain calls waiting
	shutdownDL atomic.Int64  // items dead-lettered with ReasonShutdown
	dead       atomic.Uint64 // items dead-lettered

	halt chan struct{} // closed when workers must stop and producers give up

	mu        sync.Mutex
	drainCh   chan struct{} // closed by poke
	stopped   bool          // no worker may start any more
	state     int32
	dests     []dest
	wg        sync.WaitGroup // workers
	closeDone chan struct{}
	closeErr  error

	// The hold watch (see hold.go).
	watchMu      sync.Mutex
	watched      []dest
	watchTimer   *time.Timer
	watchTick    uint64 // ticks so far
	watchStopped bool
}

// New returns an Engine.
func New(cfg Config) *Engine {
	e := &Engine{
		clock:      cfg.Clock,
		logger:     cfg.Logger,
		deadLetter: cfg.DeadLetter,
		base:       time.Now(),
		halt:       make(chan struct{}),
	}
	if e.clock == nil {
		e.clock = SystemClock{}
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	marked := context.WithValue(context.Background(), handlerKey{}, e)
	e.ctx, e.cancel = context.WithCancel(marked)
	e.dlCtx = marked
	return e
}

// mono returns monotonic nanoseconds since the engine started. It reads
// only the monotonic clock, which is cheaper than time.Now.
func (e *Engine) mono() int64 { return int64(time.Since(e.base)) }

// ownContext reports whether ctx carries this engine's marker.
func (e *Engine) ownContext(ctx context.Context) bool {
	return ctx.Value(handlerKey{}) == e
}

// poke wakes the Drain calls, which then count again. Destinations poke
// when they run empty while someone drains.
func (e *Engine) poke() {
	e.mu.Lock()
	if e.drainCh != nil {
		close(e.drainCh)
		e.drainCh = nil
	}
	e.mu.Unlock()
}

// Pending returns how many accepted items are not yet delivered or
// dead-lettered.
//
// There is no engine-wide counter, which every delivery would contend on;
// each destination counts on its own. To count consistently while items
// move (a handler enqueues a cascade and then finishes), Pending reads the
// monotonic finish-side counters of every destination first and the
// accept-side counters after: if the sums are equal, there was an instant
// between the two passes when nothing was in flight.
func (e *Engine) Pending() int64 {
	e.mu.Lock()
	dests := append([]dest(nil), e.dests...)
	e.mu.Unlock()
	var finished, accepted uint64
	for _, d := range dests {
		finished += d.finishedCount()
	}
	for _, d := range dests {
		accepted += d.acceptedCount()
	}
	return max(int64(accepted-finished), 0)
}

// Drain waits until every accepted item (including retries and cascades)
// is delivered or dead-lettered, or ctx ends.
func (e *Engine) Drain(ctx context.Context) error {
	e.drainers.Add(1)
	defer e.drainers.Add(-1)
	for {
		// Take the channel before counting, so that a destination running
		// empty after the count wakes this call.
		e.mu.Lock()
		if e.drainCh == nil {
			e.drainCh = make(chan struct{})
		}
		ch := e.drainCh
		e.mu.Unlock()
		if e.Pending() == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("delivery: drain: %d items in flight: %w", e.Pending(), context.Cause(ctx))
		}
	}
}

// Close stops intake (ErrClosed), drains, stops workers. While it drains,
// cascades from this engine's handlers are still accepted. If ctx ends
// first, the contexts passed to Deliver are cancelled, every item still
// queued or waiting to retry is dead-lettered with ReasonShutdown, and the
// returned *ShutdownError counts them. Close returns when every worker has
// exited, so a handler that ignores its context delays it. When Close
// returns, every accepted item has been delivered or dead-lettered.
// Idempotent: later calls wait for the first and return its result.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closeDone != nil {
		done := e.closeDone
		e.mu.Unlock()
		select {
		case <-done:
			return e.closeErr
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	e.closeDone = make(chan struct{})
	e.state = stateClosing
	dests := append([]dest(nil), e.dests...)
	e.mu.Unlock()

	for _, d := range dests {
		d.setState(stateClosing)
	}
	var cause error
	if err := e.Drain(ctx); err != nil {
		cause = context.Cause(ctx)
	}

	e.mu.Lock()
	e.state = stateStopped
	e.stopped = true
	dests = append(dests[:0], e.dests...)
	e.mu.Unlock()
	for _, d := range dests {
		d.setState(stateStopped)
	}
	e.cancel()
	close(e.halt)
	for _, d := range dests {
		d.sweep()
	}
	e.wg.Wait()
	e.stopWatch()
	// Workers are gone; sweep what raced with the first sweep (an item a
	// handler failed during shutdown is dead-lettered by its worker).
	for e.Pending() > 0 {
		for _, d := range dests {
			d.sweep()
		}
		if e.Pending() > 0 {
			time.Sleep(time.Millisecond) // an Enqueue is between its checks
		}
	}
	var err error
	if n := e.shutdownDL.Load(); n > 0 || cause != nil {
		err = &ShutdownError{DeadLettered: int(n), Err: cause}
	}
	e.mu.Lock()
	e.closeErr = err
	close(e.closeDone)
	e.mu.Unlock()
	return err
}

// register adds d to the engine and returns the state d starts in.
func (e *Engine) register(d dest) int32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	live := e.dests[:0]
	for _, x := range e.dests {
		if !x.retiredAndEmpty() {
			live = append(live, x)
		}
	}
	clear(e.dests[len(live):])
	e.dests = append(live, d)
	return e.state
}

// startWorker accounts for a new worker unless the engine stopped.
func (e *Engine) startWorker() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return false
	}
	e.wg.Add(1)
	return true
}

// DeadLettered returns how many items the engine's destinations have
// dead-lettered, for any reason, with or without a DeadLetter function.
func (e *Engine) DeadLettered() uint64 { return e.dead.Load() }

// logDeadLetter is the default dead-letter function.
func (e *Engine) logDeadLetter(ctx context.Context, destination string, item any, f Failure) {
	if e.deadLetter != nil {
		e.deadLetter(ctx, destination, item, f)
		return
	}
	e.logger.LogAttrs(ctx, slog.LevelWarn, "delivery: dead letter",
		slog.String("destination", destination),
		slog.String("reason", string(f.Reason)),
		slog.Int("attempts", f.Attempts),
		slog.Any("error", f.Err))
}
