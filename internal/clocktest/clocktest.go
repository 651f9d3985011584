// Package clocktest provides a fake clock for tests of retries, windows and
// timeouts: time moves only when the test says so, or timers fire at once.
//
// Its Clock satisfies both eda.Clock and the delivery engine's Clock.
package clocktest

import (
	"slices"
	"sync"
	"time"
)

// Clock is a fake clock. Its methods may be called concurrently.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*Timer // pending, in no particular order
	seq     uint64
	instant bool
	running sync.WaitGroup  // callbacks started by an instant clock
	asked   []time.Duration // every AfterFunc duration, in call order
	sched   chan struct{}   // closed and replaced when a timer is pending anew; nil until asked for
}

// Timer is a pending call of a Clock.
type Timer struct {
	c    *Clock
	when time.Time
	seq  uint64
	f    func()
	done bool // fired or stopped
}

// New returns a manual clock reading start: timers fire only when
// [Clock.Advance] or [Clock.Set] moves the time past them.
func New(start time.Time) *Clock { return &Clock{now: start} }

// NewInstant returns a clock reading start whose timers fire at once, each
// on a goroutine of its own, whatever their duration; time stands still
// unless Advance or Set moves it. Retries through it take no time.
func NewInstant(start time.Time) *Clock { return &Clock{now: start, instant: true} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run d after the current time. f never runs
// inside AfterFunc.
func (c *Clock) AfterFunc(d time.Duration, f func()) interface{ Stop() bool } {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.asked = append(c.asked, d)
	t := &Timer{c: c, when: c.now.Add(d), seq: c.seq, f: f}
	if c.instant {
		c.fire(t)
		return t
	}
	c.timers = append(c.timers, t)
	if c.sched != nil {
		close(c.sched)
		c.sched = nil
	}
	return t
}

// fire runs t at once on a goroutine of its own, unless it is stopped
// first. c.mu is held.
func (c *Clock) fire(t *Timer) {
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		c.mu.Lock()
		if t.done {
			c.mu.Unlock()
			return
		}
		t.done = true
		c.mu.Unlock()
		t.f()
	}()
}

// SetInstant switches the clock between manual and instant (see
// [NewInstant]). Switching to instant fires the pending timers.
func (c *Clock) SetInstant(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.instant = on
	if on {
		for _, t := range c.timers {
			c.fire(t)
		}
		c.timers = nil
	}
}

// Scheduled returns the number of pending timers and a channel that is
// closed when a manual clock's timer is next scheduled, so that a test can
// wait for a timer without polling.
func (c *Clock) Scheduled() (int, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sched == nil {
		c.sched = make(chan struct{})
	}
	return len(c.timers), c.sched
}

// Stop prevents the timer from firing. It reports whether it did so.
func (t *Timer) Stop() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	c.timers = slices.DeleteFunc(c.timers, func(x *Timer) bool { return x == t })
	return true
}

// Advance moves the time forward by d and runs every timer that falls due,
// in time order, on the calling goroutine.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	to := c.now.Add(d)
	c.mu.Unlock()
	c.Set(to)
}

// Set moves the time to t (never backwards) and runs every timer that falls
// due, in time order, on the calling goroutine; while a timer runs, the
// clock reads its time. Timers that the callbacks schedule run too if they
// fall due by t.
func (c *Clock) Set(t time.Time) {
	for c.FireBy(t) {
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// FireBy runs the earliest pending timer due by limit (the first scheduled
// among those due at the same time) on the calling goroutine, moving the
// time to its due time if that is later, and reports whether there was
// one. Timers due after limit stay pending, and the time stays before it.
func (c *Clock) FireBy(limit time.Time) bool {
	c.mu.Lock()
	var next *Timer
	for _, x := range c.timers {
		if !x.when.After(limit) && (next == nil || x.when.Before(next.when) ||
			x.when.Equal(next.when) && x.seq < next.seq) {
			next = x
		}
	}
	if next == nil {
		c.mu.Unlock()
		return false
	}
	if next.when.After(c.now) {
		c.now = next.when
	}
	next.done = true
	c.timers = slices.DeleteFunc(c.timers, func(x *Timer) bool { return x == next })
	c.mu.Unlock()
	next.f()
	return true
}

// Next moves the time to when the earliest pending timer is due and runs
// the timers due by then, as Set does, so that each callback reads exactly
// its timer's time. It reports whether a timer was pending; if none was,
// the time stays as it is.
func (c *Clock) Next() bool {
	c.mu.Lock()
	var first *Timer
	for _, x := range c.timers {
		if first == nil || x.when.Before(first.when) {
			first = x
		}
	}
	c.mu.Unlock()
	if first == nil {
		return false
	}
	c.Set(first.when)
	return true
}

// Pending returns how many timers are waiting to fire.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Requested returns the duration of every AfterFunc call so far, in call
// order, whether its timer fired, was stopped or is pending.
func (c *Clock) Requested() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.asked)
}

// WaitForTimers waits until at least n timers are pending, polling, for up
// to timeout. It reports whether they are.
func (c *Clock) WaitForTimers(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for c.Pending() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

// Wait waits until the callbacks that an instant clock started returned.
func (c *Clock) Wait() { c.running.Wait() }
