package delivery

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/logtest"
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
		require.Failf(t, "timed out", "waiting for %s", what)
		panic("unreachable")
	}
}

// enqueueFailing starts an engine on clock with a destination whose every
// attempt fails, under policy, and enqueues item 1; it returns the engine,
// the dead letters and the count of attempts.
func enqueueFailing(t *testing.T, clock Clock, policy Policy) (*Engine, *deadLetters, *atomic.Int32) {
	t.Helper()
	e := New(Config{Clock: clock})
	dl := newDeadLetters()
	attempts := new(atomic.Int32)
	d := NewDestination(e, Options[int]{
		Retry: policy,
		Deliver: func(ctx context.Context, item, attempt int) error {
			attempts.Add(1)
			return errors.New("down")
		},
		DeadLetter: dl.record,
	})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	return e, dl, attempts
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
	// Backoff is drawn from [0, 100000h]: it reaches past the minute.
	e, dl, attempts := enqueueFailing(t, clock, Policy{MaxAge: time.Minute, MinBackoff: 100000 * time.Hour, MaxBackoff: 100000 * time.Hour})
	defer closeNow(t, e)
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
					assert.NoError(t, err, "enqueue")
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
		// The abandoned item is delivered when its handler returns.
		require.NoError(t, drainWithin(e, 5*time.Second))
		assert.EqualValues(t, 1, d.Stats().Delivered)
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
	assert.Equal(t, 1, se.Abandoned, "the calling handler's own item")
	// The handler has returned meanwhile: the engine finishes closing.
	require.NoError(t, drainWithin(e, 5*time.Second))
}

// Failed attempts are logged at the configured level: a destination's
// first failure, then at most one record per failureLogEvery on the clock,
// which counts the failures not logged since.
func TestFailedAttemptsAreLoggedRateLimited(t *testing.T) {
	clock := clocktest.New(epoch)
	rec := &logtest.Recorder{}
	e := New(Config{Clock: clock, Logger: slog.New(rec), FailureLogLevel: slog.LevelError})
	defer closeNow(t, e)
	d := NewDestination(e, Options[int]{
		Name:       "orders",
		Retry:      Policy{MaxAttempts: 1},
		Deliver:    func(context.Context, int, int) error { return errors.New("db down") },
		DeadLetter: func(context.Context, int, Failure) {},
	})
	for i := range 5 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	drain(t, e)
	logged := rec.WithMessage("eda: delivery attempt failed")
	require.Len(t, logged, 1, "only the first of a burst")
	assert.Equal(t, slog.LevelError, logged[0].Level)
	assert.Equal(t, "orders", logged[0].Attrs["destination"])
	assert.EqualError(t, logged[0].Attrs["error"].(error), "db down")
	assert.NotContains(t, logged[0].Attrs, "failures_not_logged")

	clock.Advance(failureLogEvery)
	require.NoError(t, d.Enqueue(context.Background(), 5))
	drain(t, e)
	logged = rec.WithMessage("eda: delivery attempt failed")
	require.Len(t, logged, 2)
	assert.EqualValues(t, 4, logged[1].Attrs["failures_not_logged"])
}

// Without a level, failed attempts are logged at Warn.
func TestFailedAttemptsAreLoggedAtWarnByDefault(t *testing.T) {
	rec := &logtest.Recorder{}
	e := New(Config{Logger: slog.New(rec)})
	defer closeNow(t, e)
	d := NewDestination(e, Options[int]{
		Retry:      Policy{MaxAttempts: 1},
		Deliver:    func(context.Context, int, int) error { return errors.New("db down") },
		DeadLetter: func(context.Context, int, Failure) {},
	})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	drain(t, e)
	logged := rec.WithMessage("eda: delivery attempt failed")
	require.Len(t, logged, 1)
	assert.Equal(t, slog.LevelWarn, logged[0].Level)
}

