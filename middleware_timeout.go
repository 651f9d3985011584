package eda

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Timeout returns middleware that gives each call of the handlers it wraps
// at most d: the handler runs with a context whose deadline is d away (or
// the caller's deadline, if that is earlier). When the handler returns an
// error after d has passed, Timeout returns a [*TimeoutError], which wraps
// both context.DeadlineExceeded and the handler's error; a handler that
// succeeds is a success even if it was late. An error caused by the
// caller's own deadline or cancellation is returned as it is.
//
// Timeout is cooperative: it cannot stop a handler that ignores its
// context, and it waits for the handler to return rather than leave a
// goroutine running user code with no owner. The derived context reaches
// only the wrapped handler and is always cancelled before Timeout returns;
// once its time is up its Err is context.DeadlineExceeded, its Done channel
// is closed, and [context.Cause] reports context.DeadlineExceeded too. The
// deadline is in real time: context deadlines do not go through a [Clock].
// A d of zero or less disables the timeout. A handler wrapped by Timeout may
// be called concurrently.
//
// The derived context is cheap: one reading of the monotonic clock per
// call, and no allocation of its own (contexts are made 64 at a time). The
// timer and the link to the caller's cancellation that
// [context.WithTimeout] would set up at once are set up only when the
// handler first calls Done, so a handler that never waits on its context
// pays almost nothing for them.
func Timeout(d time.Duration) Middleware {
	return func(next Handler) Handler {
		if d <= 0 {
			return next
		}
		tc := newTimeoutClock()
		return HandlerFunc(func(ctx context.Context, dl Delivery) error {
			tctx := tc.context()
			tctx.parent, tctx.end = ctx, tc.now()+int64(d)
			defer tctx.release()
			err := next.Handle(tctx, dl)
			if err != nil && tctx.Err() != nil && ctx.Err() == nil {
				return &TimeoutError{Timeout: d, Err: err}
			}
			return err
		})
	}
}

// TimeoutError reports that a handler wrapped by [Timeout] failed after its
// time ran out. errors.Is(err, context.DeadlineExceeded) holds for it, and
// the handler's own error is reachable with errors.Is and errors.As.
type TimeoutError struct {
	// Timeout is the limit that was exceeded.
	Timeout time.Duration
	// Err is what the handler returned.
	Err error
}

// Error describes the timeout and the handler's error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("eda: handler timed out after %v: %v", e.Timeout, e.Err)
}

// Unwrap returns context.DeadlineExceeded and the handler's error.
func (e *TimeoutError) Unwrap() []error { return []error{context.DeadlineExceeded, e.Err} }

// timeoutClock is what the calls of one handler wrapped by Timeout share:
// the start of their time line, which they read as monotonic nanoseconds
// (cheaper than the wall clock), and the state of every context that ended
// before anyone asked for its Done channel.
type timeoutClock struct {
	base     time.Time
	released *timeoutState // Canceled, its channel closed; never changes
	slab     atomic.Pointer[timeoutSlab]
}

func newTimeoutClock() *timeoutClock {
	done := make(chan struct{})
	close(done)
	return &timeoutClock{base: time.Now(), released: &timeoutState{err: context.Canceled, done: done}}
}

// context returns a new, zero timeoutContext of tc's. Contexts are made 64
// at a time, so that the usual call allocates nothing of its own; a
// context a handler keeps after it returned keeps its 63 siblings' memory
// too (about 3 KB), and nothing else.
func (tc *timeoutClock) context() *timeoutContext {
	for {
		s := tc.slab.Load()
		if s != nil {
			if i := s.next.Add(1) - 1; int(i) < len(s.ctxs) {
				c := &s.ctxs[i]
				c.clock = tc
				return c
			}
		}
		fresh := new(timeoutSlab)
		fresh.next.Store(1)
		if tc.slab.CompareAndSwap(s, fresh) {
			c := &fresh.ctxs[0]
			c.clock = tc
			return c
		}
	}
}

