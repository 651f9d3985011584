package delivery

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// deadLetters records dead letters.
type deadLetters struct {
	mu    sync.Mutex
	items map[int]Failure
	ctxOK bool // every call had a live context
	n     atomic.Int64
}

func newDeadLetters() *deadLetters { return &deadLetters{items: map[int]Failure{}, ctxOK: true} }

func (r *deadLetters) record(ctx context.Context, item int, f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items[item] = f
	if ctx.Err() != nil {
		r.ctxOK = false
	}
	r.n.Add(1)
}

func (r *deadLetters) get(item int) (Failure, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.items[item]
	return f, ok
}

func closeNow(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.Close(ctx))
}

func drain(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.Drain(ctx))
}

func TestDeliversEverythingOnce(t *testing.T) {
	e := New(Config{})
	var seen [1000]atomic.Int32
	d := NewDestination(e, Options[int]{
		Name: "all",
		Deliver: func(ctx context.Context, item, attempt int) error {
			seen[item].Add(1)
			assert.Equal(t, 1, attempt)
			assert.True(t, IsHandlerContext(ctx))
			return nil
		},
	})
	for i := range seen {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	drain(t, e)
	for i := range seen {
		require.EqualValues(t, 1, seen[i].Load(), "item %d", i)
	}
	s := d.Stats()
	assert.EqualValues(t, 1000, s.Enqueued)
	assert.EqualValues(t, 1000, s.Delivered)
	assert.Zero(t, s.InFlight)
	assert.Zero(t, s.Failed)
	assert.Positive(t, s.HandlerTime)
	assert.Positive(t, s.LatencyMax)
	assert.LessOrEqual(t, s.LatencyP50, s.LatencyP90)
	assert.LessOrEqual(t, s.LatencyP90, s.LatencyP99)
	assert.LessOrEqual(t, s.LatencyP99, s.LatencyMax)
	assert.Zero(t, s.Refused)
	closeNow(t, e)
	assert.ErrorIs(t, d.Enqueue(context.Background(), 1), ErrClosed)
	s = d.Stats()
	assert.EqualValues(t, 1, s.Refused, "a refused Enqueue is counted")
	assert.Zero(t, s.Throttled, "refused for closing, not a full queue")
	assert.EqualValues(t, 1000, s.Enqueued)
}

func TestInOrderAtConcurrencyOne(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	var got []int
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		QueueSize:      16, // smaller than the stream: producers wait
		Deliver: func(ctx context.Context, item, attempt int) error {
			got = append(got, item) // no lock: one worker at a time
			return nil
		},
	})
	for i := range 5000 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	drain(t, e)
	require.Len(t, got, 5000)
	for i, v := range got {
		require.Equal(t, i, v)
	}
	assert.LessOrEqual(t, d.Stats().Workers, int64(1))
}

func TestBackpressureWaitsThenReportsFull(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	gate := make(chan struct{})
	var delivered atomic.Int64
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		QueueSize:      2,
		Deliver: func(ctx context.Context, item, attempt int) error {
			<-gate
			delivered.Add(1)
			return nil
		},
	})
	// One item in the handler, two in the queue.
	require.NoError(t, d.Enqueue(context.Background(), 0))
	require.Eventually(t, func() bool { return d.Stats().QueueDepth == 0 }, 5*time.Second, time.Millisecond)
	require.NoError(t, d.Enqueue(context.Background(), 1))
	require.NoError(t, d.Enqueue(context.Background(), 2))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := d.Enqueue(ctx, 3)
	assert.GreaterOrEqual(t, time.Since(start), 15*time.Millisecond, "Enqueue must wait for room")
	assert.ErrorIs(t, err, ErrFull)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 1, d.Stats().Throttled)

	// A waiting producer gets in as soon as there is room.
	done := make(chan error, 1)
	go func() { done <- d.Enqueue(context.Background(), 4) }()
	close(gate)
	require.NoError(t, <-done)
	drain(t, e)
	s := d.Stats()
	assert.EqualValues(t, 4, delivered.Load())
	assert.EqualValues(t, 4, s.Enqueued)
	assert.EqualValues(t, 4, s.Delivered)
}

