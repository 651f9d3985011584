package eda

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/delivery"
	"github.com/stretchr/testify/require"
)

// BenchmarkTimeoutDelivery measures what Timeout adds to a whole delivery
// through the engine (queue, worker, handler call, stats), against the same
// delivery without it. The issue-9 target: at most 1.5× the plain delivery.
//
//	go test -run '^$' -bench TimeoutDelivery -benchmem -count 5 .
func BenchmarkTimeoutDelivery(b *testing.B) {
	for _, c := range []struct {
		name string
		mw   Middleware
	}{{"none", Chain()}, {"Timeout", Timeout(time.Minute)}} {
		b.Run(c.name, func(b *testing.B) {
			e := newEngine(nil, nil)
			var count atomic.Int64
			h := c.mw(HandlerFunc(func(ctx context.Context, d Delivery) error {
				count.Add(1)
				return nil
			}))
			d := newDestination(e, destinationConfig[message]{Router: "bench", Name: "t", Handler: h, Fill: fillMessage})
			m := message{ID: "id", Time: testEpoch, Kind: PayloadMessage, Payload: make([]byte, 200)}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := d.Enqueue(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
			require.NoError(b, e.Drain(ctx))
			b.StopTimer()
			require.NoError(b, e.Close(ctx))
		})
	}
}

var _ = delivery.ErrClosed
