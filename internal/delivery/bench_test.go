package delivery

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// payload is what the benchmarks deliver: about the size of a router's item
// (an id, a time, a payload slice).
type payload struct {
	id   string
	at   time.Time
	body []byte
}

// BenchmarkFanout publishes b.N events, each to every one of n
// destinations (1, 16, 256 and 1,000), and waits until all are handled.
// Compare "engine" with "channel", the floor: one buffered channel (of the
// engine's default size) and one goroutine per destination that calls the
// same handler, no retries, no stats, no scaling. The engine runs with its
// defaults (retry policy on, stats on, up to 4×GOMAXPROCS workers), and
// with one worker per destination ("concurrency-1", the floor's shape).
// Items are enqueued as the routers do: with EnqueueFrom and the event's
// Origin.
//
//	go test -run '^$' -bench Fanout -benchtime 200000x -count 5 ./internal/delivery
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 16, 256, 1000} {
		b.Run(fmt.Sprintf("dests=%d/engine", n), func(b *testing.B) { benchEngine(b, n, 0) })
		b.Run(fmt.Sprintf("dests=%d/engine-concurrency-1", n), func(b *testing.B) { benchEngine(b, n, 1) })
		b.Run(fmt.Sprintf("dests=%d/channel", n), func(b *testing.B) { benchChannels(b, n) })
	}
}

func report(b *testing.B, n int, elapsed time.Duration, allocs uint64) {
	deliveries := float64(b.N) * float64(n)
	b.ReportMetric(deliveries/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(allocs)/deliveries, "allocs/delivery")
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

func benchEngine(b *testing.B, n, concurrency int) {
	e := New(Config{})
	counts := make([]atomic.Int64, n)
	ds := make([]*Destination[payload], n)
	for i := range ds {
		ds[i] = NewDestination(e, Options[payload]{
			MaxConcurrency: concurrency,
			Deliver: func(ctx context.Context, p payload, attempt int) error {
				counts[i].Add(1)
				return nil
			},
		})
	}
	body := make([]byte, 200)
	ctx := context.Background()
	at := time.Now()
	m0 := mallocs()
	b.ResetTimer()
	for i := range b.N {
		p := payload{id: "id", at: at, body: body[:100+i%100]}
		o := e.Origin(ctx, p.at) // once per event, as a router does
		for _, d := range ds {
			if err := d.EnqueueFrom(ctx, p, o); err != nil {
				b.Fatal(err)
			}
		}
	}
	require.NoError(b, e.Drain(ctx))
	b.StopTimer()
	report(b, n, b.Elapsed(), mallocs()-m0)
	for i := range counts {
		require.Equal(b, int64(b.N), counts[i].Load(), "destination %d's deliveries", i)
	}
	require.NoError(b, e.Close(ctx))
}

func benchChannels(b *testing.B, n int) {
	counts := make([]atomic.Int64, n)
	chans := make([]chan payload, n)
	// The same handler as the engine's, called through a func value.
	handlers := make([]func(ctx context.Context, p payload, attempt int) error, n)
	var wg sync.WaitGroup
	for i := range chans {
		chans[i] = make(chan payload, DefaultQueueSize)
		handlers[i] = func(ctx context.Context, p payload, attempt int) error {
			counts[i].Add(1)
			return nil
		}
		wg.Go(func() {
			ctx := context.Background()
			for p := range chans[i] {
				_ = handlers[i](ctx, p, 1)
			}
		})
	}
	body := make([]byte, 200)
	at := time.Now()
	m0 := mallocs()
	b.ResetTimer()
	for i := range b.N {
		p := payload{id: "id", at: at, body: body[:100+i%100]}
		for _, ch := range chans {
			ch <- p
		}
	}
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
	b.StopTimer()
	report(b, n, b.Elapsed(), mallocs()-m0)
	for i := range counts {
		require.Equal(b, int64(b.N), counts[i].Load(), "channel %d's deliveries", i)
	}
}