func TestRetryDoesNotBlockItemsBehind(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	defer closeNow(t, e)
	var mu sync.Mutex
	var order []string
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Retry:          Policy{MinBackoff: time.Second, MaxBackoff: time.Second},
		Deliver: func(ctx context.Context, item, attempt int) error {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, fmt.Sprintf("%d/%d", item, attempt))
			if item == 0 && attempt == 1 {
				return errors.New("first attempt fails")
			}
			return nil
		},
	})
	for i := range 3 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	// Items 1 and 2 are delivered while item 0 waits for its timer.
	require.True(t, clock.WaitForTimers(1, 5*time.Second))
	require.Eventually(t, func() bool { return d.Stats().Delivered == 2 }, 5*time.Second, time.Millisecond)
	s := d.Stats()
	assert.EqualValues(t, 1, s.InFlight)
	assert.EqualValues(t, 1, s.Failed)
	clock.Advance(time.Second)
	drain(t, e)
	assert.Equal(t, []string{"0/1", "1/1", "2/1", "0/2"}, order)
	s = d.Stats()
	assert.EqualValues(t, 1, s.Retries)
	assert.EqualValues(t, 3, s.Delivered)
}

func TestPermanentErrorSkipsRetries(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	dl := newDeadLetters()
	cause := errors.New("bad input")
	var attempts atomic.Int32
	d := NewDestination(e, Options[int]{
		Deliver: func(ctx context.Context, item, attempt int) error {
			attempts.Add(1)
			return fmt.Errorf("wrapped: %w", Permanent(cause))
		},
		DeadLetter: dl.record,
	})
	require.NoError(t, d.Enqueue(context.Background(), 7))
	drain(t, e)
	f, ok := dl.get(7)
	require.True(t, ok)
	assert.Equal(t, ReasonPermanent, f.Reason)
	assert.Equal(t, 1, f.Attempts)
	assert.ErrorIs(t, f.Err, cause)
	assert.EqualValues(t, 1, attempts.Load())
	assert.EqualValues(t, 1, d.Stats().DeadLettered)
}

func TestMaxAttempts(t *testing.T) {
	clock := clocktest.NewInstant(epoch)
	e := New(Config{Clock: clock})
	defer closeNow(t, e)
	dl := newDeadLetters()
	d := NewDestination(e, Options[int]{
		Retry:      Policy{MaxAttempts: 3},
		Deliver:    func(ctx context.Context, item, attempt int) error { return errors.New("down") },
		DeadLetter: dl.record,
	})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	drain(t, e)
	clock.Wait()
	f, ok := dl.get(1)
	require.True(t, ok)
	assert.Equal(t, ReasonMaxAttempts, f.Reason)
	assert.Equal(t, 3, f.Attempts)
	assert.EqualError(t, f.Err, "down")
	s := d.Stats()
	assert.EqualValues(t, 3, s.Failed)
	assert.EqualValues(t, 2, s.Retries)
	assert.EqualValues(t, 1, s.DeadLettered)
	assert.Zero(t, s.Delivered)
}

func TestMaxAge(t *testing.T) {
	clock := clocktest.New(epoch)
	e, dl, attempts := enqueueFailing(t, clock, Policy{MaxAge: time.Minute, MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second})
	defer closeNow(t, e)
	// Retries within the minute; a failure after it dead-letters the item.
	advanceUntil(t, clock, func() bool { return dl.n.Load() == 1 })
	drain(t, e)
	f, ok := dl.get(1)
	require.True(t, ok)
	assert.Equal(t, ReasonMaxAge, f.Reason)
	assert.GreaterOrEqual(t, f.Attempts, 2)
	assert.EqualValues(t, f.Attempts, attempts.Load())
}

func TestPanicIsRecoveredAndRetried(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	var errs []error
	var mu sync.Mutex
	dl := newDeadLetters()
	d := NewDestination(e, Options[int]{
		Retry: Policy{MaxAttempts: 2},
		Deliver: func(ctx context.Context, item, attempt int) error {
			if attempt == 1 || item == 2 {
				panic(fmt.Sprintf("boom %d", item))
			}
			return nil
		},
		DeadLetter: func(ctx context.Context, item int, f Failure) {
			mu.Lock()
			errs = append(errs, f.Err)
			mu.Unlock()
			dl.record(ctx, item, f)
		},
	})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	require.NoError(t, d.Enqueue(context.Background(), 2))
	drain(t, e)
	s := d.Stats()
	assert.EqualValues(t, 1, s.Delivered)
	assert.EqualValues(t, 1, s.DeadLettered)
	require.Len(t, errs, 1)
	var pe *PanicError
	require.ErrorAs(t, errs[0], &pe)
	assert.Equal(t, "boom 2", pe.Value)
	assert.Contains(t, string(pe.Stack), "engine_test.go")
}

