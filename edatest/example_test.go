package edatest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/edakit/eda"
	"github.com/edakit/eda/edatest"
	"github.com/stretchr/testify/require"
)

// ordersAPI is the code under test's HTTP ingress: POST /orders puts an
// OrderPlaced event with the request body as its detail.
func ordersAPI(bus *eda.Bus) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		res, err := bus.PutEvents(r.Context(), eda.Event{Source: "shop", DetailType: "OrderPlaced", Detail: body})
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// fraudCheck is the code under test's handler: it refuses poison orders
// for good, fails the first attempt at big orders (its fraud service is
// slow to wake), and puts an OrderChecked event for the others.
func fraudCheck(bus *eda.Bus) eda.Handler {
	return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		var o struct {
			ID    string
			Total int
		}
		if err := d.Decode(&o); err != nil || o.ID == "poison" {
			return eda.Permanent(errors.New("poison order"))
		}
		if o.Total > 1000 && d.Attempt == 1 {
			return errors.New("fraud service busy")
		}
		detail, _ := json.Marshal(map[string]any{"id": o.ID, "approved": true})
		_, err := bus.PutEvents(ctx, eda.Event{Source: "fraud", DetailType: "OrderChecked", Detail: detail})
		return err
	})
}

// A complete flow test: orders come in over HTTP, a fraud check retries
// once on the fake clock and cascades an OrderChecked event to a
// notifier, and the poison order ends in the dead letters. No sleep, no
// channel, no timeout.
func Example() {
	t := newT() // in a test, the *testing.T
	defer t.finish()

	clk := edatest.NewClock(time.Now())
	bus := edatest.NewBus(t, eda.WithClock(clk))
	notified, dead := edatest.NewRecorder(), edatest.NewRecorder()
	require.NoError(t, bus.PutRule(eda.Rule{Name: "check", EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets: []eda.Target{eda.HandlerTarget("fraud", fraudCheck(bus), eda.WithDeadLetter(dead))}}))
	require.NoError(t, bus.PutRule(eda.Rule{Name: "notify", EventPattern: `{"detail-type": ["OrderChecked"]}`,
		Targets: []eda.Target{eda.HandlerTarget("mail", notified)}}))
	api := httptest.NewServer(ordersAPI(bus))
	defer api.Close()

	for _, order := range []string{`{"id":"o-1","total":25}`, `{"id":"o-2","total":4200}`, `{"id":"poison"}`} {
		res, err := http.Post(api.URL, "application/json", strings.NewReader(order))
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		res.Body.Close()
	}
	clk.Settle(t, time.Hour, bus) // runs the retry's backoff on the fake clock

	edatest.AssertDeliveredN(t, notified, `{"detail": {"approved": [true]}}`, 2)
	edatest.AssertDelivered(t, notified, `{"detail": {"id": ["o-2"]}}`)
	edatest.AssertDeliveredN(t, dead, `{"detail": {"id": ["poison"]}}`, 1)
	fmt.Println(notified.Len(), "notified,", dead.Len(), "dead letter")
	// Output: 2 notified, 1 dead letter
}

// A retry waits for the clock: WaitForTimers returns once the backoff is
// scheduled, and Advance runs it.
func ExampleClock() {
	t := newT()
	defer t.finish()

	clk := edatest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	bus := edatest.NewBus(t, eda.WithClock(clk), eda.WithRetryPolicy(eda.RetryPolicy{MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	attempts := edatest.NewRecorder()
	flaky := eda.HandlerFunc(func(_ context.Context, d eda.Delivery) error {
		if d.Attempt == 1 {
			return errors.New("not yet")
		}
		return nil
	})
	require.NoError(t, bus.PutRule(eda.Rule{Name: "r", EventPattern: `{"source": ["app"]}`,
		Targets: []eda.Target{eda.HandlerTarget("t", attempts.Wrap(flaky))}}))
	_, err := bus.PutEvents(context.Background(), eda.Event{Source: "app", DetailType: "Ping", Detail: []byte(`{}`)})
	require.NoError(t, err)

	attempts.WaitFor(t, 1)
	clk.WaitForTimers(t, 1)
	fmt.Println("after the first attempt:", attempts.Len())
	clk.Advance(time.Hour)
	attempts.WaitFor(t, 2)
	last, _ := attempts.Last()
	fmt.Println("after an hour:", attempts.Len(), "attempts, the last one's error:", last.Err)
	// Output:
	// after the first attempt: 1
	// after an hour: 2 attempts, the last one's error: <nil>
}

// WaitUntil waits for a matching delivery, on a topic here.
func ExampleRecorder_WaitUntil() {
	t := newT()
	defer t.finish()

	topic := edatest.NewTopic(t, "orders")
	billing := edatest.NewRecorder()
	_, err := topic.Subscribe("billing", billing, eda.WithRawDelivery())
	require.NoError(t, err)
	for _, body := range []string{`{"id":"o-1"}`, `{"id":"o-2"}`} {
		_, err := topic.Publish(context.Background(), eda.Message{Body: []byte(body)})
		require.NoError(t, err)
	}
	rec, _ := billing.WaitUntil(t, `{"id": ["o-2"]}`)
	fmt.Printf("%s to %s\n", rec.Delivery.Payload, rec.Delivery.Destination)
	// Output: {"id":"o-2"} to billing
}
