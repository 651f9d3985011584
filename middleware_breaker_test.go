package eda

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptedHandler returns the next error of a script on each call (nil once it
// runs out), and counts calls.
type scriptedHandler struct {
	mu     sync.Mutex
	script []error
	calls  int
}

func (s *scriptedHandler) Handle(context.Context, Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.script) == 0 {
		return nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return err
}

func (s *scriptedHandler) push(errs ...error) {
	s.mu.Lock()
	s.script = append(s.script, errs...)
	s.mu.Unlock()
}

func (s *scriptedHandler) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// gateHandler blocks each call until released, reporting entry on entered.
type gateHandler struct {
	entered chan struct{}
	release chan error
}

func newGateHandler() *gateHandler {
	return &gateHandler{entered: make(chan struct{}, 16), release: make(chan error)}
}

func (g *gateHandler) Handle(context.Context, Delivery) error {
	g.entered <- struct{}{}
	return <-g.release
}

func TestCircuitBreakerOpensAndRecovers(t *testing.T) {
	c := clocktest.New(testEpoch)
	s := &scriptedHandler{}
	h := CircuitBreaker(WithBreakerThreshold(3), WithBreakerOpenDuration(10*time.Second), WithMiddlewareClock(c))(s)
	ctx := context.Background()
	d := testDelivery("1")

	// Two failures, a success, two failures: never three in a row.
	s.push(errHandlerFailed, errHandlerFailed, nil, errHandlerFailed, errHandlerFailed)
	for range 5 {
		_ = h.Handle(ctx, d)
	}
	assert.Equal(t, 5, s.count(), "closed: every call runs")

	// The third consecutive failure opens the breaker.
	s.push(errHandlerFailed)
	assert.ErrorIs(t, h.Handle(ctx, d), errHandlerFailed, "third failure")
	for range 3 {
		assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "open")
	}
	assert.Equal(t, 6, s.count(), "open: the handler is not called")

	c.Advance(10*time.Second - time.Nanosecond)
	assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "still open")

	// Half-open: a failed probe opens it again for the full duration.
	c.Advance(time.Nanosecond)
	s.push(errHandlerFailed)
	assert.ErrorIs(t, h.Handle(ctx, d), errHandlerFailed, "failed probe")
	assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "open again")
	c.Advance(5 * time.Second)
	assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "open again, for the whole duration")
	c.Advance(5 * time.Second)

	// A successful probe closes it.
	require.NoError(t, h.Handle(ctx, d), "probe")
	s.push(errHandlerFailed, errHandlerFailed)
	for range 2 {
		assert.ErrorIs(t, h.Handle(ctx, d), errHandlerFailed, "closed again: failures counted from zero")
	}
	require.NoError(t, h.Handle(ctx, d), "still closed")
}

func TestCircuitBreakerOneProbeAtATime(t *testing.T) {
	leaktest.Test(t)
	c := clocktest.New(testEpoch)
	g := newGateHandler()
	h := CircuitBreaker(WithBreakerThreshold(1), WithBreakerOpenDuration(time.Second), WithBreakerProbes(2), WithMiddlewareClock(c))(g)
	ctx := context.Background()
	d := testDelivery("1")

	call := func() chan error {
		done := make(chan error, 1)
		go func() { done <- h.Handle(ctx, d) }()
		return done
	}
	first := call()
	<-g.entered
	g.release <- errHandlerFailed
	assert.ErrorIs(t, <-first, errHandlerFailed, "failure opens")
	assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "open")

	c.Advance(time.Second)
	probe := call()
	<-g.entered
	assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "half-open with a probe in flight")
	g.release <- nil
	require.NoError(t, <-probe, "first probe")

	// Two probes are needed: still half-open, one probe at a time.
	probe = call()
	<-g.entered
	assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "second probe in flight")
	g.release <- nil
	require.NoError(t, <-probe, "second probe")

	// Closed: calls run concurrently.
	a, b := call(), call()
	<-g.entered
	<-g.entered
	g.release <- nil
	g.release <- nil
	require.NoError(t, <-a, "a")
	require.NoError(t, <-b, "b")
}

