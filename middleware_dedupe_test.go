package eda

import (
	"context"
	"fmt"
	"hash/maphash"
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

func TestDeduplicateSkipsHandled(t *testing.T) {
	c := clocktest.New(testEpoch)
	s := &scriptedHandler{}
	h := Deduplicate(time.Minute, WithMiddlewareClock(c))(s)
	ctx := context.Background()

	require.NoError(t, h.Handle(ctx, testDelivery("a")), "first")
	require.NoError(t, h.Handle(ctx, testDelivery("a")), "duplicate")
	assert.Equal(t, 1, s.count(), "the duplicate is skipped")

	require.NoError(t, h.Handle(ctx, testDelivery("b")), "another id")
	assert.Equal(t, 2, s.count(), "another id runs")

	other := testDelivery("a")
	other.Destination = "second-target"
	require.NoError(t, h.Handle(ctx, other), "same id, other destination")
	assert.Equal(t, 3, s.count(), "the default key tells destinations apart")

	c.Advance(time.Minute - time.Nanosecond)
	require.NoError(t, h.Handle(ctx, testDelivery("a")), "within the ttl")
	assert.Equal(t, 3, s.count(), "still remembered")
	c.Advance(time.Nanosecond)
	require.NoError(t, h.Handle(ctx, testDelivery("a")), "after the ttl")
	assert.Equal(t, 4, s.count(), "forgotten after the ttl")
	require.NoError(t, h.Handle(ctx, testDelivery("a")), "remembered again")
	assert.Equal(t, 4, s.count(), "remembered again")
}

func TestDeduplicateForgetsFailures(t *testing.T) {
	s := &scriptedHandler{}
	h := Deduplicate(time.Minute)(s)
	ctx := context.Background()
	s.push(errHandlerFailed, Permanent(errHandlerFailed))
	assert.ErrorIs(t, h.Handle(ctx, testDelivery("a")), errHandlerFailed, "failure")
	assert.ErrorIs(t, h.Handle(ctx, testDelivery("a")), errHandlerFailed, "retry runs and fails permanently")
	require.NoError(t, h.Handle(ctx, testDelivery("a")), "retry runs and succeeds")
	require.NoError(t, h.Handle(ctx, testDelivery("a")), "duplicate")
	assert.Equal(t, 3, s.count(), "calls")

	// A panic forgets the key too, and passes through.
	panicking := true
	h = Deduplicate(time.Minute)(HandlerFunc(func(context.Context, Delivery) error {
		if panicking {
			panic("boom")
		}
		return nil
	}))
	func() {
		defer func() { assert.Equal(t, "boom", recover(), "the panic passes") }()
		_ = h.Handle(ctx, testDelivery("p"))
	}()
	panicking = false
	require.NoError(t, h.Handle(ctx, testDelivery("p")), "after a panic the delivery runs again")
}

func TestDeduplicateKeys(t *testing.T) {
	s := &scriptedHandler{}
	h := Deduplicate(time.Minute, WithDedupKey(func(d Delivery) string { return d.ID }))(s)
	ctx := context.Background()
	first := testDelivery("a")
	second := testDelivery("a")
	second.Router, second.Rule, second.Destination = "other-bus", "other-rule", "other-target"
	require.NoError(t, h.Handle(ctx, first), "first")
	require.NoError(t, h.Handle(ctx, second), "second")
	assert.Equal(t, 1, s.count(), "keyed by ID alone, one call in all")

	s = &scriptedHandler{}
	h = Deduplicate(time.Minute)(s)
	for range 3 {
		require.NoError(t, h.Handle(ctx, testDelivery("")), "empty id")
	}
	assert.Equal(t, 3, s.count(), "an empty key is not deduplicated")
}

func TestDeduplicateConcurrentDuplicates(t *testing.T) {
	leaktest.Test(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		ttl       time.Duration
		first     error
		wantCalls int
	}{
		{"first succeeds", time.Minute, nil, 1},
		{"first succeeds, zero ttl", 0, nil, 1},
		{"first fails", time.Minute, errHandlerFailed, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateHandler()
			h := Deduplicate(tc.ttl)(g)
			first := make(chan error, 1)
			go func() { first <- h.Handle(ctx, testDelivery("a")) }()
			<-g.entered
			second := make(chan error, 1)
			go func() { second <- h.Handle(ctx, testDelivery("a")) }()
			// The duplicate waits for the first call rather than run.
			select {
			case <-g.entered:
				require.Fail(t, "the duplicate ran while the first call was in progress")
			case <-time.After(20 * time.Millisecond):
			}
			g.release <- tc.first
			assert.Equal(t, tc.first, <-first, "first result")
			if tc.wantCalls == 2 {
				<-g.entered
				g.release <- nil
			}
			require.NoError(t, <-second, "duplicate result")
		})
	}

	t.Run("context ends while waiting", func(t *testing.T) {
		g := newGateHandler()
		h := Deduplicate(time.Minute)(g)
		first := make(chan error, 1)
		go func() { first <- h.Handle(ctx, testDelivery("a")) }()
		<-g.entered
		wctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		err := h.Handle(wctx, testDelivery("a"))
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the waiting duplicate gives up")
		g.release <- nil
		require.NoError(t, <-first, "first")
	})
}

