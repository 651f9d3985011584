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
	s := &mwScripted{}
	h := Deduplicate(time.Minute, WithMiddlewareClock(c))(s)
	ctx := context.Background()

	require.NoError(t, h.Handle(ctx, mwTestDelivery("a")), "first")
	require.NoError(t, h.Handle(ctx, mwTestDelivery("a")), "duplicate")
	assert.Equal(t, 1, s.count(), "the duplicate is skipped")

	require.NoError(t, h.Handle(ctx, mwTestDelivery("b")), "another id")
	assert.Equal(t, 2, s.count(), "another id runs")

	other := mwTestDelivery("a")
	other.Destination = "second-target"
	require.NoError(t, h.Handle(ctx, other), "same id, other destination")
	assert.Equal(t, 3, s.count(), "the default key tells destinations apart")

	c.Advance(time.Minute - time.Nanosecond)
	require.NoError(t, h.Handle(ctx, mwTestDelivery("a")), "within the ttl")
	assert.Equal(t, 3, s.count(), "still remembered")
	c.Advance(time.Nanosecond)
	require.NoError(t, h.Handle(ctx, mwTestDelivery("a")), "after the ttl")
	assert.Equal(t, 4, s.count(), "forgotten after the ttl")
	require.NoError(t, h.Handle(ctx, mwTestDelivery("a")), "remembered again")
	assert.Equal(t, 4, s.count(), "remembered again")
}

func TestDeduplicateForgetsFailures(t *testing.T) {
	s := &mwScripted{}
	h := Deduplicate(time.Minute)(s)
	ctx := context.Background()
	s.push(errMWTest, Permanent(errMWTest))
	assert.ErrorIs(t, h.Handle(ctx, mwTestDelivery("a")), errMWTest, "failure")
	assert.ErrorIs(t, h.Handle(ctx, mwTestDelivery("a")), errMWTest, "retry runs and fails permanently")
	require.NoError(t, h.Handle(ctx, mwTestDelivery("a")), "retry runs and succeeds")
	require.NoError(t, h.Handle(ctx, mwTestDelivery("a")), "duplicate")
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
		_ = h.Handle(ctx, mwTestDelivery("p"))
	}()
	panicking = false
	require.NoError(t, h.Handle(ctx, mwTestDelivery("p")), "after a panic the delivery runs again")
}