func TestGoexitFailsTheItem(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	var delivered atomic.Int32
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Deliver: func(ctx context.Context, item, attempt int) error {
			if attempt == 1 {
				runtime.Goexit()
			}
			delivered.Add(1)
			return nil
		},
	})
	for i := range 3 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	drain(t, e)
	assert.EqualValues(t, 3, delivered.Load(), "the queue is served after the worker exited")
	assert.EqualValues(t, 3, d.Stats().Retries)
}

// A worker takes up to maxTake items at once; when its goroutine ends in
// the middle (runtime.Goexit), the items it took but did not deliver go
// back to the queue, in order, and a new worker serves them.
func TestGoexitPutsTheRestOfTheBatchBack(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	const n = 3 * maxTake
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []int
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item == -1 {
				<-gate // hold the worker while the queue fills
				return nil
			}
			if item == 5 && attempt == 1 {
				runtime.Goexit()
			}
			mu.Lock()
			got = append(got, item)
			mu.Unlock()
			return nil
		},
	})
	require.NoError(t, d.Enqueue(context.Background(), -1))
	for i := range n {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	close(gate)
	drain(t, e)
	var want, others []int
	fives := 0
	for i := range n {
		if i != 5 {
			want = append(want, i)
		}
	}
	for _, v := range got {
		if v == 5 {
			fives++ // its retry goes ahead of what is still in the ring
		} else {
			others = append(others, v)
		}
	}
	assert.Equal(t, 1, fives, "the item whose worker exited, once")
	assert.Equal(t, want, others, "every other item once, the batch's rest in order")
	s := d.Stats()
	assert.EqualValues(t, n+1, s.Delivered)
	assert.EqualValues(t, 1, s.Failed)
}

// stuckWorker sets up a fast destination of up to two workers, one of them
// stuck in a call until the returned release is called, and the other idle
// if idle is true; the counter counts the items (0, 1, ...) delivered.
func stuckWorker(t *testing.T, e *Engine, idleTimeout time.Duration, idle bool) (d *Destination[int], delivered *atomic.Int32, release func()) {
	t.Helper()
	gate := make(chan struct{})
	running := make(chan struct{}, 2)
	delivered = new(atomic.Int32)
	d = NewDestination(e, Options[int]{
		MaxConcurrency: 2,
		IdleTimeout:    idleTimeout,
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item < 0 {
				running <- struct{}{}
				<-gate
				return nil
			}
			delivered.Add(1)
			return nil
		},
	})
	if idle {
		// Two workers: the second item finds the first worker busy.
		require.NoError(t, d.Enqueue(context.Background(), -1))
		<-running
		require.NoError(t, d.Enqueue(context.Background(), -2))
		<-running
		gate <- struct{}{}
		gate <- struct{}{}
		drain(t, e)
		require.EqualValues(t, 2, d.Stats().Workers)
	}
	d.fast.Store(true) // as if deliveries had proved fast

	require.NoError(t, d.Enqueue(context.Background(), -3)) // one worker gets stuck
	<-running
	return d, delivered, func() { close(gate) }
}