// timeoutSlab holds contexts handed out one by one, in order.
type timeoutSlab struct {
	ctxs [64]timeoutContext
	next atomic.Int32
}

// now returns the time in nanoseconds since base.
func (tc *timeoutClock) now() int64 { return int64(time.Since(tc.base)) }

// timeoutContext is the context Timeout hands to a handler: the parent's
// values and cancellation plus a deadline. Until someone calls Done it is
// only a parent and a time (Err compares the clock with the deadline); the
// first Done makes its state: the channel, a timer, a link to the parent's
// cancellation. A call that ends before that shares one state, so the
// usual call costs one small allocation and one reading of the clock.
type timeoutContext struct {
	parent context.Context
	clock  *timeoutClock
	end    int64 // the deadline, in the clock's nanoseconds
	state  atomic.Pointer[timeoutState]
}

// timeoutState is a timeoutContext's state once it ended or Done was
// called. err is set once, when the context ends.
type timeoutState struct {
	mu    sync.Mutex
	err   error
	done  chan struct{}
	timer *time.Timer
	stop  func() bool // unlinks from the parent's cancellation
}

// Deadline returns the earlier of the parent's deadline and the timeout's.
func (c *timeoutContext) Deadline() (time.Time, bool) {
	own := c.clock.base.Add(time.Duration(c.end))
	if d, ok := c.parent.Deadline(); ok && d.Before(own) {
		return d, true
	}
	return own, true
}

// Done returns a channel closed when the context ends.
func (c *timeoutContext) Done() <-chan struct{} {
	st := c.state.Load()
	if st == nil {
		st = &timeoutState{done: make(chan struct{})}
		if !c.state.CompareAndSwap(nil, st) {
			st = c.state.Load()
		} else {
			c.arm(st)
		}
	}
	return st.done
}

// arm closes st.done when the deadline passes or the parent ends.
func (c *timeoutContext) arm(st *timeoutState) {
	if err := c.ended(); err != nil {
		c.cancel(err)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return
	}
	st.timer = time.AfterFunc(time.Duration(c.end-c.clock.now()), func() { c.cancel(context.DeadlineExceeded) })
	st.stop = context.AfterFunc(c.parent, func() { c.cancel(c.parent.Err()) })
}

// Err returns nil while the context lasts, and then why it ended.
func (c *timeoutContext) Err() error {
	if st := c.state.Load(); st != nil {
		st.mu.Lock()
		err := st.err
		st.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if err := c.ended(); err != nil {
		return c.cancel(err)
	}
	return nil
}

// ended returns why the context should end now, or nil.
func (c *timeoutContext) ended() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if c.clock.now() >= c.end {
		return context.DeadlineExceeded
	}
	return nil
}

// Value returns the parent's value for key.
func (c *timeoutContext) Value(key any) any { return c.parent.Value(key) }

// String names the context, for debugging.
func (c *timeoutContext) String() string {
	d, _ := c.Deadline()
	return fmt.Sprintf("%v.WithDeadline(%s [eda.Timeout])", c.parent, d)
}

// cancel ends the context with err unless it already ended, and returns
// the error it ended with.
func (c *timeoutContext) cancel(err error) error {
	st := c.state.Load()
	if st == nil {
		st = &timeoutState{}
		if !c.state.CompareAndSwap(nil, st) {
			st = c.state.Load()
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err == nil {
		st.err = err
		if st.done == nil {
			st.done = make(chan struct{})
		}
		close(st.done)
	}
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	if st.stop != nil {
		st.stop()
		st.stop = nil
	}
	return st.err
}

// release ends the context when the handler returns: with the shared
// state when nobody asked for Done (no allocation), with cancel otherwise.
func (c *timeoutContext) release() {
	if !c.state.CompareAndSwap(nil, c.clock.released) {
		c.cancel(context.Canceled)
	}
}
