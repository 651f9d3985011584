package delivery

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waiting returns how many producers wait in line for room at d.
func waiting[T any](d *Destination[T]) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.q.waiters)
}

// fullDestination returns a destination of one worker and a queue of one,
// whose worker is blocked on item 0 until gate closes and whose queue holds
// item 1: the next Enqueue waits for room. got returns the items delivered,
// in order.
func fullDestination(t *testing.T) (d *Destination[int], gate chan struct{}, got func() []int) {
	t.Helper()
	e := New(Config{})
	t.Cleanup(func() { closeNow(t, e) })
	gate = make(chan struct{})
	var mu sync.Mutex
	var delivered []int
	d = NewDestination(e, Options[int]{
		QueueSize:      1,
		MaxConcurrency: 1,
		Deliver: func(ctx context.Context, item, attempt int) error {
			<-gate
			mu.Lock()
			delivered = append(delivered, item)
			mu.Unlock()
			return nil
		},
	})
	ctx := context.Background()
	require.NoError(t, d.Enqueue(ctx, 0)) // taken by the worker, which blocks
	require.Eventually(t, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.q.n == 0 && d.workers.Load() == 1
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, d.Enqueue(ctx, 1)) // fills the ring
	return d, gate, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(delivered)
	}
}

// Producers that find a destination's queue full are served in the order
// they came: a worker that makes room moves the first waiter's item in,
// and a producer arriving later waits behind the others. (Before, every
// waiter was woken to race for the room, and newcomers raced too: under
// sustained backpressure one producer could lose for seconds, until its
// context ended and its entry failed as throttled.)
func TestProducersWaitingForRoomAreServedInOrder(t *testing.T) {
	d, gate, got := fullDestination(t)
	ctx := context.Background()
	const producers = 8
	var wg sync.WaitGroup
	for p := 2; p < 2+producers; p++ {
		wg.Go(func() { assert.NoError(t, d.Enqueue(ctx, p)) })
		// Start the next producer only once this one waits in line.
		require.Eventually(t, func() bool { return waiting(d) == p-1 }, 5*time.Second, time.Millisecond)
	}
	close(gate)
	wg.Wait()
	require.NoError(t, drainWithin(d.e, 5*time.Second))
	want := []int{0, 1}
	for p := 2; p < 2+producers; p++ {
		want = append(want, p)
	}
	assert.Equal(t, want, got(), "delivered in the order the producers came")
}

// A producer whose context ends while it waits in line leaves the line and
// its item is refused as throttled; those behind it keep their places.
func TestProducerLeavesTheLineWhenItsContextEnds(t *testing.T) {
	d, gate, got := fullDestination(t)
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- d.Enqueue(cctx, 2) }()
	require.Eventually(t, func() bool { return waiting(d) == 1 }, 5*time.Second, time.Millisecond)
	done := make(chan struct{})
	go func() { defer close(done); assert.NoError(t, d.Enqueue(ctx, 3)) }()
	require.Eventually(t, func() bool { return waiting(d) == 2 }, 5*time.Second, time.Millisecond)
	cancel()
	err := <-errc
	require.ErrorIs(t, err, ErrFull)
	assert.Equal(t, 1, waiting(d), "the cancelled producer left the line")
	close(gate)
	<-done
	require.NoError(t, drainWithin(d.e, 5*time.Second))
	assert.Equal(t, []int{0, 1, 3}, got())
	assert.Equal(t, uint64(1), d.Stats().Throttled)
}
