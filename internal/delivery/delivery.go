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
// period, take items and call Deliver: one at a time, or, once timed calls
// prove deliveries fast (under 10µs each), their share of the queue (up to
// 32) per lock. An item that arrives while a worker is idle is handed to
// that worker; one that finds every worker busy starts another, up to the
// maximum. For fast deliveries, which need a CPU rather than a wait, a
// destination scales only up to one worker per CPU, and only while the
// engine runs fewer workers than there are CPUs (with many busy
// destinations, one worker each); a few items (8 per busy worker, or any
// number while the engine runs more workers than CPUs) wait for a busy
// worker instead of waking or starting another, which costs more than the
// wait; should the busy worker be stuck, another takes them within
// milliseconds (see hold.go). The scheduler's states and tuning are
// described in tuning.go.
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
// Every accepted item is counted until it is delivered or dead-lettered,
// per destination and epoch (see [Engine.Drain]): [Engine.Drain] waits for
// the counts of the epochs it closed to reach zero. The counters are per
// destination (see [Engine.Pending]): nothing on the hot path is shared
// between destinations but the epoch, which only Drain writes.
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
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Enqueue after the engine or destination closed.
var ErrClosed = errors.New("eda: closed")

// ErrInHandler is returned (wrapped) by Drain and Close when they are
// called with a context that the engine passed to a handler, or one derived
// from it: they would wait for that handler's own delivery.
var ErrInHandler = errors.New("called with a handler's context, it would wait for the handler itself")

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
	// FailureLogLevel is the level at which failed attempts are logged (a
	// destination logs its first failure, then at most one record per
	// failureLogEvery on the Clock, counting the failures it did not log);
	// nil: Warn.
	FailureLogLevel slog.Leveler
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
	// Abandoned counts the items still held by handlers (or dead-letter
	// functions) that had not returned when Close did, closeGrace after its
	// context ended. Each is delivered or dead-lettered when its handler
	// returns.
	Abandoned int
	// Destinations lists the destinations that still held items when the
	// context ended, with how many and their last error.
	Destinations []Backlog
	// Err is the context's error (nil when the items were accepted too late
	// to be delivered, which only a handler's background goroutine can do).
	Err error
}

func (e *ShutdownError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "eda: close: %d %s dead-lettered at shutdown", e.DeadLettered, plural(e.DeadLettered, "item"))
	if e.Abandoned > 0 {
		fmt.Fprintf(&b, ", %d still held by handlers that did not return", e.Abandoned)
	}
	writeBacklog(&b, e.Destinations)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Backlog is what one destination still held when Drain or Close gave up.
type Backlog struct {
	Destination string // the destination's name
	InFlight    int64  // items accepted and not yet delivered or dead-lettered
	LastErr     error  // the error of the destination's last failed attempt; nil if none failed
}

// DrainError is returned by Drain when its context ended first.
type DrainError struct {
	// Destinations lists the destinations still holding items that Drain
	// waited for, with how many and their last error.
	Destinations []Backlog
	// Err is the context's error.
	Err error
}

