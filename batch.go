package eda

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"time"
)

// BatchHandler handles deliveries in batches, for consumers that work
// better on many events at once (bulk inserts, batched API calls). Turn it
// into a [Handler] with [Batch].
//
// HandleBatch returns nil when every delivery succeeded; a *[BatchError]
// to fail only some of them (they alone are retried, like a Lambda partial
// batch response); any other error to fail all of them. It must not keep
// the slice after it returns.
type BatchHandler interface {
	HandleBatch(ctx context.Context, ds []Delivery) error
}

// BatchHandlerFunc adapts a function to a [BatchHandler].
type BatchHandlerFunc func(ctx context.Context, ds []Delivery) error

// HandleBatch calls f(ctx, ds).
func (f BatchHandlerFunc) HandleBatch(ctx context.Context, ds []Delivery) error { return f(ctx, ds) }

// BatchError reports which deliveries of a batch failed. The others count
// as delivered; each failed one is retried (or dead-lettered) on its own,
// with its own error, which may be marked [Permanent].
type BatchError struct {
	// Failed maps the index of each failed delivery in the batch to its
	// error. Indexes outside the batch are ignored.
	Failed map[int]error
}

// Fail records that the delivery at index i failed with err (a nil err is
// recorded as a generic failure), and returns e for chaining.
func (e *BatchError) Fail(i int, err error) *BatchError {
	if err == nil {
		err = errBatchItem
	}
	if e.Failed == nil {
		e.Failed = make(map[int]error)
	}
	e.Failed[i] = err
	return e
}

var errBatchItem = errors.New("eda: batch item failed")

func (e *BatchError) Error() string {
	if len(e.Failed) == 0 {
		return "eda: batch: no delivery failed"
	}
	idx := e.indexes()
	return fmt.Sprintf("eda: batch: %d deliveries failed; #%d: %v", len(idx), idx[0], e.Failed[idx[0]])
}

// Unwrap returns the errors of the failed deliveries, by index.
func (e *BatchError) Unwrap() []error {
	idx := e.indexes()
	errs := make([]error, len(idx))
	for j, i := range idx {
		errs[j] = e.Failed[i]
	}
	return errs
}

func (e *BatchError) indexes() []int {
	idx := make([]int, 0, len(e.Failed))
	for i := range e.Failed {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	return idx
}

// BatchOptions configure [Batch]. The zero value means the defaults.
type BatchOptions struct {
	// Size is the most deliveries in one batch; default 10.
	Size int
	// Window is how long a batch waits, from its first delivery, for more
	// before it is handled anyway; default 1 second.
	Window time.Duration
	// Clock times the window; nil: [SystemClock].
	Clock Clock
}

// Batch returns a Handler that gathers concurrent deliveries into batches
// for h. Each Handle call adds its delivery to the open batch and waits
// for the batch's result; the batch is handled when it holds opts.Size
// deliveries or opts.Window after its first delivery, whichever comes
// first, and each call returns its own delivery's error (see
// [BatchHandler]). A call whose context ends while it waits hands the
// batch over at once rather than waiting for the window.
//
// Deliveries only gather while their Handle calls are running, so the
// destination's maximum concurrency bounds the batch size: set it to at
// least opts.Size. The batch is handled on the goroutine of the call that
// completes it (or of the clock, when the window ends), with the context of
// its first delivery.
func Batch(h BatchHandler, opts BatchOptions) Handler {
	if opts.Size <= 0 {
		opts.Size = 10
	}
	if opts.Window <= 0 {
		opts.Window = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock()
	}
	return &batcher{h: h, opts: opts}
}

// batcher is the Handler that Batch returns.
type batcher struct {
	h    BatchHandler
	opts BatchOptions

	mu   sync.Mutex
	open *batch // gathering deliveries; nil when none is
}

// batch is one batch, from its first delivery to its result.
type batch struct {
	ctx     context.Context
	items   []Delivery
	errs    []error       // per item, set before done is closed
	done    chan struct{} // closed when errs is set
	timer   Timer
	handled bool // taken for handling (under the batcher's mu)
}

// Handle adds d to the open batch and returns its result.
func (b *batcher) Handle(ctx context.Context, d Delivery) error {
	b.mu.Lock()
	bt := b.open
	first := bt == nil
	if first {
		bt = &batch{ctx: ctx, items: make([]Delivery, 0, b.opts.Size), done: make(chan struct{})}
		b.open = bt
	}
	i := len(bt.items)
	bt.items = append(bt.items, d)
	full := len(bt.items) >= b.opts.Size
	if full {
		b.open = nil
		bt.handled = true
	}
	b.mu.Unlock()

	if full {
		b.mu.Lock()
		t := bt.timer
		b.mu.Unlock()
		if t != nil {
			t.Stop()
		}
		b.run(bt)
		return bt.errs[i]
	}
	if first {
		// The clock is called without the lock: AfterFunc may be user code.
		t := b.opts.Clock.AfterFunc(b.opts.Window, func() { b.take(bt) })
		b.mu.Lock()
		bt.timer = t
		handled := bt.handled
		b.mu.Unlock()
		if handled {
			// The batch filled up (or was taken) before its timer was
			// recorded, so whoever took it could not stop the timer.
			t.Stop()
		}
	}
	select {
	case <-bt.done:
	case <-ctx.Done():
		b.take(bt) // do not wait for the window when the caller gives up
		<-bt.done
	}
	return bt.errs[i]
}

// take handles bt unless someone else does.
func (b *batcher) take(bt *batch) {
	b.mu.Lock()
	if bt.handled {
		b.mu.Unlock()
		return
	}
	bt.handled = true
	if b.open == bt {
		b.open = nil
	}
	t := bt.timer
	b.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	b.run(bt)
}

// run calls the batch handler and distributes its result. If the handler
// calls runtime.Goexit, the goroutine running the batch ends, but every
// delivery of the batch fails with errBatchGoexit first, so the other
// callers waiting for it return (the engine fails the attempt whose
// goroutine ended, like a panic).
func (b *batcher) run(bt *batch) {
	errs := make([]error, len(bt.items))
	returned := false
	defer func() {
		if !returned {
			for i := range errs {
				errs[i] = errBatchGoexit
			}
		}
		bt.errs = errs
		close(bt.done)
	}()
	err := b.call(bt)
	returned = true
	if be := (*BatchError)(nil); errors.As(err, &be) {
		for i, e := range be.Failed {
			if i >= 0 && i < len(errs) {
				errs[i] = e
			}
		}
	} else if err != nil {
		for i := range errs {
			errs[i] = err
		}
	}
}

var errBatchGoexit = errors.New("eda: batch handler called runtime.Goexit")

// call runs HandleBatch, recovering a panic into a *PanicError (which then
// fails every delivery of the batch).
func (b *batcher) call(bt *batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return b.h.HandleBatch(bt.ctx, bt.items)
}