// TestDeduplicateExactlyOnceUnderLoad runs many goroutines delivering the
// same IDs at once; with every call succeeding, each ID runs exactly once.
func TestDeduplicateExactlyOnceUnderLoad(t *testing.T) {
	leaktest.Test(t)
	var mu sync.Mutex
	calls := map[string]int{}
	h := Deduplicate(time.Hour)(HandlerFunc(func(_ context.Context, d Delivery) error {
		mu.Lock()
		calls[d.ID]++
		mu.Unlock()
		time.Sleep(10 * time.Microsecond)
		return nil
	}))
	const ids, workers = 200, 8
	var wg sync.WaitGroup
	var errs atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for i := range ids {
				id := fmt.Sprint((i + w*7) % ids)
				if h.Handle(context.Background(), testDelivery(id)) != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(0), errs.Load(), "errors")
	assert.Equal(t, ids, len(calls), "ids seen")
	for id, n := range calls {
		assert.Equal(t, 1, n, "times id %s handled", id)
	}
}

// dedupSize counts the keys a dedup memory holds, and its queue items.
func dedupSize(s *dedupMemory) (keys, queued int) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		keys += len(sh.m)
		queued += len(sh.fifo) - sh.head
		sh.mu.Unlock()
	}
	return keys, queued
}

// idPerShard returns one ID for each shard of s.
func idPerShard(s *dedupMemory, prefix string) []string {
	ids := make([]string, dedupShardCount)
	found := 0
	for i := 0; found < dedupShardCount; i++ {
		id := fmt.Sprint(prefix, i)
		if sh := maphash.String(s.seed, id) % dedupShardCount; ids[sh] == "" {
			ids[sh] = id
			found++
		}
	}
	return ids
}

