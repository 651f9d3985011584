package eda

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/delivery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func closeEngine(t *testing.T, e *delivery.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.Close(ctx))
}

func drainEngine(t *testing.T, e *delivery.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.Drain(ctx))
}

// recordDeadLetters collects dead letters.
type recordDeadLetters struct {
	mu  sync.Mutex
	dls []DeadLetter
}

func (r *recordDeadLetters) HandleDeadLetter(ctx context.Context, dl DeadLetter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dls = append(r.dls, dl)
}

func (r *recordDeadLetters) all() []DeadLetter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]DeadLetter(nil), r.dls...)
}

func TestDestinationBuildsTheDelivery(t *testing.T) {
	e := newEngine(clocktest.NewInstant(testEpoch), nil)
	defer closeEngine(t, e)
	got := make(chan Delivery, 2)
	d := newDestination(e, destinationConfig[message]{
		Router: "orders-topic", Name: "billing",
		Handler: HandlerFunc(func(ctx context.Context, d Delivery) error {
			got <- d
			if d.Attempt == 1 {
				return errors.New("try again")
			}
			return nil
		}),
		Fill: fillMessage,
	})
	attrs := map[string]Attribute{"tier": {DataType: "String", StringValue: "gold"}}
	m := message{ID: "m-1", Time: testEpoch, Kind: PayloadMessage, Payload: []byte("hello"), Attributes: attrs, GroupID: "g"}
	require.NoError(t, d.Enqueue(context.Background(), m))
	drainEngine(t, e)
	first, second := <-got, <-got
	want := Delivery{ID: "m-1", Router: "orders-topic", Destination: "billing", Attempt: 1, Time: testEpoch,
		Kind: PayloadMessage, Payload: []byte("hello"), Attributes: attrs, GroupID: "g"}
	assert.Equal(t, want, first)
	want.Attempt = 2
	assert.Equal(t, want, second)
	s := deliveryStatsOf(d.Stats())
	assert.EqualValues(t, 1, s.Delivered)
	assert.EqualValues(t, 1, s.Retries)
	assert.EqualValues(t, 1, s.Failed)
}

