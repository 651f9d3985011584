package edatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewBusDefaults(t *testing.T) {
	bus := NewBus(t)
	assert.Equal(t, "default", bus.Name())
	rec := NewRecorder()
	dead := NewRecorder()
	putRule(t, bus, rec.Wrap(failTimes(100)), eda.WithDeadLetter(dead))
	put(t, bus, `{"n":1}`)
	Settle(t, bus)
	assert.Equal(t, RetryPolicy().MaxAttempts, rec.Len(), "the test-safe retry policy: few attempts, short backoff")
	require.Equal(t, 1, dead.Len())
	assert.Equal(t, eda.ReasonMaxAttempts, dead.Deliveries()[0].DeadLetter.Reason)
}

func TestNewBusOptionsOverrideDefaults(t *testing.T) {
	bus := NewBus(t, eda.WithRetryPolicy(eda.NoRetries()))
	rec := NewRecorder()
	putRule(t, bus, rec.Wrap(failTimes(100)))
	put(t, bus, `{"n":1}`)
	Settle(t, bus)
	assert.Equal(t, 1, rec.Len())
}

func TestNewRouterBadOption(t *testing.T) {
	ft := newFakeTB(t, time.Second)
	NewBus(ft, eda.WithQueueSize(-1))
	assert.Contains(t, ft.reported(), "edatest: eda: invalid option: WithQueueSize")
	ft = newFakeTB(t, time.Second)
	NewTopic(ft, "no spaces allowed")
	assert.Contains(t, ft.reported(), "edatest: ")
	assert.True(t, ft.fatal)
	ft.run()
}

func TestNewTopic(t *testing.T) {
	topic := NewTopic(t, "orders")
	rec := NewRecorder()
	_, err := topic.Subscribe("billing", rec, eda.WithRawDelivery())
	require.NoError(t, err)
	_, err = topic.Publish(context.Background(), eda.Message{Body: []byte(`{"id":"o-1","total":5}`)})
	require.NoError(t, err)
	Settle(t, topic)
	AssertDeliveredN(t, rec, `{"id": ["o-1"]}`, 1)
	last, _ := rec.Last()
	assert.Equal(t, "billing", last.Delivery.Destination)
	assert.Equal(t, []order{{"o-1", 5}}, RecordedAs[order](t, rec))
}

// Settle covers a cascade from a Topic's handler into a Bus.
func TestSettleCascade(t *testing.T) {
	bus := NewBus(t)
	topic := NewTopic(t, "orders")
	rec := NewRecorder()
	putRule(t, bus, rec)
	_, err := topic.Subscribe("forward", eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		_, err := bus.PutEvents(ctx, eda.Event{Source: "test", DetailType: "Forwarded", Detail: d.Payload})
		return err
	}), eda.WithRawDelivery())
	require.NoError(t, err)
	_, err = topic.Publish(context.Background(), eda.Message{Body: []byte(`{"id":"o-1"}`)})
	require.NoError(t, err)
	Settle(t, topic, bus)
	AssertDelivered(t, rec, `{"detail-type": ["Forwarded"], "detail": {"id": ["o-1"]}}`)
}

// The failing side: Settle names what is in flight when the deadline
// comes; the cleanup of NewBus names the destination and its last error
// of an event left in flight, and the goroutines a test leaked.
func TestSettleFailure(t *testing.T) {
	bus := NewBus(t)
	release := make(chan struct{})
	started := NewRecorder()
	putRule(t, bus, started.Wrap(eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		<-release
		return nil
	})))
	put(t, bus, `{"n":1}`)
	ft := newFakeTB(t, 100*time.Millisecond)
	assert.False(t, Settle(ft, bus))
	assert.Equal(t, "edatest: Settle: default: events still in flight at the deadline:\n  default/r/t: 1 in flight", ft.reported())
	close(release)
	Settle(t, bus)
}

func TestCleanupReportsEventsInFlight(t *testing.T) {
	ft := newFakeTB(t, 300*time.Millisecond)
	bus := NewBus(ft, eda.WithRetryPolicy(eda.RetryPolicy{MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	rec := NewRecorder()
	putRule(t, bus, rec.Wrap(eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		return errors.New("assertion failed: want 2, got 3")
	})))
	put(t, bus, `{"n":1}`)
	rec.WaitFor(t, 1)
	ft.run()
	assert.Equal(t, "edatest: closing default at the end of the test: events still in flight at the deadline:\n"+
		"  default/r/t: 1 in flight, last error: assertion failed: want 2, got 3\n"+
		"  (1 dead-lettered at shutdown, 0 abandoned in handlers)", ft.reported())
}

func TestCleanupReportsLeakedGoroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the leak check's timeout")
	}
	ft := newFakeTB(t, time.Minute)
	NewBus(ft)
	stop := make(chan struct{})
	go func() { <-stop }()
	ft.run()
	close(stop)
	assert.Contains(t, ft.reported(), "leaktest: 1 goroutines still running")
	assert.Contains(t, ft.reported(), "TestCleanupReportsLeakedGoroutines")
}

// A failed attempt is logged to the test's log, until the bus is closed.
func TestFailuresLogToTheTest(t *testing.T) {
	ft := newFakeTB(t, time.Minute)
	bus := NewBus(ft, eda.WithRetryPolicy(eda.NoRetries()))
	putRule(t, bus, failTimes(1))
	put(t, bus, `{"n":1}`)
	Settle(t, bus)
	ft.run()
	assert.Contains(t, ft.logged(), `level=WARN msg="eda: delivery attempt failed" destination=default/r/t attempt=1 error="not yet"`)

	ft = newFakeTB(t, time.Minute)
	l := &testLog{t: ft}
	_, err := l.Write([]byte("before\n"))
	require.NoError(t, err)
	l.stop()
	_, err = l.Write([]byte("after\n"))
	require.NoError(t, err)
	assert.Equal(t, "before", ft.logged(), "nothing is logged once stopped")
}

// The leak check is skipped while another test's router is open.
func TestLeakCheckSkippedWhileAnotherRouterIsOpen(t *testing.T) {
	NewBus(t) // "another test's" router, open until t ends
	ft := newFakeTB(t, time.Minute)
	leakCheck(ft)
	stop := make(chan struct{})
	go func() { <-stop }()
	ft.run()
	close(stop)
	assert.Empty(t, ft.reported())
}