func TestDeduplicateBoundedMemory(t *testing.T) {
	ctx := context.Background()
	ok := HandlerFunc(func(context.Context, Delivery) error { return nil })

	t.Run("expiry", func(t *testing.T) {
		c := clocktest.New(testEpoch)
		cfg := newMiddlewareConfig([]MiddlewareOption{WithMiddlewareClock(c)})
		s := newDedupMemory(time.Minute, &cfg)
		for i := range 1000 {
			require.NoError(t, s.handle(ctx, testDelivery(fmt.Sprint("old", i)), ok), "handle")
		}
		keys, queued := dedupSize(s)
		assert.Equal(t, 1000, keys, "keys remembered")
		assert.Equal(t, 1000, queued, "keys queued")
		c.Advance(time.Minute)
		for _, id := range idPerShard(s, "new") {
			require.NoError(t, s.handle(ctx, testDelivery(id), ok), "handle")
		}
		keys, queued = dedupSize(s)
		assert.Equal(t, dedupShardCount, keys, "expired keys swept by later calls")
		assert.Equal(t, dedupShardCount, queued, "queue swept")
	})
	t.Run("capacity", func(t *testing.T) {
		c := clocktest.New(testEpoch)
		cfg := newMiddlewareConfig([]MiddlewareOption{WithMiddlewareClock(c), WithDedupCapacity(64)})
		s := newDedupMemory(time.Hour, &cfg)
		for i := range 10_000 {
			require.NoError(t, s.handle(ctx, testDelivery(fmt.Sprint(i)), ok), "handle")
		}
		keys, queued := dedupSize(s)
		assert.LessOrEqual(t, keys, 64, "keys")
		assert.LessOrEqual(t, queued, 64, "queued keys")
		for i := range s.shards {
			assert.LessOrEqual(t, cap(s.shards[i].fifo), 256, "queue storage stays small")
		}
		// The newest key is remembered; the oldest was forgotten.
		calls := 0
		count := HandlerFunc(func(context.Context, Delivery) error { calls++; return nil })
		require.NoError(t, s.handle(ctx, testDelivery("9999"), count), "newest")
		require.NoError(t, s.handle(ctx, testDelivery("0"), count), "oldest")
		assert.Equal(t, 1, calls, "only the oldest runs again")
	})
	t.Run("re-remembered key", func(t *testing.T) {
		// A key handled, expired and handled again leaves a stale queue item
		// behind; dropping it must not forget the new entry.
		c := clocktest.New(testEpoch)
		cfg := newMiddlewareConfig([]MiddlewareOption{WithMiddlewareClock(c)})
		s := newDedupMemory(time.Minute, &cfg)
		require.NoError(t, s.handle(ctx, testDelivery("k"), ok), "first")
		c.Advance(time.Minute)
		calls := 0
		count := HandlerFunc(func(context.Context, Delivery) error { calls++; return nil })
		require.NoError(t, s.handle(ctx, testDelivery("k"), count), "again")
		c.Advance(30 * time.Second)
		require.NoError(t, s.handle(ctx, testDelivery("k"), count), "duplicate")
		assert.Equal(t, 1, calls, "remembered again")
	})
	t.Run("zero ttl remembers nothing", func(t *testing.T) {
		cfg := newMiddlewareConfig(nil)
		s := newDedupMemory(0, &cfg)
		calls := 0
		count := HandlerFunc(func(context.Context, Delivery) error { calls++; return nil })
		for range 3 {
			require.NoError(t, s.handle(ctx, testDelivery("k"), count), "handle")
		}
		assert.Equal(t, 3, calls, "every call runs")
		keys, queued := dedupSize(s)
		assert.Equal(t, 0, keys+queued, "nothing kept")
	})
}

// TestDeduplicateOneSuccessPerKey delivers every ID from several workers at
// once, each retrying until it gets nil, through a handler that fails at
// random: every ID must succeed exactly once, whatever the interleaving.
func TestDeduplicateOneSuccessPerKey(t *testing.T) {
	leaktest.Test(t)
	var mu sync.Mutex
	successes := map[string]int{}
	var failures atomic.Int64
	h := Deduplicate(time.Hour)(HandlerFunc(func(_ context.Context, d Delivery) error {
		if rand.IntN(10) < 3 {
			failures.Add(1)
			return errHandlerFailed
		}
		mu.Lock()
		successes[d.ID]++
		mu.Unlock()
		return nil
	}))
	const ids, workers = 300, 6
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range ids {
				d := testDelivery(fmt.Sprint((i * (w + 1)) % ids))
				for h.Handle(context.Background(), d) != nil {
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, ids, len(successes), "ids")
	for id, n := range successes {
		assert.Equal(t, 1, n, "times id %s succeeded", id)
	}
	assert.Positive(t, failures.Load(), "failures happened")
}