func TestCircuitBreakerWhatCounts(t *testing.T) {
	c := clocktest.New(testEpoch)
	mk := func(h Handler) Handler {
		return CircuitBreaker(WithBreakerThreshold(2), WithMiddlewareClock(c))(h)
	}
	d := testDelivery("1")

	t.Run("permanent errors are successes", func(t *testing.T) {
		s := &scriptedHandler{}
		h := mk(s)
		s.push(errHandlerFailed, Permanent(errHandlerFailed), errHandlerFailed, Permanent(errHandlerFailed), errHandlerFailed)
		for range 5 {
			_ = h.Handle(context.Background(), d)
		}
		require.NoError(t, h.Handle(context.Background(), d), "still closed")
	})
	t.Run("cancelled calls count as nothing", func(t *testing.T) {
		s := &scriptedHandler{}
		h := mk(s)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.push(errHandlerFailed, context.Canceled, context.Canceled, context.Canceled)
		assert.ErrorIs(t, h.Handle(context.Background(), d), errHandlerFailed, "first counted failure")
		for range 3 {
			assert.ErrorIs(t, h.Handle(ctx, d), context.Canceled, "withdrawn call")
		}
		s.push(errHandlerFailed)
		assert.ErrorIs(t, h.Handle(context.Background(), d), errHandlerFailed, "second counted failure")
		assert.Equal(t, ErrCircuitOpen, h.Handle(context.Background(), d), "open after two counted failures")
	})
	t.Run("deadlines are failures", func(t *testing.T) {
		h := mk(HandlerFunc(func(ctx context.Context, _ Delivery) error { <-ctx.Done(); return ctx.Err() }))
		h = Timeout(time.Millisecond)(h)
		for range 2 {
			assert.ErrorIs(t, h.Handle(context.Background(), d), context.DeadlineExceeded, "timeout")
		}
		assert.Equal(t, ErrCircuitOpen, h.Handle(context.Background(), d), "open after two timeouts")
	})
	t.Run("panics are failures", func(t *testing.T) {
		h := Recover()(mk(HandlerFunc(func(context.Context, Delivery) error { panic("boom") })))
		for range 2 {
			err := h.Handle(context.Background(), d)
			assert.Error(t, err)
			assert.NotErrorIs(t, err, ErrCircuitOpen, "the panic passes through the breaker")
		}
		assert.Equal(t, ErrCircuitOpen, h.Handle(context.Background(), d), "open after two panics")
	})
}

// TestCircuitBreakerIgnoresStaleResults: a call admitted while closed that
// returns after the breaker moved on must not decide the half-open state.
func TestCircuitBreakerIgnoresStaleResults(t *testing.T) {
	leaktest.Test(t)
	c := clocktest.New(testEpoch)
	g := newGateHandler()
	h := CircuitBreaker(WithBreakerThreshold(1), WithBreakerOpenDuration(time.Second), WithMiddlewareClock(c))(g)
	ctx := context.Background()
	d := testDelivery("1")
	call := func() chan error {
		done := make(chan error, 1)
		go func() { done <- h.Handle(ctx, d) }()
		return done
	}

	slow := call() // admitted while closed
	<-g.entered
	fail := call()
	<-g.entered
	g.release <- errHandlerFailed // one of the two fails: the breaker opens
	var slowDone, failDone bool
	select {
	case err := <-slow:
		slowDone = true
		assert.ErrorIs(t, err, errHandlerFailed, "slow")
	case err := <-fail:
		failDone = true
		assert.ErrorIs(t, err, errHandlerFailed, "fail")
	}
	assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "open")
	c.Advance(time.Second)
	probe := call()
	<-g.entered
	g.release <- nil // the stale call (or the probe) succeeds
	var stale chan error
	switch {
	case slowDone:
		stale = fail
	case failDone:
		stale = slow
	}
	select {
	case err := <-stale:
		require.NoError(t, err, "stale call")
		assert.Equal(t, ErrCircuitOpen, h.Handle(ctx, d), "the stale success did not close the breaker")
		g.release <- nil
		require.NoError(t, <-probe, "probe")
	case err := <-probe:
		// The gate released the probe instead; release the stale one.
		require.NoError(t, err, "probe")
		g.release <- nil
		require.NoError(t, <-stale, "stale call")
	}
	closed := call()
	<-g.entered
	g.release <- nil
	require.NoError(t, <-closed, "closed after the probe")
}

func TestCircuitBreakerConcurrent(t *testing.T) {
	leaktest.Test(t)
	var calls, open atomic.Int64
	h := CircuitBreaker(WithBreakerThreshold(3), WithBreakerOpenDuration(50*time.Microsecond))(
		HandlerFunc(func(context.Context, Delivery) error {
			calls.Add(1)
			if rand.IntN(3) == 0 {
				return errHandlerFailed
			}
			return nil
		}))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 500 {
				if errors.Is(h.Handle(context.Background(), testDelivery("1")), ErrCircuitOpen) {
					open.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(16*500), calls.Load()+open.Load(), "every call either ran or was refused")
	assert.Positive(t, calls.Load(), "calls ran")
}

// TestCircuitBreakerWithdrawnProbe: a probe whose caller withdrew decides
// nothing, and the next call becomes the probe.
func TestCircuitBreakerWithdrawnProbe(t *testing.T) {
	c := clocktest.New(testEpoch)
	s := &scriptedHandler{}
	h := CircuitBreaker(WithBreakerThreshold(1), WithBreakerOpenDuration(time.Second), WithMiddlewareClock(c))(s)
	d := testDelivery("1")
	s.push(errHandlerFailed)
	assert.ErrorIs(t, h.Handle(context.Background(), d), errHandlerFailed, "failure opens")
	c.Advance(time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.push(context.Canceled)
	assert.ErrorIs(t, h.Handle(ctx, d), context.Canceled, "withdrawn probe")
	s.push(errHandlerFailed)
	assert.ErrorIs(t, h.Handle(context.Background(), d), errHandlerFailed, "the next call is the probe, and fails")
	assert.Equal(t, ErrCircuitOpen, h.Handle(context.Background(), d), "open again")
	assert.Equal(t, 3, s.count(), "calls")
}