// While deliveries are fast, an item may wait for a busy worker instead of
// waking an idle one (see summon); a worker stuck in a long call must not
// hold up more than holdPerBusy items while another worker is idle.
func TestStuckWorkerDoesNotHoldUpTheQueue(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	d, delivered, release := stuckWorker(t, e, time.Minute, true)
	e.stopWatch() // the count bound alone (the watch is tested below)
	const n = 3 * holdPerBusy
	for i := range n {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	assert.Eventually(t, func() bool { return delivered.Load() >= n-holdPerBusy },
		5*time.Second, time.Millisecond, "the idle worker serves the queue while the other is stuck")
	release()
	drain(t, e)
	assert.EqualValues(t, n, delivered.Load())
}

// Fewer items than the hold wait for the stuck worker only until the hold
// watch sees that no worker took from the queue for a tick (see hold.go).
func TestItemsHeldForAStuckWorkerAreTakenWithinTicks(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	for _, idle := range []bool{true, false} {
		d, delivered, release := stuckWorker(t, e, time.Minute, idle)
		const n = holdPerBusy / 2
		start := time.Now()
		for i := range n {
			require.NoError(t, d.Enqueue(context.Background(), i))
		}
		assert.Eventually(t, func() bool { return delivered.Load() == n },
			5*time.Second, time.Millisecond, "the hold watch wakes the idle worker or starts one (idle: %v)", idle)
		t.Logf("idle worker %v: held items delivered after %v", idle, time.Since(start))
		release()
		drain(t, e)
	}
}

// A destination's speed changes only when judged twice in a row (the first
// judgement counts alone): on a loaded machine, one run of fast deliveries
// can look slow.
func TestSpeedChangesWhenJudgedTwiceInARow(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	d := NewDestination(e, Options[int]{Deliver: func(ctx context.Context, item, attempt int) error { return nil }})
	judge := func(call time.Duration) bool {
		d.judgePace(int64(call))
		return d.fast.Load()
	}
	require.False(t, d.fast.Load(), "slow until proved fast")
	assert.True(t, judge(time.Microsecond), "first judgement")
	assert.True(t, judge(time.Millisecond), "one slow run")
	assert.True(t, judge(time.Microsecond))
	assert.True(t, judge(time.Millisecond))
	assert.False(t, judge(time.Millisecond), "two slow runs in a row")
	assert.False(t, judge(time.Microsecond), "one fast run")
	assert.True(t, judge(time.Microsecond), "two fast runs in a row")
}

// The ring starts short and grows as a burst needs, up to the queue size,
// keeping the order when it has wrapped around.
func TestRingGrowsInOrder(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []int
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		QueueSize:      300,
		Deliver: func(ctx context.Context, item, attempt int) error {
			<-gate
			mu.Lock()
			got = append(got, item)
			mu.Unlock()
			return nil
		},
	})
	ctx := context.Background()
	for i := range 50 {
		require.NoError(t, d.Enqueue(ctx, i))
	}
	gate <- struct{}{} // the worker goes on to a batch from the ring's middle
	assert.Eventually(t, func() bool { return d.Stats().QueueDepth < 49 }, 5*time.Second, time.Millisecond)
	for i := 50; i < 300; i++ {
		require.NoError(t, d.Enqueue(ctx, i)) // wraps around, then grows
	}
	d.mu.Lock()
	length := len(d.q.ring)
	d.mu.Unlock()
	assert.Equal(t, 300, length, "grown to the queue size")
	n := 300
	for ; ; n++ { // fill it: the queue size still bounds it
		short, cancel := context.WithTimeout(ctx, time.Millisecond)
		err := d.Enqueue(short, n)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, ErrFull)
			break
		}
	}
	assert.EqualValues(t, 300, d.Stats().QueueDepth)
	close(gate)
	drain(t, e)
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, got)
}

func TestDrainWaitsForRetries(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	defer closeNow(t, e)
	d := NewDestination(e, Options[int]{
		Deliver: func(ctx context.Context, item, attempt int) error {
			if attempt < 3 {
				return errors.New("not yet")
			}
			return nil
		},
	})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := e.Drain(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 1, e.Pending())

	done := make(chan error, 1)
	go func() { done <- e.Drain(context.Background()) }()
	advanceUntil(t, clock, func() bool { return d.Stats().Delivered == 1 })
	require.NoError(t, <-done)
	assert.EqualValues(t, 3, d.Stats().Failed+d.Stats().Delivered)
}

// advanceUntil moves the clock an hour at a time, whenever a timer waits,
// until cond holds. (Timers that callbacks schedule may fire within the
// same Advance, so the number of Advance calls is not fixed.)
func advanceUntil(t *testing.T, clock *clocktest.Clock, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			require.Fail(t, "condition not reached")
		}
		if clock.Pending() > 0 {
			clock.Advance(time.Hour)
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

func TestDeadLetterGetsLiveContextAfterCancel(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	dl := newDeadLetters()
	started := make(chan struct{})
	var handlerCtxErr atomic.Value
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item == 0 {
				close(started)
				<-ctx.Done() // a handler that honours cancellation
				handlerCtxErr.Store(ctx.Err())
				return ctx.Err()
			}
			if item == 1 {
				return errors.New("retry me")
			}
			return nil
		},
		DeadLetter: dl.record,
	})
	require.NoError(t, d.Enqueue(context.Background(), 1)) // will wait for a retry
	require.True(t, clock.WaitForTimers(1, 5*time.Second))
	require.NoError(t, d.Enqueue(context.Background(), 0)) // stalls until cancelled
	<-started
	for i := 2; i < 10; i++ {
		require.NoError(t, d.Enqueue(context.Background(), i)) // queued behind item 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.Close(ctx)
	var se *ShutdownError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 10, se.DeadLettered)
	assert.True(t, dl.ctxOK, "dead-letter contexts must not be cancelled")
	assert.Equal(t, context.Canceled, handlerCtxErr.Load())
	for i := range 10 {
		f, ok := dl.get(i)
		require.True(t, ok, "item %d", i)
		assert.Equal(t, ReasonShutdown, f.Reason)
	}
	f, _ := dl.get(1)
	assert.EqualError(t, f.Err, "retry me")
	assert.Equal(t, 1, f.Attempts)
	f, _ = dl.get(5)
	assert.ErrorIs(t, f.Err, ErrClosed)
	assert.Zero(t, f.Attempts)
	assert.Zero(t, clock.Pending(), "the retry timer is stopped")
	assert.Zero(t, e.Pending())
	// Idempotent.
	assert.Equal(t, err, e.Close(context.Background()))
	assert.ErrorIs(t, d.Enqueue(context.Background(), 11), ErrClosed)
}