// Drain's and Close's errors name the destinations still holding items,
// how many each, and each one's last error.
func TestDrainAndCloseErrorsNameTheDestinations(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	failing := NewDestination(e, Options[int]{
		Name:       "orders",
		Retry:      Policy{MinBackoff: time.Hour, MaxBackoff: time.Hour},
		Deliver:    func(context.Context, int, int) error { return errors.New("db down") },
		DeadLetter: func(context.Context, int, Failure) {},
	})
	healthy := NewDestination(e, Options[int]{
		Name:    "audit",
		Deliver: func(context.Context, int, int) error { return nil },
	})
	for i := range 2 {
		require.NoError(t, failing.Enqueue(context.Background(), i))
		require.NoError(t, healthy.Enqueue(context.Background(), i))
	}
	require.True(t, clock.WaitForTimers(2, 5*time.Second))

	err := drainWithin(e, 20*time.Millisecond)
	var de *DrainError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, de.Destinations, 1)
	assert.Equal(t, "orders", de.Destinations[0].Destination)
	assert.EqualValues(t, 2, de.Destinations[0].InFlight)
	assert.EqualError(t, de.Destinations[0].LastErr, "db down")
	assert.Equal(t, "eda: drain: 2 items in flight (orders: 2, last error: db down): context deadline exceeded", err.Error())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = e.Close(ctx)
	var se *ShutdownError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 2, se.DeadLettered)
	assert.Zero(t, se.Abandoned)
	require.Len(t, se.Destinations, 1)
	assert.Equal(t, Backlog{Destination: "orders", InFlight: 2, LastErr: de.Destinations[0].LastErr}, se.Destinations[0])
	assert.Equal(t, "eda: close: 2 items dead-lettered at shutdown (orders: 2, last error: db down): context canceled", err.Error())
}

// Drain waits for the cascades of the items accepted before it, even when
// they are enqueued after it was called, but not for items accepted later
// from outside.
func TestDrainWaitsForCascadesNotForLaterItems(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	gate := make(chan struct{})
	release := make(chan struct{})
	var cascadeDelivered atomic.Bool
	second := NewDestination(e, Options[int]{
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item == 99 {
				<-release // accepted after Drain: does not hold it up
				return nil
			}
			cascadeDelivered.Store(true)
			return nil
		},
	})
	first := NewDestination(e, Options[int]{
		Deliver: func(ctx context.Context, item, attempt int) error {
			<-gate
			return second.Enqueue(ctx, 1) // a cascade, after Drain began
		},
	})
	defer close(release)
	require.NoError(t, first.Enqueue(context.Background(), 0))
	drained := make(chan error, 1)
	go func() { drained <- e.Drain(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.epoch.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond) // until Drain closed the epoch
	}
	require.NoError(t, second.Enqueue(context.Background(), 99))
	close(gate)
	require.NoError(t, waitFor(t, drained, 5*time.Second, "Drain"))
	assert.True(t, cascadeDelivered.Load(), "Drain returned before the cascade was delivered")
}

// A dead-letter function that panics or calls runtime.Goexit has failed to
// take the dead letter: it is counted (DeadLetterFailed) and logged, and
// the item still counts as dead-lettered.
func TestFailingDeadLetterFunctionIsCountedAndLogged(t *testing.T) {
	rec := &logtest.Recorder{}
	e := New(Config{Logger: slog.New(rec)})
	defer closeNow(t, e)
	var stored atomic.Int32
	d := NewDestination(e, Options[int]{
		Name:    "orders",
		Deliver: func(context.Context, int, int) error { return Permanent(errors.New("bad")) },
		DeadLetter: func(ctx context.Context, item int, f Failure) {
			switch item {
			case 0:
				panic("sink down")
			case 1:
				runtime.Goexit()
			}
			stored.Add(1)
		},
	})
	for i := range 3 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	drain(t, e)
	s := d.Stats()
	assert.EqualValues(t, 3, s.DeadLettered)
	assert.EqualValues(t, 2, s.DeadLetterFailed)
	assert.EqualValues(t, 1, stored.Load())
	logged := rec.WithMessage("eda: dead-letter handler failed; the dead letter may be lost")
	require.Len(t, logged, 2)
	for _, l := range logged {
		assert.Equal(t, slog.LevelError, l.Level)
		assert.Equal(t, "orders", l.Attrs["destination"])
		assert.Equal(t, "permanent-error", l.Attrs["reason"])
	}
}

// EnqueueFrom counts the item's age from the acceptance time of its
// Origin.
func TestEnqueueFromCountsAgeFromTheOrigin(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	defer closeNow(t, e)
	dl := newDeadLetters()
	d := NewDestination(e, Options[int]{
		Retry:      Policy{MaxAge: time.Minute, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Deliver:    func(context.Context, int, int) error { return errors.New("down") },
		DeadLetter: dl.record,
	})
	clock.Advance(time.Hour)
	ctx := context.Background()
	require.NoError(t, d.EnqueueFrom(ctx, 1, e.Origin(ctx, clock.Now().Add(-2*time.Minute))))
	require.NoError(t, drainWithin(e, 5*time.Second))
	f, ok := dl.get(1)
	require.True(t, ok)
	assert.Equal(t, ReasonMaxAge, f.Reason)
	assert.Equal(t, 1, f.Attempts)
}
