package eda

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/logtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A batch handler that calls runtime.Goexit fails every delivery of its
// batch, like a panic: the other callers waiting for the batch get an
// error instead of waiting forever (only the goroutine that ran the batch
// ends).
func TestBatchGoexitFailsTheBatch(t *testing.T) {
	h := Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error {
		runtime.Goexit()
		return nil
	}), BatchOptions{Size: 2, Clock: clocktest.New(testEpoch)})
	type outcome struct {
		err    error
		exited bool // the call ended the goroutine
	}
	results := make(chan outcome, 2)
	for i := range 2 {
		go func() {
			normal := false
			defer func() {
				if !normal {
					results <- outcome{exited: true}
				}
			}()
			err := h.Handle(context.Background(), Delivery{ID: string(rune('a' + i))})
			normal = true
			results <- outcome{err: err}
		}()
	}
	var exited, failed int
	for range 2 {
		select {
		case r := <-results:
			if r.exited {
				exited++
			} else {
				require.Error(t, r.err)
				assert.Contains(t, r.err.Error(), "runtime.Goexit")
				failed++
			}
		case <-time.After(5 * time.Second):
			require.Fail(t, "a caller of the batch is still waiting")
		}
	}
	assert.Equal(t, 1, exited, "the goroutine that ran the batch")
	assert.Equal(t, 1, failed)
}

// WithFailureLogLevel sets the level of the records of failed attempts.
func TestWithFailureLogLevel(t *testing.T) {
	log := &logtest.Recorder{}
	b := newTestBus(t, "logs", WithLogger(slog.New(log)), WithFailureLogLevel(slog.LevelInfo),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 1}), WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) {})))
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("t", HandlerFunc(func(context.Context, Delivery) error { return errors.New("db down") }))}})
	_, err := b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.Drain(ctx))
	logged := log.WithMessage("eda: delivery attempt failed")
	require.Len(t, logged, 1)
	assert.Equal(t, slog.LevelInfo, logged[0].Level)
}

// Bus.Drain's error at its deadline is a *DrainError naming the target
// that holds the event and its last error; Bus.Close's is a *ShutdownError
// with the same list.
func TestBusDrainAndCloseErrorsNameTheTargets(t *testing.T) {
	clock := clocktest.New(testEpoch)
	b, err := NewBus("orders", WithClock(clock), WithRetryPolicy(RetryPolicy{MinBackoff: time.Hour, MaxBackoff: time.Hour}),
		WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) {})))
	require.NoError(t, err)
	mustPutRule(t, b, Rule{Name: "placed", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("store", HandlerFunc(func(context.Context, Delivery) error { return errors.New("db down") }))}})
	_, err = b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	require.True(t, clock.WaitForTimers(1, 5*time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = b.Drain(ctx)
	var de *DrainError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, de.Destinations, 1)
	assert.Equal(t, "orders/placed/store", de.Destinations[0].Destination)
	assert.EqualValues(t, 1, de.Destinations[0].InFlight)
	assert.EqualError(t, de.Destinations[0].LastErr, "db down")
	assert.Equal(t, "eda: drain: 1 item in flight (orders/placed/store: 1, last error: db down): context deadline exceeded", err.Error())

	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	err = b.Close(cctx)
	var se *ShutdownError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, se.DeadLettered)
	assert.Equal(t, de.Destinations, se.Destinations)
	assert.Equal(t, "eda: close: 1 item dead-lettered at shutdown (orders/placed/store: 1, last error: db down): context canceled", err.Error())
}

// Close and Drain called with a handler's context return ErrInHandler at
// once, and the bus stays open.
func TestBusCloseFromAHandlerReturnsAtOnce(t *testing.T) {
	b := newTestBus(t, "reentrant")
	errs := make(chan [2]error, 1)
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("t", HandlerFunc(func(ctx context.Context, d Delivery) error {
			if d.Attempt == 1 && string(d.Payload) != "" {
				select {
				case errs <- [2]error{b.Close(ctx), b.Drain(ctx)}:
				default:
				}
			}
			return nil
		}))}})
	_, err := b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	var got [2]error
	select {
	case got = <-errs:
	case <-time.After(5 * time.Second):
		require.Fail(t, "Close from a handler did not return")
	}
	assert.ErrorIs(t, got[0], ErrInHandler)
	assert.ErrorIs(t, got[1], ErrInHandler)
	_, err = b.PutEvents(context.Background(), orderEvent(2, 1))
	assert.NoError(t, err, "the bus is still open")
}

// A target's dead-letter handler that panics is counted in
// InvocationsFailedToBeSentToDlq.
func TestInvocationsFailedToBeSentToDlq(t *testing.T) {
	b := newTestBus(t, "dlq", WithLogger(slog.New(&logtest.Recorder{})))
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("t", HandlerFunc(func(context.Context, Delivery) error { return Permanent(errors.New("bad")) }),
			WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) { panic("sink down") })))}})
	_, err := b.PutEvents(context.Background(), orderEvent(1, 1), orderEvent(2, 1))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.Drain(ctx))
	ts, ok := b.Stats().Rules[0].Target("t")
	require.True(t, ok)
	assert.EqualValues(t, 2, ts.DeadLetterInvocations)
	assert.EqualValues(t, 2, ts.InvocationsFailedToBeSentToDlq)
	assert.EqualValues(t, 2, ts.Delivery.DeadLetterFailed)
}

// A target's retry policy's MaxAge counts from the event's acceptance by
// PutEvents, on the bus's Clock, for every event: events that waited past
// it behind a slow delivery are dead-lettered after their first failure.
func TestBusMaxAgeCountsFromAcceptance(t *testing.T) {
	clock := clocktest.New(testEpoch)
	var mu sync.Mutex
	dls := map[string]DeadLetter{}
	b := newTestBus(t, "age", WithClock(clock), WithMaxConcurrency(1),
		WithRetryPolicy(RetryPolicy{MaxAge: 200 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		WithDeadLetter(DeadLetterFunc(func(_ context.Context, dl DeadLetter) {
			mu.Lock()
			dls[dl.Delivery.ID] = dl
			mu.Unlock()
		})))
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("slow", HandlerFunc(func(ctx context.Context, d Delivery) error {
			once.Do(func() {
				close(started)
				<-release
			})
			return errors.New("down")
		}))}})
	res, err := b.PutEvents(context.Background(), orderEvent(1, 1), orderEvent(2, 1), orderEvent(3, 1), orderEvent(4, 1))
	require.NoError(t, err)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		require.Fail(t, "no delivery")
	}
	clock.Advance(350 * time.Millisecond)
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.Drain(ctx))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, dls, 4)
	for _, r := range res.Entries {
		dl := dls[r.EventID]
		assert.Equal(t, ReasonMaxAge, dl.Reason, r.EventID)
		assert.Equal(t, 1, dl.Attempts, r.EventID)
	}
}