func TestCloseIdempotentAndRefusesIntake(t *testing.T) {
	e := New(Config{})
	d := NewDestination(e, Options[int]{Deliver: func(context.Context, int, int) error { return nil }})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	closeNow(t, e)
	closeNow(t, e)
	assert.ErrorIs(t, d.Enqueue(context.Background(), 2), ErrClosed)
	late := NewDestination(e, Options[int]{Deliver: func(context.Context, int, int) error { return nil }})
	assert.ErrorIs(t, late.Enqueue(context.Background(), 3), ErrClosed)
	assert.EqualValues(t, 1, d.Stats().Delivered)
}

func TestRetireDeliversWhatIsQueued(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	gate := make(chan struct{})
	var n atomic.Int32
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		IdleTimeout:    time.Millisecond,
		Deliver: func(context.Context, int, int) error {
			<-gate
			n.Add(1)
			return nil
		},
	})
	for i := range 5 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	d.Retire()
	assert.ErrorIs(t, d.Enqueue(context.Background(), 9), ErrClosed)
	close(gate)
	drain(t, e)
	assert.EqualValues(t, 5, n.Load())
	require.Eventually(t, func() bool { return d.Stats().Workers == 0 }, 5*time.Second, time.Millisecond)
	// The engine forgets a retired, empty destination (when the list of
	// destinations has grown enough to be looked through again).
	for range minForget {
		NewDestination(e, Options[int]{Deliver: func(context.Context, int, int) error { return nil }})
	}
	e.mu.Lock()
	assert.Len(t, e.dests, minForget)
	assert.NotContains(t, e.dests, dest(d))
	e.mu.Unlock()
}

// TestRetiredWorkersExitWithoutIdleTimeout: once a retired destination's
// queue is empty its workers exit at once (idle ones are woken to do so),
// not after their idle timeout, here an hour; a retry that comes due later
// starts a worker again and is delivered.
func TestRetiredWorkersExitWithoutIdleTimeout(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	gate := make(chan struct{})
	var delivered atomic.Int32
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 3,
		IdleTimeout:    time.Hour,
		Deliver: func(context.Context, int, int) error {
			<-gate
			delivered.Add(1)
			return nil
		},
	})
	for i := range 3 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	close(gate)
	drain(t, e)
	require.Positive(t, d.Stats().Workers, "idle workers wait for more")
	d.Retire()
	require.Eventually(t, func() bool { return d.Stats().Workers == 0 }, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, 3, delivered.Load())

	// A retry that comes due after the workers left.
	var attempts atomic.Int32
	retried := make(chan struct{})
	r := NewDestination(e, Options[int]{
		IdleTimeout: time.Hour,
		Retry:       Policy{MaxAttempts: 2, MinBackoff: 50 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
		Deliver: func(context.Context, int, int) error {
			if attempts.Add(1) == 1 {
				return errors.New("once")
			}
			close(retried)
			return nil
		},
	})
	require.NoError(t, r.Enqueue(context.Background(), 1))
	require.Eventually(t, func() bool { return attempts.Load() == 1 }, 5*time.Second, time.Millisecond)
	r.Retire()
	require.Eventually(t, func() bool { return r.Stats().Workers == 0 }, 5*time.Second, time.Millisecond)
	select {
	case <-retried:
	case <-time.After(5 * time.Second):
		t.Fatal("the retry of a retired destination was not delivered")
	}
	drain(t, e)
	assert.EqualValues(t, 1, r.Stats().Delivered)
	require.Eventually(t, func() bool { return r.Stats().Workers == 0 }, 5*time.Second, time.Millisecond)
}