func (e *DrainError) Error() string {
	var b strings.Builder
	n := int64(0)
	for _, d := range e.Destinations {
		n += d.InFlight
	}
	fmt.Fprintf(&b, "eda: drain: %d %s in flight", n, plural(int(n), "item"))
	writeBacklog(&b, e.Destinations)
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns the context's error.
func (e *DrainError) Unwrap() error { return e.Err }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// writeBacklog appends " (name: n, last error: …; …)" for the first few
// destinations of list.
func writeBacklog(b *strings.Builder, list []Backlog) {
	const shown = 5
	for i, d := range list {
		if i == shown {
			fmt.Fprintf(b, "; %d more destinations", len(list)-shown)
			break
		}
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(b, "%s%s: %d", sep, d.Destination, d.InFlight)
		if d.LastErr != nil {
			fmt.Fprintf(b, ", last error: %v", d.LastErr)
		}
	}
	if len(list) > 0 {
		b.WriteString(")")
	}
}

// Unwrap returns the context's error.
func (e *ShutdownError) Unwrap() error { return e.Err }

// closeGrace is how long Close waits, after its context ended, for the
// handlers to return and the dead letters to be handed over.
const closeGrace = 100 * time.Millisecond

// Engine states, also used per destination.
const (
	stateOpen    int32 = iota // accepting
	stateClosing              // draining: only this engine's cascades are accepted
	stateRetired              // destination retired: nothing accepted, still delivering
	stateStopped              // nothing accepted, workers exit
)

// handlerKey is the context key of the re-entrancy marker, a *marker.
type handlerKey struct{}

// marker is the value of the re-entrancy marker: the engine, and the epoch
// bucket of the item whose delivery the context is for, which the item's
// cascades inherit (see Drain). There is one per engine and bucket, so the
// contexts passed to Deliver are made once, not per delivery.
type marker struct {
	e      *Engine
	bucket uint8
}

// epochBuckets is how many epochs (see Drain) may hold items at once.
const epochBuckets = 4

// HandlerContexts is how many distinct contexts an engine passes to
// Deliver and to dead-letter functions: one of each per epoch bucket. A
// router that derives a context of its own from each (a cache keyed by
// the engine's context) needs this many entries.
const HandlerContexts = 2 * epochBuckets

// IsHandlerContext reports whether ctx is, or derives from, a context that
// an engine passed to Deliver or to a dead-letter function.
func IsHandlerContext(ctx context.Context) bool {
	_, ok := ctx.Value(handlerKey{}).(*marker)
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
	// finishedIn and acceptedIn are finishedCount and acceptedCount for
	// the items of one epoch bucket.
	finishedIn(b int) uint64
	acceptedIn(b int) uint64
	// backlog reports the items in flight in the buckets of mask (bit b
	// for bucket b).
	backlog(mask uint8) Backlog
}

// Engine owns destinations and tracks every accepted item until it is
// delivered or dead-lettered. Its methods may be called concurrently.
type Engine struct {
	clock      Clock
	logger     *slog.Logger
	deadLetter func(ctx context.Context, destination string, item any, f Failure)
	base       time.Time // origin of mono()
	sysClock   bool      // clock is the system clock: now() is mono()
	clockBase  time.Time // origin of now(), on clock
	failLevel  slog.Leveler

	// Per epoch bucket: passed to Deliver, cancelled when Close gives up;
	// and passed to dead-letter functions, never cancelled.
	ctxs   [epochBuckets]context.Context
	dlCtxs [epochBuckets]context.Context
	cancel context.CancelFunc

	_     cacheLinePad
	epoch atomic.Uint64 // items accepted now belong to this epoch (see Drain)
	_     cacheLinePad

	// running counts the workers of every destination that are not idle
	// (see summon); written when a worker starts, wakes, waits or exits.
	running atomic.Int32
	_       cacheLinePad

	drainers   atomic.Int32  // Drain calls waiting
	shutdownDL atomic.Int64  // items dead-lettered with ReasonShutdown
	dead       atomic.Uint64 // items dead-lettered

	halt chan struct{} // closed when workers must stop and producers give up

	mu        sync.Mutex
	drainCh   chan struct{} // closed by poke
	stopped   bool          // no worker may start any more
	state     int32
	dests     []dest
	forgetAt  int            // len(dests) at which register forgets the retired ones
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
	_, e.sysClock = e.clock.(SystemClock)
	e.clockBase = e.base // mono() is time.Since(base)
	if !e.sysClock {
		e.clockBase = e.clock.Now()
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	e.failLevel = cfg.FailureLogLevel
	if e.failLevel == nil {
		e.failLevel = slog.LevelWarn
	}
	live, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	for b := range epochBuckets {
		m := &marker{e: e, bucket: uint8(b)}
		e.ctxs[b] = context.WithValue(live, handlerKey{}, m)
		e.dlCtxs[b] = context.WithValue(context.Background(), handlerKey{}, m)
	}
	return e
}

// mono returns monotonic nanoseconds since the engine started. It reads
// only the monotonic clock, which is cheaper than time.Now.
func (e *Engine) mono() int64 { return int64(time.Since(e.base)) }

// now returns the time on the engine's clock, in nanoseconds since
// clockBase: for the system clock, mono().
func (e *Engine) now() int64 {
	if e.sysClock {
		return e.mono()
	}
	return int64(e.clock.Now().Sub(e.clockBase))
}

// ownMarker returns this engine's marker in ctx, or nil.
func (e *Engine) ownMarker(ctx context.Context) *marker {
	if m, ok := ctx.Value(handlerKey{}).(*marker); ok && m.e == e {
		return m
	}
	return nil
}

// InHandler reports whether ctx is, or derives from, a context that this
// engine passed to Deliver or to a dead-letter function: Drain and Close
// called with it return ErrInHandler.
func (e *Engine) InHandler(ctx context.Context) bool { return e.ownMarker(ctx) != nil }

// bucketFor returns the epoch bucket of an item enqueued with ctx: its
// parent's for a cascade, else the current epoch's.
func (e *Engine) bucketFor(ctx context.Context) uint8 {
	if m := e.ownMarker(ctx); m != nil {
		return m.bucket
	}
	return uint8(e.epoch.Load() % epochBuckets)
}

// poke wakes the Drain calls, which then count again. Destinations poke
// when an epoch bucket runs empty while someone drains.
func (e *Engine) poke() {
	e.mu.Lock()
	if e.drainCh != nil {
		close(e.drainCh)
		e.drainCh = nil
	}
	e.mu.Unlock()
}

// drainChan returns the channel that the next poke closes.
func (e *Engine) drainChan() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.drainCh == nil {
		e.drainCh = make(chan struct{})
	}
	return e.drainCh
}

// destinations returns a copy of the engine's destinations.
func (e *Engine) destinations() []dest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dest(nil), e.dests...)
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
	dests := e.destinations()
	var finished, accepted uint64
	for _, d := range dests {
		finished += d.finishedCount()
	}
	for _, d := range dests {
		accepted += d.acceptedCount()
	}
	return max(int64(accepted-finished), 0)
}

