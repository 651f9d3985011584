package eda

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoRetries: NoRetries is a single attempt, where the zero RetryPolicy
// is the default of 185.
func TestNoRetries(t *testing.T) {
	assert.Equal(t, RetryPolicy{MaxAttempts: 1}, NoRetries())
	assert.Equal(t, 1, normalizedRetryPolicy(NoRetries()).MaxAttempts)
	assert.Equal(t, 185, normalizedRetryPolicy(RetryPolicy{}).MaxAttempts, "the zero value is the default, not zero retries")
	assert.Equal(t, 185, normalizedRetryPolicy(RetryPolicy{MaxAge: time.Hour}).MaxAttempts, "a policy that sets only MaxAge keeps the default attempts")
}

// TestNoRetriesMakesOneAttempt: with NoRetries, as a target's policy or as
// the bus's, a failing handler is called once and the event is
// dead-lettered with reason max-attempts after 1 attempt; with the zero
// policy, the same handler is retried. The clock fires retries at once, so
// a retry would show, not wait.
func TestNoRetriesMakesOneAttempt(t *testing.T) {
	for _, tc := range []struct {
		name         string
		busPolicy    []Option
		targetPolicy []Option
		wantAttempts int64
	}{
		{"target NoRetries", nil, []Option{WithRetryPolicy(NoRetries())}, 1},
		{"bus NoRetries", []Option{WithRetryPolicy(NoRetries())}, nil, 1},
		{"zero policy", nil, []Option{WithRetryPolicy(RetryPolicy{})}, 185},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int64
			letters := make(chan DeadLetter, 1)
			opts := append([]Option{
				WithClock(clocktest.NewInstant(testEpoch)),
				WithDeadLetter(DeadLetterFunc(func(ctx context.Context, dl DeadLetter) { letters <- dl })),
			}, tc.busPolicy...)
			bus, err := NewBus("orders", opts...)
			require.NoError(t, err)
			defer func() { require.NoError(t, bus.Close(context.Background())) }()
			fail := HandlerFunc(func(ctx context.Context, d Delivery) error {
				attempts.Add(1)
				return errors.New("unavailable")
			})
			require.NoError(t, bus.PutRule(Rule{Name: "all", EventPattern: `{"source": ["shop"]}`,
				Targets: []Target{HandlerTarget("fail", fail, tc.targetPolicy...)}}))
			res, err := bus.PutEvents(context.Background(), Event{Source: "shop", DetailType: "x", Detail: json.RawMessage(`{}`)})
			require.NoError(t, err)
			require.NoError(t, res.Err())
			select {
			case dl := <-letters:
				assert.Equal(t, ReasonMaxAttempts, dl.Reason)
				assert.EqualValues(t, tc.wantAttempts, dl.Attempts)
			case <-time.After(10 * time.Second):
				require.Fail(t, "no dead letter")
			}
			assert.Equal(t, tc.wantAttempts, attempts.Load())
		})
	}
}

// TestNoRetriesInRetryMiddleware: Retry(NoRetries()) calls the handler once.
func TestNoRetriesInRetryMiddleware(t *testing.T) {
	calls := 0
	h := Retry(NoRetries())(HandlerFunc(func(ctx context.Context, d Delivery) error {
		calls++
		return errors.New("unavailable")
	}))
	err := h.Handle(context.Background(), Delivery{ID: "1"})
	var re *RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 1, re.Attempts)
	assert.Equal(t, 1, calls)
}