func TestWorkersScaleUpAndDown(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	gate := make(chan struct{})
	var running, peak atomic.Int32
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 4,
		IdleTimeout:    20 * time.Millisecond,
		Deliver: func(context.Context, int, int) error {
			r := running.Add(1)
			for {
				p := peak.Load()
				if r <= p || peak.CompareAndSwap(p, r) {
					break
				}
			}
			<-gate
			running.Add(-1)
			return nil
		},
	})
	assert.Zero(t, d.Stats().Workers, "no workers before work")
	for i := range 20 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	require.Eventually(t, func() bool { return running.Load() == 4 }, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, 4, d.Stats().Workers)
	close(gate)
	drain(t, e)
	assert.EqualValues(t, 4, peak.Load(), "never more than MaxConcurrency")
	require.Eventually(t, func() bool { return d.Stats().Workers == 0 }, 5*time.Second, time.Millisecond)
	// And back up from zero.
	require.NoError(t, d.Enqueue(context.Background(), 99))
	drain(t, e)
	assert.EqualValues(t, 21, d.Stats().Delivered)
}

func TestCascadeUnderFullQueuesDoesNotDeadlock(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	const depth = 200
	var a, b *Destination[int]
	var delivered atomic.Int64
	// Each hop publishes into the other destination, whose queue holds one
	// item and whose single worker is itself publishing: with a bound that
	// waited, this would deadlock at once.
	hop := func(next **Destination[int]) func(ctx context.Context, item, attempt int) error {
		return func(ctx context.Context, item, attempt int) error {
			delivered.Add(1)
			if item >= depth {
				return nil
			}
			cctx, cancel := context.WithTimeout(ctx, time.Minute) // derived contexts count too
			defer cancel()
			for range 3 {
				if err := (*next).Enqueue(cctx, item+1); err != nil {
					return err
				}
			}
			return nil
		}
	}
	a = NewDestination(e, Options[int]{MaxConcurrency: 1, QueueSize: 1, Deliver: hop(&b)})
	b = NewDestination(e, Options[int]{MaxConcurrency: 1, QueueSize: 1, Deliver: hop(&a)})
	// Fill both queues from outside first.
	require.NoError(t, a.Enqueue(context.Background(), depth-3))
	require.NoError(t, b.Enqueue(context.Background(), depth-3))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, e.Drain(ctx), "cascade deadlocked")
	// Two roots at depth-3, each fanning out 3 per level for 3 levels.
	assert.EqualValues(t, 2*(1+3+9+27), delivered.Load())
	assert.Zero(t, a.Stats().DeadLettered+b.Stats().DeadLettered)
}

func TestCloseAcceptsCascadesWhileDraining(t *testing.T) {
	e := New(Config{})
	var b *Destination[int]
	var got atomic.Int32
	a := NewDestination(e, Options[int]{Deliver: func(ctx context.Context, item, attempt int) error {
		time.Sleep(5 * time.Millisecond) // Close starts while this runs
		return b.Enqueue(ctx, item)
	}})
	b = NewDestination(e, Options[int]{Deliver: func(context.Context, int, int) error {
		got.Add(1)
		return nil
	}})
	for i := range 10 {
		require.NoError(t, a.Enqueue(context.Background(), i))
	}
	closeNow(t, e)
	assert.EqualValues(t, 10, got.Load())
	assert.Zero(t, a.Stats().DeadLettered)
}

func TestDefaultDeadLetterIsCalled(t *testing.T) {
	var got atomic.Value
	e := New(Config{DeadLetter: func(ctx context.Context, dest string, item any, f Failure) {
		got.Store(fmt.Sprintf("%s %v %s", dest, item, f.Reason))
	}})
	defer closeNow(t, e)
	d := NewDestination(e, Options[string]{
		Name:    "orders",
		Deliver: func(context.Context, string, int) error { return Permanent(errors.New("no")) },
	})
	require.NoError(t, d.Enqueue(context.Background(), "o-1"))
	drain(t, e)
	assert.Equal(t, "orders o-1 permanent-error", got.Load())
	assert.EqualValues(t, 1, e.DeadLettered())
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	p := Policy{MinBackoff: 10 * time.Millisecond, MaxBackoff: time.Second}.WithDefaults()
	for attempt := 1; attempt < 200; attempt++ {
		ceiling := time.Second
		if attempt <= 7 {
			ceiling = 10 * time.Millisecond << (attempt - 1)
		}
		for range 20 {
			b := p.Backoff(attempt)
			require.GreaterOrEqual(t, b, time.Duration(0))
			require.LessOrEqual(t, b, ceiling, "attempt %d", attempt)
		}
	}
	d := Policy{}.WithDefaults()
	assert.Equal(t, Policy{MaxAttempts: 185, MaxAge: 24 * time.Hour, MinBackoff: time.Second, MaxBackoff: 3 * time.Minute}, d)
}

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 3, 4, 5, 7, 8, 9, 10, 15, 16, 1000, 1 << 40, 1<<62 + 5, 1<<63 - 1} {
		i := bucketOf(v)
		require.Less(t, i, histBuckets)
		require.GreaterOrEqual(t, i, prev, "buckets grow with v")
		prev = i
		require.LessOrEqual(t, v, bucketUpper(i), "v %d in bucket %d", v, i)
		if i > 0 {
			require.Greater(t, v, bucketUpper(i-1), "v %d above bucket %d", v, i-1)
		}
	}
	var h histogram
	for v := int64(1); v <= 1000; v++ {
		h.record(v * 1000)
	}
	n, q := h.quantiles(0.5, 0.9, 0.99)
	assert.EqualValues(t, 1000, n)
	assert.InDelta(t, 500_000, q[0], 500_000*0.25)
	assert.InDelta(t, 900_000, q[1], 900_000*0.25)
	assert.InDelta(t, 990_000, q[2], 990_000*0.25)
	assert.EqualValues(t, 1_000_000, h.max.Load())
}