// pendingIn is Pending for the items of the epoch buckets in mask; zero
// means there was an instant when none of them was in flight.
func (e *Engine) pendingIn(dests []dest, mask uint8) int64 {
	var finished, accepted uint64
	for _, d := range dests {
		for b := range epochBuckets {
			if mask&(1<<b) != 0 {
				finished += d.finishedIn(b)
			}
		}
	}
	for _, d := range dests {
		for b := range epochBuckets {
			if mask&(1<<b) != 0 {
				accepted += d.acceptedIn(b)
			}
		}
	}
	return max(int64(accepted-finished), 0)
}

// Drain waits until every item accepted before the call — including its
// retries and its cascades (items enqueued with the context of its
// delivery, transitively) — is delivered or dead-lettered, or ctx ends;
// then it returns a *DrainError naming the destinations still holding
// items. Items accepted from outside after the call do not hold it up.
// Called with a handler's context it returns an error wrapping
// ErrInHandler at once: it would wait for that handler.
//
// Drain is a watermark over epochs. Every item belongs to an epoch: the
// current one when accepted, or its parent's for a cascade (the context
// passed to Deliver says which). Drain closes the current epoch (later
// items belong to the next) and waits until no item of a closed epoch up
// to its own is in flight. Destinations count per epoch bucket; a bucket
// is reused for a new epoch only once it ran empty, so at most
// epochBuckets epochs hold items at once (a Drain may first wait for the
// oldest to empty, which it would wait for anyway).
func (e *Engine) Drain(ctx context.Context) error {
	if e.InHandler(ctx) {
		return fmt.Errorf("eda: drain: %w", ErrInHandler)
	}
	return e.drain(ctx)
}

