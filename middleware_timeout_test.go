package eda

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimeoutContext checks the context Timeout gives a handler against the
// context package's contract, on each path: the handler that never asks for
// Done (Err reads the clock), the one that waits on Done (timer), the
// caller's cancellation, the caller's earlier deadline, children derived
// from it, context.Cause, and a context kept after the handler returned.
func TestTimeoutContext(t *testing.T) {
	leaktest.Test(t)
	d := testDelivery("1")
	type key struct{}

	t.Run("Err alone notices the deadline", func(t *testing.T) {
		var sawDone bool
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error {
			for ctx.Err() == nil { // never calls Done
				runtime.Gosched()
			}
			sawDone = true
			return ctx.Err()
		})
		err := Timeout(time.Millisecond)(h).Handle(context.Background(), d)
		require.True(t, sawDone)
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("Done after Err saw the deadline is closed", func(t *testing.T) {
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error {
			for ctx.Err() == nil {
				runtime.Gosched()
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			default:
				return errors.New("Err is set but Done is open")
			}
		})
		err := Timeout(time.Millisecond)(h).Handle(context.Background(), d)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotContains(t, err.Error(), "Done is open")
	})
	t.Run("Cause and children", func(t *testing.T) {
		var cause, childErr error
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error {
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			<-child.Done()
			cause, childErr = context.Cause(ctx), child.Err()
			return ctx.Err()
		})
		// The parent is a cancellable context, as the engine's is.
		parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
		defer cancel()
		err := Timeout(time.Millisecond)(h).Handle(parent, d)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, context.DeadlineExceeded, cause, "Cause of a timed-out context")
		assert.Equal(t, context.DeadlineExceeded, childErr, "a child ends with its parent")
		assert.NoError(t, parent.Err(), "the caller's context is untouched")
	})
	t.Run("values and deadline", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Hour)
		defer cancel()
		callerDeadline, _ := parent.Deadline()
		var got any
		var deadline time.Time
		start := time.Now()
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error {
			got = ctx.Value(key{})
			deadline, _ = ctx.Deadline()
			return nil
		})
		require.NoError(t, Timeout(time.Minute)(h).Handle(parent, d))
		assert.Equal(t, "v", got)
		assert.WithinRange(t, deadline, start.Add(time.Minute), time.Now().Add(time.Minute))
		require.NoError(t, Timeout(2*time.Hour)(h).Handle(parent, d))
		assert.Equal(t, callerDeadline, deadline, "the caller's earlier deadline wins")
	})
	t.Run("caller's cancellation reaches Done", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		var err error
		var wg sync.WaitGroup
		wg.Go(func() {
			err = Timeout(time.Hour)(HandlerFunc(func(ctx context.Context, _ Delivery) error {
				done := ctx.Done()
				close(started)
				<-done
				return ctx.Err()
			})).Handle(parent, d)
		})
		<-started
		cancel()
		wg.Wait()
		assert.Equal(t, context.Canceled, err, "the caller's cancellation, not a timeout")
	})
	t.Run("kept after return", func(t *testing.T) {
		var waited, idle context.Context
		h := HandlerFunc(func(ctx context.Context, _ Delivery) error { idle = ctx; return nil })
		w := HandlerFunc(func(ctx context.Context, _ Delivery) error { ctx.Done(); waited = ctx; return nil })
		require.NoError(t, Timeout(time.Hour)(h).Handle(context.Background(), d))
		require.NoError(t, Timeout(time.Hour)(w).Handle(context.Background(), d))
		for name, ctx := range map[string]context.Context{"never asked for Done": idle, "asked for Done": waited} {
			assert.Equal(t, context.Canceled, ctx.Err(), name)
			select {
			case <-ctx.Done():
			default:
				assert.Failf(t, "Done still open after the handler returned", name)
			}
		}
	})
	t.Run("many calls, each its own context", func(t *testing.T) {
		seen := map[context.Context]bool{}
		var mu sync.Mutex
		h := Timeout(time.Hour)(HandlerFunc(func(ctx context.Context, _ Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			if seen[ctx] {
				return errors.New("a context was handed out twice")
			}
			seen[ctx] = true
			return nil
		}))
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 100 {
					assert.NoError(t, h.Handle(context.Background(), d))
				}
			})
		}
		wg.Wait()
		assert.Len(t, seen, 400)
	})
}