func TestOrderedRetriesInPlace(t *testing.T) {
	clock := clocktest.New(epoch)
	e := New(Config{Clock: clock})
	var mu sync.Mutex
	var order []string
	d := NewDestination(e, Options[int]{
		Ordered:        true,
		MaxConcurrency: 8, // ignored: ordered means one worker
		Deliver: func(ctx context.Context, item, attempt int) error {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, fmt.Sprintf("%d/%d", item, attempt))
			if item == 1 && attempt < 3 {
				return errors.New("not yet")
			}
			return nil
		},
	})
	for i := range 4 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	advanceUntil(t, clock, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(order) == 6
	})
	drain(t, e)
	assert.Equal(t, []string{"0/1", "1/1", "1/2", "1/3", "2/1", "3/1"}, order)
	assert.EqualValues(t, 2, d.Stats().Retries)

	// Shutdown while a retry waits in place: it and the items behind it
	// are dead-lettered.
	dl := newDeadLetters()
	d2 := NewDestination(e, Options[int]{
		Ordered:    true,
		Deliver:    func(ctx context.Context, item, attempt int) error { return errors.New("down") },
		DeadLetter: dl.record,
	})
	for i := range 3 {
		require.NoError(t, d2.Enqueue(context.Background(), i))
	}
	require.True(t, clock.WaitForTimers(1, 5*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var se *ShutdownError
	require.ErrorAs(t, e.Close(ctx), &se)
	assert.Equal(t, 3, se.DeadLettered)
	f, ok := dl.get(0)
	require.True(t, ok)
	assert.Equal(t, ReasonShutdown, f.Reason)
	assert.Equal(t, 1, f.Attempts)
	assert.EqualError(t, f.Err, "down")
}

// TestBusyWorkersScaleForTrickle checks serverless-like scaling: an item
// that arrives while every worker is busy gets a new worker at once, even
// when the backlog is small.
func TestBusyWorkersScaleForTrickle(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	release := make(chan struct{})
	started := make(chan int, 3)
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 3,
		Deliver: func(ctx context.Context, item, attempt int) error {
			started <- item
			<-release
			return nil
		},
	})
	for i := range 3 {
		require.NoError(t, d.Enqueue(context.Background(), i))
		select { // each item starts while the earlier ones still run
		case <-started:
		case <-time.After(5 * time.Second):
			require.Failf(t, "an item waited behind busy workers", "item %d", i)
		}
	}
	close(release)
	drain(t, e)
}

func TestStatsHandlerTimeAndLatency(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Deliver: func(context.Context, int, int) error {
			time.Sleep(2 * time.Millisecond)
			return nil
		},
	})
	for i := range 10 {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	drain(t, e)
	s := d.Stats()
	assert.GreaterOrEqual(t, s.HandlerTime, 20*time.Millisecond, "every handler's time counts")
	assert.Less(t, s.HandlerTime, 5*time.Second)
	// Item 0 (sampled) waited for nothing but its own handler.
	assert.GreaterOrEqual(t, s.LatencyMax, 2*time.Millisecond)
	assert.EqualValues(t, 10, s.Delivered)
	assert.Zero(t, s.QueueDepth)
}