// drain is Drain without the check of the caller.
func (e *Engine) drain(ctx context.Context) error {
	e.drainers.Add(1)
	defer e.drainers.Add(-1)
	closed, advanced := uint64(0), false
	for {
		// Take the channel before counting, so that a bucket running empty
		// after the count wakes this call.
		ch := e.drainChan()
		dests := e.destinations()
		cur := e.epoch.Load()
		var mask uint8
		if !advanced {
			// Close epoch cur: the next one's bucket must have run empty.
			next := (cur + 1) % epochBuckets
			if e.pendingIn(dests, 1<<next) == 0 {
				// If this fails, another Drain closed cur (or a later epoch).
				e.epoch.CompareAndSwap(cur, cur+1)
				closed, advanced = cur, true
				continue
			}
			mask = 1 << next
		} else {
			if cur >= closed+epochBuckets {
				// Every bucket of an epoch up to closed was found empty
				// before it was reused.
				return nil
			}
			for j := max(cur+1, epochBuckets) - epochBuckets; j <= closed; j++ {
				mask |= 1 << (j % epochBuckets)
			}
			if e.pendingIn(dests, mask) == 0 {
				return nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			// Report what closed epochs still hold (all of them, if this
			// call had not closed its epoch yet).
			if !advanced {
				mask = 0
				for b := range epochBuckets {
					if uint64(b) != cur%epochBuckets {
						mask |= 1 << b
					}
				}
			}
			return &DrainError{Destinations: backlogs(dests, mask), Err: context.Cause(ctx)}
		}
	}
}

// backlogs returns the backlog in the buckets of mask of every destination
// that has one.
func backlogs(dests []dest, mask uint8) []Backlog {
	var out []Backlog
	for _, d := range dests {
		if b := d.backlog(mask); b.InFlight > 0 {
			out = append(out, b)
		}
	}
	return out
}

// Close stops intake (ErrClosed), drains, stops workers. While it drains,
// cascades from this engine's handlers are still accepted. If ctx ends
// first, the contexts passed to Deliver are cancelled, every item still
// queued or waiting to retry is dead-lettered with ReasonShutdown, and the
// returned *ShutdownError counts them and names the destinations that
// still held items. Close then waits for the running handlers to return
// and the dead letters to be handed over, for as long as items keep
// finishing: when closeGrace passes without progress, it returns, leaving
// the handlers (or dead-letter functions) that ignore their context
// running; their items are counted as Abandoned (each is delivered or
// dead-lettered when its handler returns, and the engine's last worker
// exits then). Without that, when Close
// returns every accepted item has been delivered or dead-lettered and
// every worker has stopped.
//
// Called with a handler's context (or one derived from it), Close returns
// an error wrapping ErrInHandler at once and does not close: it would wait
// for that handler. (With an unrelated context it cannot tell; it then
// waits for the calling handler too, until ctx ends and closeGrace passed.)
// Idempotent: later calls wait for the first and return its result.
func (e *Engine) Close(ctx context.Context) error {
	if e.InHandler(ctx) {
		return fmt.Errorf("eda: close: %w", ErrInHandler)
	}
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
	var backlog []Backlog
	if err := e.drain(ctx); err != nil {
		cause = context.Cause(ctx)
		var de *DrainError
		if errors.As(err, &de) {
			backlog = de.Destinations
		}
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
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		e.shutdown(dests)
	}()
	abandoned := 0
	select {
	case <-stopped:
	case <-ctx.Done():
		abandoned = e.awaitProgress(stopped)
		if abandoned > 0 && cause == nil {
			cause = context.Cause(ctx)
		}
	}
	var err error
	if n := e.shutdownDL.Load(); n > 0 || cause != nil || abandoned > 0 {
		err = &ShutdownError{DeadLettered: int(n), Abandoned: abandoned, Destinations: backlog, Err: cause}
	}
	e.mu.Lock()
	e.closeErr = err
	close(e.closeDone)
	e.mu.Unlock()
	return err
}

// awaitProgress waits for stopped to be closed while the shutdown makes
// progress: it gives up when closeGrace passes without any item being
// delivered or dead-lettered, and then returns how many are still in
// flight (held by handlers or dead-letter functions that do not return).
func (e *Engine) awaitProgress(stopped <-chan struct{}) int {
	grace := time.NewTimer(closeGrace)
	defer grace.Stop()
	last := e.Pending()
	for {
		select {
		case <-stopped:
			return 0
		case <-grace.C:
			n := e.Pending()
			if n > 0 && n >= last {
				return int(n)
			}
			last = n
			grace.Reset(closeGrace)
		}
	}
}

// shutdown dead-letters what is queued or waiting to retry, waits for the
// workers to exit and stops the hold watch.
func (e *Engine) shutdown(dests []dest) {
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
}

// register adds d to the engine and returns the state d starts in.
func (e *Engine) register(d dest) int32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	// The retired destinations are forgotten when the list has doubled
	// since the last time, so that registering costs the same, on
	// average, however many destinations there are.
	if len(e.dests) >= e.forgetAt {
		live := e.dests[:0]
		for _, x := range e.dests {
			if !x.retiredAndEmpty() {
				live = append(live, x)
			}
		}
		clear(e.dests[len(live):])
		e.dests = live
		e.forgetAt = max(2*len(live), minForget)
	}
	e.dests = append(e.dests, d)
	return e.state
}

// minForget is the shortest list of destinations that register looks
// through for retired ones.
const minForget = 16

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

// logDeadLetter is the default dead-letter function, when the engine has
// none either.
func (e *Engine) logDeadLetter(ctx context.Context, destination string, f Failure) {
	e.logger.LogAttrs(ctx, slog.LevelWarn, "delivery: dead letter",
		slog.String("destination", destination),
		slog.String("reason", string(f.Reason)),
		slog.Int("attempts", f.Attempts),
		slog.Any("error", f.Err))
}