func TestDeduplicateKeys(t *testing.T) {
	s := &mwScripted{}
	h := Deduplicate(time.Minute, WithDedupKey(func(d Delivery) string { return d.ID }))(s)
	ctx := context.Background()
	first := mwTestDelivery("a")
	second := mwTestDelivery("a")
	second.Router, second.Rule, second.Destination = "other-bus", "other-rule", "other-target"
	require.NoError(t, h.Handle(ctx, first), "first")
	require.NoError(t, h.Handle(ctx, second), "second")
	assert.Equal(t, 1, s.count(), "keyed by ID alone, one call in all")

	s = &mwScripted{}
	h = Deduplicate(time.Minute)(s)
	for range 3 {
		require.NoError(t, h.Handle(ctx, mwTestDelivery("")), "empty id")
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
		{"first fails", time.Minute, errMWTest, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newMWGate()
			h := Deduplicate(tc.ttl)(g)
			first := make(chan error, 1)
			go func() { first <- h.Handle(ctx, mwTestDelivery("a")) }()
			<-g.entered
			second := make(chan error, 1)
			go func() { second <- h.Handle(ctx, mwTestDelivery("a")) }()
			// The duplicate waits for the first call rather than run.
			select {
			case <-g.entered:
				t.Fatal("the duplicate ran while the first call was in progress")
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
		g := newMWGate()
		h := Deduplicate(time.Minute)(g)
		first := make(chan error, 1)
		go func() { first <- h.Handle(ctx, mwTestDelivery("a")) }()
		<-g.entered
		wctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		err := h.Handle(wctx, mwTestDelivery("a"))
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
				if h.Handle(context.Background(), mwTestDelivery(id)) != nil {
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

// mwDedupSize counts the keys a dedup memory holds, and its queue items.
func mwDedupSize(s *mwDedup) (keys, queued int) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		keys += len(sh.m)
		queued += len(sh.fifo) - sh.head
		sh.mu.Unlock()
	}
	return keys, queued
}

// mwIDPerShard returns one ID for each shard of s.
func mwIDPerShard(s *mwDedup, prefix string) []string {
	ids := make([]string, mwDedupShards)
	found := 0
	for i := 0; found < mwDedupShards; i++ {
		id := fmt.Sprint(prefix, i)
		if sh := maphash.String(s.seed, id) % mwDedupShards; ids[sh] == "" {
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
		cfg := newMWConfig([]MiddlewareOption{WithMiddlewareClock(c)})
		s := newMWDedup(time.Minute, &cfg)
		for i := range 1000 {
			require.NoError(t, s.handle(ctx, mwTestDelivery(fmt.Sprint("old", i)), ok), "handle")
		}
		keys, queued := mwDedupSize(s)
		assert.Equal(t, 1000, keys, "keys remembered")
		assert.Equal(t, 1000, queued, "keys queued")
		c.Advance(time.Minute)
		for _, id := range mwIDPerShard(s, "new") {
			require.NoError(t, s.handle(ctx, mwTestDelivery(id), ok), "handle")
		}
		keys, queued = mwDedupSize(s)
		assert.Equal(t, mwDedupShards, keys, "expired keys swept by later calls")
		assert.Equal(t, mwDedupShards, queued, "queue swept")
	})
	t.Run("capacity", func(t *testing.T) {
		c := clocktest.New(testEpoch)
		cfg := newMWConfig([]MiddlewareOption{WithMiddlewareClock(c), WithDedupCapacity(64)})
		s := newMWDedup(time.Hour, &cfg)
		for i := range 10_000 {
			require.NoError(t, s.handle(ctx, mwTestDelivery(fmt.Sprint(i)), ok), "handle")
		}
		keys, queued := mwDedupSize(s)
		assert.LessOrEqual(t, keys, 64, "keys")
		assert.LessOrEqual(t, queued, 64, "queued keys")
		for i := range s.shards {
			assert.LessOrEqual(t, cap(s.shards[i].fifo), 256, "queue storage stays small")
		}
		// The newest key is remembered; the oldest was forgotten.
		calls := 0
		count := HandlerFunc(func(context.Context, Delivery) error { calls++; return nil })
		require.NoError(t, s.handle(ctx, mwTestDelivery("9999"), count), "newest")
		require.NoError(t, s.handle(ctx, mwTestDelivery("0"), count), "oldest")
		assert.Equal(t, 1, calls, "only the oldest runs again")
	})
	t.Run("re-remembered key", func(t *testing.T) {
		// A key handled, expired and handled again leaves a stale queue item
		// behind; dropping it must not forget the new entry.
		c := clocktest.New(testEpoch)
		cfg := newMWConfig([]MiddlewareOption{WithMiddlewareClock(c)})
		s := newMWDedup(time.Minute, &cfg)
		require.NoError(t, s.handle(ctx, mwTestDelivery("k"), ok), "first")
		c.Advance(time.Minute)
		calls := 0
		count := HandlerFunc(func(context.Context, Delivery) error { calls++; return nil })
		require.NoError(t, s.handle(ctx, mwTestDelivery("k"), count), "again")
		c.Advance(30 * time.Second)
		require.NoError(t, s.handle(ctx, mwTestDelivery("k"), count), "duplicate")
		assert.Equal(t, 1, calls, "remembered again")
	})
	t.Run("zero ttl remembers nothing", func(t *testing.T) {
		cfg := newMWConfig(nil)
		s := newMWDedup(0, &cfg)
		calls := 0
		count := HandlerFunc(func(context.Context, Delivery) error { calls++; return nil })
		for range 3 {
			require.NoError(t, s.handle(ctx, mwTestDelivery("k"), count), "handle")
		}
		assert.Equal(t, 3, calls, "every call runs")
		keys, queued := mwDedupSize(s)
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
			return errMWTest
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
				d := mwTestDelivery(fmt.Sprint((i * (w + 1)) % ids))
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