func TestDestinationDeadLetters(t *testing.T) {
	e := newEngine(clocktest.NewInstant(testEpoch), nil)
	defer closeEngine(t, e)
	var rec recordDeadLetters
	d := newDestination(e, destinationConfig[message]{
		Router: "bus", Rule: "r", Name: "t",
		Retry: RetryPolicy{MaxAttempts: 2},
		Handler: HandlerFunc(func(ctx context.Context, d Delivery) error {
			switch d.ID {
			case "panic":
				panic("boom")
			case "permanent":
				return Permanent(errors.New("invalid"))
			}
			return errors.New("down")
		}),
		Fill:       fillMessage,
		DeadLetter: &rec,
	})
	for _, id := range []string{"panic", "permanent", "down"} {
		require.NoError(t, d.Enqueue(context.Background(), message{ID: id, Kind: PayloadMessage}))
	}
	drainEngine(t, e)
	byID := map[string]DeadLetter{}
	for _, dl := range rec.all() {
		byID[dl.Delivery.ID] = dl
	}
	require.Len(t, byID, 3)

	p := byID["panic"]
	assert.Equal(t, ReasonMaxAttempts, p.Reason)
	assert.Equal(t, 2, p.Attempts)
	var pe *PanicError
	require.ErrorAs(t, p.Err, &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.NotEmpty(t, pe.Stack)
	assert.Equal(t, "bus", p.Delivery.Router)
	assert.Equal(t, "r", p.Delivery.Rule)
	assert.Equal(t, "t", p.Delivery.Destination)
	assert.Equal(t, 2, p.Delivery.Attempt)

	assert.Equal(t, ReasonPermanent, byID["permanent"].Reason)
	assert.Equal(t, 1, byID["permanent"].Attempts)
	assert.True(t, IsPermanent(byID["permanent"].Err))

	assert.Equal(t, ReasonMaxAttempts, byID["down"].Reason)
	assert.EqualError(t, byID["down"].Err, "down")
	assert.EqualValues(t, 3, d.Stats().DeadLettered)
}

// inputItem is a test item whose destination delivers an input computed
// from an original event, as a Bus target with an input transformation.
type inputItem struct {
	id  string
	raw []byte
}

type fillCtxKey struct{}

func TestDestinationDeadLetterCarriesTheEvent(t *testing.T) {
	e := newEngine(clocktest.NewInstant(testEpoch), nil)
	defer closeEngine(t, e)
	var rec recordDeadLetters
	ctxIDs := map[string]any{}
	var ctxMu sync.Mutex
	d := newDestination(e, destinationConfig[inputItem]{
		Router: "bus", Rule: "r", Name: "t",
		Retry: RetryPolicy{MaxAttempts: 2},
		Handler: HandlerFunc(func(ctx context.Context, d Delivery) error {
			return errors.New("down")
		}),
		Fill: func(ctx context.Context, it inputItem, d Delivery) (context.Context, Delivery, error) {
			ctx = context.WithValue(ctx, fillCtxKey{}, it.id)
			switch it.id {
			case "bad-input":
				// The input cannot be computed: ID and Time are set, no payload.
				d.ID, d.Time, d.Kind = it.id, testEpoch, PayloadInput
				return ctx, d, Permanent(errors.New("cannot transform"))
			case "drops-fields":
				// A careless Fill that returns a Delivery of its own.
				return ctx, Delivery{ID: it.id}, Permanent(errors.New("careless"))
			}
			d.ID, d.Time, d.Kind, d.Payload = it.id, testEpoch, PayloadInput, []byte(`"input of `+it.id+`"`)
			return ctx, d, nil
		},
		Event: func(it inputItem) []byte { return it.raw },
		DeadLetter: DeadLetterFunc(func(ctx context.Context, dl DeadLetter) {
			ctxMu.Lock()
			ctxIDs[dl.Delivery.ID] = ctx.Value(fillCtxKey{})
			ctxMu.Unlock()
			rec.HandleDeadLetter(ctx, dl)
		}),
	})
	for _, id := range []string{"transformed", "bad-input", "drops-fields"} {
		require.NoError(t, d.Enqueue(context.Background(), inputItem{id: id, raw: []byte(`{"id":"` + id + `"}`)}))
	}
	drainEngine(t, e)
	byID := map[string]DeadLetter{}
	for _, dl := range rec.all() {
		byID[dl.Delivery.ID] = dl
	}
	require.Len(t, byID, 3)

	tr := byID["transformed"]
	assert.Equal(t, ReasonMaxAttempts, tr.Reason)
	assert.Equal(t, `"input of transformed"`, string(tr.Delivery.Payload), "the delivery as attempted")
	assert.Equal(t, `{"id":"transformed"}`, string(tr.Event), "the original event")

	bad := byID["bad-input"]
	assert.Equal(t, ReasonPermanent, bad.Reason)
	assert.Equal(t, 1, bad.Attempts)
	assert.EqualError(t, bad.Err, "cannot transform")
	assert.Equal(t, Delivery{ID: "bad-input", Router: "bus", Rule: "r", Destination: "t", Attempt: 1, Time: testEpoch, Kind: PayloadInput}, bad.Delivery)
	assert.Equal(t, `{"id":"bad-input"}`, string(bad.Event))

	careless := byID["drops-fields"]
	assert.Equal(t, Delivery{ID: "drops-fields", Router: "bus", Rule: "r", Destination: "t", Attempt: 1}, careless.Delivery,
		"the destination's constant fields survive a Fill that drops them")
	assert.Equal(t, `{"id":"drops-fields"}`, string(careless.Event))

	ctxMu.Lock()
	defer ctxMu.Unlock()
	for id, got := range ctxIDs {
		assert.Equal(t, id, got, "the dead-letter handler gets Fill's context")
	}
	assert.EqualValues(t, 3, d.Stats().DeadLettered)
}

func TestDestinationDeadLetterEventDefaultsToPayload(t *testing.T) {
	e := newEngine(clocktest.NewInstant(testEpoch), nil)
	defer closeEngine(t, e)
	var rec recordDeadLetters
	d := newDestination(e, destinationConfig[message]{
		Router: "topic", Name: "s",
		Handler:    HandlerFunc(func(context.Context, Delivery) error { return Permanent(errors.New("no")) }),
		Fill:       fillMessage,
		DeadLetter: &rec,
	})
	require.NoError(t, d.Enqueue(context.Background(), message{ID: "m", Kind: PayloadMessage, Payload: []byte("body")}))
	drainEngine(t, e)
	dls := rec.all()
	require.Len(t, dls, 1)
	assert.Equal(t, "body", string(dls[0].Event))
	assert.Equal(t, "body", string(dls[0].Delivery.Payload))
}

func TestDestinationDefaultDeadLetterLogs(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	e := newEngine(nil, logger)
	defer closeEngine(t, e)
	d := newDestination(e, destinationConfig[message]{
		Router: "bus", Rule: "r", Name: "t", Logger: logger,
		Handler: HandlerFunc(func(context.Context, Delivery) error { return Permanent(errors.New("nope")) }),
		Fill:    fillMessage,
	})
	require.NoError(t, d.Enqueue(context.Background(), message{ID: "e-9"}))
	drainEngine(t, e)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{"eda: dead letter", "id=e-9", "router=bus", "rule=r", "destination=t", "reason=permanent-error", "attempts=1", "error=nope"} {
		assert.Contains(t, out, want)
	}
	assert.EqualValues(t, 1, d.Stats().DeadLettered, "counted too")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestDestinationShutdownErrorIsPublic(t *testing.T) {
	e := newEngine(nil, nil)
	var rec recordDeadLetters
	release := make(chan struct{})
	d := newDestination(e, destinationConfig[message]{
		Name:           "slow",
		MaxConcurrency: 1,
		Handler: HandlerFunc(func(ctx context.Context, d Delivery) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}),
		Fill:       fillMessage,
		DeadLetter: &rec,
	})
	for range 5 {
		require.NoError(t, d.Enqueue(context.Background(), message{ID: "x"}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := engineClose(ctx, e, nil)
	close(release)
	var se *ShutdownError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 5, se.DeadLettered)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	for _, dl := range rec.all() {
		assert.Equal(t, ReasonShutdown, dl.Reason)
	}
	assert.ErrorIs(t, d.Enqueue(context.Background(), message{}), ErrClosed)
}

func TestDestinationCascadeWithHandlerContext(t *testing.T) {
	e := newEngine(nil, nil)
	defer closeEngine(t, e)
	var leaf atomic.Int32
	sink := newDestination(e, destinationConfig[message]{
		Name: "sink", MaxConcurrency: 1, QueueSize: 1,
		Handler: HandlerFunc(func(context.Context, Delivery) error {
			leaf.Add(1)
			time.Sleep(100 * time.Microsecond)
			return nil
		}),
		Fill: fillMessage,
	})
	src := newDestination(e, destinationConfig[message]{
		Name: "src", MaxConcurrency: 1, QueueSize: 1,
		Handler: HandlerFunc(func(ctx context.Context, d Delivery) error {
			for range 50 { // far more than the sink's queue holds
				if err := sink.Enqueue(ctx, message{ID: d.ID}); err != nil {
					return err
				}
			}
			return nil
		}),
		Fill: fillMessage,
	})
	for range 4 {
		require.NoError(t, src.Enqueue(context.Background(), message{ID: "c"}))
	}
	drainEngine(t, e)
	assert.EqualValues(t, 200, leaf.Load())
}

func TestDestinationDeliveryDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	e := newEngine(nil, nil)
	defer closeEngine(t, e)
	var n atomic.Int64
	d := newDestination(e, destinationConfig[message]{
		Router: "r", Name: "d",
		Handler: HandlerFunc(func(ctx context.Context, d Delivery) error {
			n.Add(int64(len(d.Payload)))
			return nil
		}),
		Fill: fillMessage,
	})
	payload := []byte(`{"a":1}`)
	m := message{ID: "id", Time: testEpoch, Kind: PayloadMessage, Payload: payload}
	// Warm up: workers started, histogram touched.
	for range 1000 {
		require.NoError(t, d.Enqueue(context.Background(), m))
	}
	drainEngine(t, e)
	const deliveries = 20000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range deliveries {
		require.NoError(t, d.Enqueue(context.Background(), m))
	}
	drainEngine(t, e)
	runtime.ReadMemStats(&after)
	perDelivery := float64(after.Mallocs-before.Mallocs) / deliveries
	assert.Less(t, perDelivery, 0.05, "allocations per delivery")
}

// BenchmarkDestinationDelivery measures the whole consumer path of a
// destination — queue, worker, Delivery built per attempt, Handler call,
// retry policy and stats on — for one event fanned out to n destinations.
//
//	go test -run '^$' -bench DestinationDelivery -benchmem .
func BenchmarkDestinationDelivery(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("dests=%d", n), func(b *testing.B) {
			e := newEngine(nil, nil)
			var count atomic.Int64
			h := HandlerFunc(func(ctx context.Context, d Delivery) error {
				count.Add(1)
				return nil
			})
			ds := make([]*delivery.Destination[message], n)
			for i := range ds {
				ds[i] = newDestination(e, destinationConfig[message]{Router: "bench", Name: fmt.Sprint(i), Handler: h, Fill: fillMessage})
			}
			m := message{ID: "id", Time: testEpoch, Kind: PayloadMessage, Payload: make([]byte, 200)}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				for _, d := range ds {
					if err := d.Enqueue(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
			}
			require.NoError(b, e.Drain(ctx))
			b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "deliveries/s")
			b.StopTimer()
			require.Equal(b, int64(b.N*n), count.Load(), "delivered")
			require.NoError(b, e.Close(ctx))
		})
	}
}