func TestConcurrentCloseCallsShareTheResult(t *testing.T) {
	e := New(Config{})
	gate := make(chan struct{})
	d := NewDestination(e, Options[int]{Deliver: func(context.Context, int, int) error {
		<-gate
		return nil
	}})
	require.NoError(t, d.Enqueue(context.Background(), 1))
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- e.Close(context.Background()) }()
	}
	time.Sleep(5 * time.Millisecond)
	close(gate)
	for range 3 {
		assert.NoError(t, <-errs)
	}
	assert.EqualValues(t, 1, d.Stats().Delivered)
}

// Speed is judged on single timed calls (one in paceSample per worker, the
// first one included), not on a worker's busy run: slow stretches between
// the timed calls (as a worker waiting for a CPU sees) do not make a
// destination with fast calls slow.
func TestSpeedIsJudgedOnTimedCalls(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	var calls atomic.Int32
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 1,
		Deliver: func(ctx context.Context, item, attempt int) error {
			if n := calls.Add(1); n%paceSample != 1 {
				time.Sleep(100 * time.Microsecond) // an untimed call: slow
			}
			return nil
		},
	})
	for i := range 2*paceSample + 1 { // three timed calls: 1, 17, 33
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	drain(t, e)
	assert.True(t, d.fast.Load(), "the timed calls were fast")
}

// With more workers running in the engine than there are CPUs (many busy
// destinations), a fast destination's items wait for its busy worker
// instead of starting another, however many queue up; the busy worker
// takes them all.
func TestFastDestinationDoesNotScaleWhileTheEngineRunsAWorkerPerCPU(t *testing.T) {
	e := New(Config{Clock: clocktest.NewInstant(epoch)})
	defer closeNow(t, e)
	d, delivered, release := stuckWorker(t, e, time.Minute, false)
	e.stopWatch() // the watch would take the items from the stuck worker
	others := d.procs + 1
	e.running.Add(others) // as if other destinations' workers ran
	const n = 4 * holdPerBusy
	for i := range n {
		require.NoError(t, d.Enqueue(context.Background(), i))
	}
	assert.EqualValues(t, 1, d.Stats().Workers, "no worker started")
	e.running.Add(-others)
	release()
	drain(t, e)
	assert.EqualValues(t, n, delivered.Load())
	assert.EqualValues(t, 1, d.Stats().Workers)
}

// Workers started before deliveries proved fast, beyond one per CPU, exit
// once deliveries are fast and they find the queue empty.
func TestWorkersBeyondOnePerCPUOfAFastDestinationExit(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	gate := make(chan struct{})
	running := make(chan struct{}, 2)
	d := NewDestination(e, Options[int]{
		MaxConcurrency: 2,
		Deliver: func(ctx context.Context, item, attempt int) error {
			if item < 0 {
				running <- struct{}{}
				<-gate
			}
			return nil
		},
	})
	d.procs = 1        // as on a machine with one CPU
	for i := range 2 { // slow: the second item starts a second worker
		require.NoError(t, d.Enqueue(context.Background(), -1-i))
		<-running
	}
	// Two handlers ran at once: two workers. (Not asserted after the drain:
	// one may already have left.)
	close(gate)
	drain(t, e)
	require.Eventually(t, func() bool {
		require.NoError(t, d.Enqueue(context.Background(), 0)) // fast deliveries
		return d.Stats().Workers == 1
	}, 5*time.Second, time.Millisecond)
	assert.True(t, d.fast.Load())
}

// A destination that has queued nothing holds little memory: its queue's
// ring and its latency histogram are made when they are first needed, so
// that a router with thousands of rules or subscriptions that see no
// traffic does not hold kilobytes for each.
func TestIdleDestinationIsSmall(t *testing.T) {
	e := New(Config{})
	defer closeNow(t, e)
	const n = 1000
	dests := make([]*Destination[[64]byte], 0, n)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for range n {
		dests = append(dests, NewDestination(e, Options[[64]byte]{Deliver: func(context.Context, [64]byte, int) error { return nil }}))
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := (int64(m1.HeapAlloc) - int64(m0.HeapAlloc)) / n
	t.Logf("%d bytes per idle destination", per)
	assert.Less(t, per, int64(2048))
	// And one that delivers gets both.
	require.NoError(t, dests[0].Enqueue(context.Background(), [64]byte{}))
	drain(t, e)
	assert.EqualValues(t, 1, dests[0].Stats().Delivered)
	assert.Positive(t, dests[0].Stats().LatencyMax, "the first delivery is sampled")
	runtime.KeepAlive(dests)
}
