package edatest

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In a testing/synctest bubble the Bus runs on its real clock, whose time
// is the bubble's: retries with seconds of backoff and a flow test of the
// kit take no real time, as an alternative to the fake Clock.
func TestInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		dead := NewRecorder()
		bus := NewBus(t, eda.WithDeadLetter(dead),
			eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}))
		rec := NewRecorder()
		putRule(t, bus, rec.Wrap(eda.HandlerFunc(func(_ context.Context, d eda.Delivery) error {
			if d.Attempt < 3 {
				return errors.New("not yet")
			}
			return eda.Permanent(errors.New("no"))
		})))
		put(t, bus, `{"n":1}`)
		Settle(t, bus)
		require.Equal(t, 3, rec.Len())
		AssertDeliveredN(t, dead, `{"detail": {"n": [1]}}`, 1)
		assert.LessOrEqual(t, time.Since(start), 20*time.Second, "the bubble's time moved through the backoffs, at most 10 s each")
	})
}
