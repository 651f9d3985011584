package delivery

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor waits for ch to be closed or to receive, failing the test after
// timeout.
func waitFor[V any](t *testing.T, ch <-chan V, timeout time.Duration, what string) V {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// drainWithin drains e with a deadline and returns Drain's error.
func drainWithin(e *Engine, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return e.Drain(ctx)
}

// Every item's age counts from its acceptance, on the engine's clock, not
// only the one in sixteen whose enqueue time is sampled for latency: items
// that waited past the maximum age behind a slow first attempt are
// dead-lettered after their one failed attempt.
func TestMaxAgeCountsFromAcceptanceForEveryItem(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	defer closeNow(t, e)
	dl := newDeadLetters()
	started := make(chan struct{})
	release := make(chan struct{})
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Retry:          Policy{MaxAge: 200 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item == 0 && attempt == 1 {
				close(started)
				<-release
			}
			return errors.New("down")
		},
		DeadLetter: dl.record,
	})
	for i := range 4 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	waitFor(t, started, 5*time.Second, "the first attempt")
	clock.Advance(350 * time.Millisecond)
	close(release)
	require.NoError(t, drainWithin(e, 5*time.Second))
	for i := range 4 {
		f, ok := dl.get(i)
		require.True(t, ok, "item %d", i)
		assert.Equal(t, ReasonMaxAge, f.Reason, "item %d", i)
		assert.Equal(t, 1, f.Attempts, "item %d", i)
	}
	assert.Zero(t, clock.Pending(), "no retry is scheduled")
}

// A backoff that would start the next attempt after the maximum age
// dead-letters the item at once, with ReasonMaxAge (RetryPolicy's promise),
// rather than cutting the backoff short for one more attempt.
func TestBackoffPastMaxAgeDeadLettersNow(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	defer closeNow(t, e)
	dl := newDeadLetters()
	var attempts atomic.Int32
	d := NewDestination(e, Options[int]{
		// Backoff is drawn from [0, 100000h]: it reaches past the minute.
		Retry: Policy{MaxAge: time.Minute, MinBackoff: 100000 * time.Hour, MaxBackoff: 100000 * time.Hour},
		Deliver: func(ctx context.Context, item, attempt int) error {
			attempts.Add(1)
			return errors.New("down")
		},
		DeadLetter: dl.record,
	})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	require.NoError(t, drainWithin(e, 5*time.Second))
	f, ok := dl.get(1)
	require.True(t, ok)
	assert.Equal(t, ReasonMaxAge, f.Reason)
	assert.Equal(t, 1, f.Attempts)
	assert.EqualValues(t, 1, attempts.Load())
	assert.Zero(t, clock.Pending())
}

// Drain is a watermark: under continuous load it returns once the items
// accepted before it was called are delivered, not when nothing at all is
// in flight.
func TestDrainIsAWatermarkUnderContinuousLoad(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	const producers = 4
	var mu sync.Mutex
	delivered := map[[2]int]bool{}
	d := NewDestination(e, Options[[2]int]{
		MaxConcurrency: 2, // slower than the producers
		Deliver: func(ctx context.Context, item [2]int, attempt int) error {
			time.Sleep(time.Millisecond) // the handler's work
			mu.Lock()
			delivered[item] = true
			mu.Unlock()
			return nil
		},
	})
	var lastDone [producers]atomic.Int64 // last sequence number accepted, per producer
	for p := range lastDone {
		lastDone[p].Store(-1)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := d.Enqueue(context.Background(), [2]int{p, seq}); err != nil {
					t.Errorf("enqueue: %v", err)
					return
				}
				lastDone[p].Store(int64(seq))
				time.Sleep(50 * time.Microsecond)
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	// Let the queue fill up.
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().InFlight < 500 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.GreaterOrEqual(t, d.Stats().InFlight, int64(500), "the load is continuous")
	var before [producers]int64
	for p := range before {
		before[p] = lastDone[p].Load()
	}
	require.NoError(t, drainWithin(e, 4*time.Second))
	mu.Lock()
	defer mu.Unlock()
	for p := range before {
		for seq := int64(0); seq <= before[p]; seq++ {
			require.True(t, delivered[[2]int{p, int(seq)}], "producer %d item %d accepted before Drain", p, seq)
		}
	}
}

// A dead-letter handler that calls runtime.Goexit (t.FailNow, require.…)
// fails the dead letter like a panic: the item still counts as finished, the
// worker is replaced, and Drain and Close return.
func TestGoexitInDeadLetterHandlerIsContained(t *testing.T) {
	e := New(Config{})
	var delivered atomic.Int32
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Retry:          Policy{MaxAttempts: 1},
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item == 0 {
				return Permanent(errors.New("bad"))
			}
			delivered.Add(1)
			return nil
		},
		DeadLetter: func(ctx context.Context, item int, f Failure) { runtime.Goexit() },
	})
	for i := range 3 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	require.NoError(t, drainWithin(e, 5*time.Second))
	assert.EqualValues(t, 2, delivered.Load())
	s := d.Stats()
	assert.EqualValues(t, 1, s.DeadLettered)
	assert.Zero(t, s.InFlight)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- e.Close(ctx) }()
	assert.NoError(t, waitFor(t, closed, 5*time.Second, "Close"))
}

// Close returns at its deadline (and a short grace) even when a handler
// never returns; the handler's item is reported as still running.
func TestCloseReturnsAtDeadlineWithAStuckHandler(t *testing.T) {
	e := New(Config{})
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	d := NewDestination(e, Options[int]{
		Deliver: func(ctx context.Context, item, attempt int) error {
			once.Do(func() { close(started) })
			<-release // ignores its context
			return nil
		},
	})
	defer func() {
		close(release)
		require.NoError(t, drainWithin(e, 5*time.Second))
	}()
	require.NoError(t, d.Enqueue(context.Background(), 1))
	waitFor(t, started, 5*time.Second, "the handler")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- e.Close(ctx) }()
	err := waitFor(t, closed, 5*time.Second, "Close")
	assert.Less(t, time.Since(start), 300*time.Millisecond+closeGrace+time.Second)
	var se *ShutdownError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, se.Abandoned, "the stuck handler's item")
}

// Close called with a handler's context (or one derived from it) returns
// an error at once and does not close the engine; so does Drain.
func TestCloseAndDrainFromAHandlerReturnAtOnce(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	type result struct{ closeErr, closeDerivedErr, drainErr error }
	results := make(chan result, 1)
	d := NewDestination(e, Options[int]{
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item != 0 {
				return nil
			}
			var r result
			r.closeErr = e.Close(ctx)
			dctx, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			r.closeDerivedErr = e.Close(dctx)
			r.drainErr = e.Drain(dctx)
			results <- r
			return nil
		},
	})
	require.NoError(t, d.Enqueue(context.Background(), 0))
	r := waitFor(t, results, 5*time.Second, "the handler's Close")
	require.ErrorIs(t, r.closeErr, ErrInHandler)
	require.ErrorIs(t, r.closeDerivedErr, ErrInHandler)
	require.ErrorIs(t, r.drainErr, ErrInHandler)
	assert.Regexp(t, "^eda: close", r.closeErr.Error())
	assert.Regexp(t, "^eda: drain", r.drainErr.Error())
	require.NoError(t, d.Enqueue(context.Background(), 1), "the engine is still open")
	drain(t, e)
}

// Close with an unrelated context that has a deadline, called from a
// handler, returns at the deadline and a grace: the engine cannot tell its
// caller is a handler, which it then treats as one that does not return.
func TestCloseFromAHandlerWithAnUnrelatedDeadlineReturns(t *testing.T) {
	e := New(Config{})
	closed := make(chan error, 1)
	d := NewDestination(e, Options[int]{
		Deliver: func(ctx context.Context, item, attempt int) error {
			cctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			closed <- e.Close(cctx)
			return nil
		},
	})
	require.NoError(t, d.Enqueue(context.Background(), 0))
	err := waitFor(t, closed, 5*time.Second, "Close")
	var se *ShutdownError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	// The handler has returned meanwhile: the engine finishes closing.
	require.NoError(t, drainWithin(e, 5*time.Second))
}
