package edatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edakit/eda"
)

// publishKind publishes a message with the attribute kind to topic with
// ctx and returns its id.
func publishKind(ctx context.Context, topic *eda.Topic, kind string) (string, error) {
	res, err := topic.Publish(ctx, eda.Message{Body: []byte(`{}`),
		Attributes: map[string]eda.Attribute{"kind": {DataType: "String", StringValue: kind}}})
	return res.MessageID, err
}

// subscribeKind subscribes h to the messages of topic with the attribute
// kind, under the name kind.
func subscribeKind(t *testing.T, topic *eda.Topic, kind string, h eda.Handler) {
	t.Helper()
	_, err := topic.Subscribe(kind, h, eda.WithFilterPolicy([]byte(`{"kind": ["`+kind+`"]}`), eda.ScopeMessageAttributes))
	require.NoError(t, err)
}

// blockingHandler returns a handler that blocks until the test's cleanups
// run (before those of the routers created earlier, which close them),
// and a channel that receives when a call of it has started.
func blockingHandler(t *testing.T) (eda.Handler, <-chan struct{}) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	started := make(chan struct{}, 1)
	return eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return nil
	}), started
}

// keepSending calls send up to n times on a goroutine of its own, as
// unrelated traffic, until the returned stop is called, which waits for
// the goroutine to end. An error of send fails the test.
func keepSending(t *testing.T, n int, send func() error) (stop func()) {
	quit, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for range n {
			select {
			case <-quit:
				return
			default:
			}
			if err := send(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-stopped
	}
}

// A message whose subscriber puts an event on a bus, whose rule's handler
// fails once and is retried on the fake clock, settles with Clock.
// SettleMessage while other messages keep arriving for a subscription whose
// handler is blocked, which Settle (the whole topic) would wait for.
func TestClockSettleMessageIgnoresOtherTraffic(t *testing.T) {
	clk := NewClock(epoch)
	retry := eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Minute, MaxBackoff: time.Minute})
	topic := NewTopic(t, "orders", eda.WithClock(clk), retry)
	bus := NewBus(t, eda.WithClock(clk), retry)
	blocked := NewRecorder()
	block, started := blockingHandler(t)
	subscribeKind(t, topic, "other", blocked.Wrap(block))
	subscribeKind(t, topic, "order", eda.HandlerFunc(func(ctx context.Context, _ eda.Delivery) error {
		_, err := putType(ctx, bus, "Ship")
		return err
	}))
	shipped := NewRecorder()
	require.NoError(t, bus.PutRule(eda.Rule{Name: "ship", EventPattern: `{"detail-type": ["Ship"]}`,
		Targets: []eda.Target{eda.HandlerTarget("ship", shipped.Wrap(eda.HandlerFunc(func(_ context.Context, d eda.Delivery) error {
			if d.Attempt == 1 {
				return errors.New("not yet")
			}
			return nil
		})))}}))

	stop := keepSending(t, 50, func() error {
		_, err := publishKind(context.Background(), topic, "other")
		return err
	})
	<-started
	id, err := publishKind(context.Background(), topic, "order")
	require.NoError(t, err)
	require.True(t, clk.SettleMessage(t, time.Hour, topic, id))
	stop()

	require.Equal(t, 2, shipped.Len(), "the failed attempt and its retry")
	last, _ := shipped.Last()
	assert.NoError(t, last.Err)
	assert.Zero(t, blocked.Len(), "the other subscription's handlers are still blocked")
	ft := newFakeTB(t, 50*time.Millisecond)
	assert.False(t, Settle(ft, topic), "Settle waits for the blocked handler")
}

// SettleMessage of a message no subscription takes returns at once; a
// copy that ends in a dead letter has ended once the dead letter is handed
// over; with the real clock, SettleMessage waits for the retries.
func TestSettleMessage(t *testing.T) {
	dead := NewRecorder()
	topic := NewTopic(t, "alerts", eda.WithDeadLetter(dead))
	id, err := publishKind(context.Background(), topic, "nobody")
	require.NoError(t, err)
	assert.True(t, SettleMessage(t, topic, id))

	subscribeKind(t, topic, "poison", eda.HandlerFunc(func(context.Context, eda.Delivery) error { return errors.New("bad") }))
	id, err = publishKind(context.Background(), topic, "poison")
	require.NoError(t, err)
	assert.True(t, SettleMessage(t, topic, id))
	require.Equal(t, 1, dead.Len(), "the dead letter was handed over before the message settled")
	last, _ := dead.Last()
	require.NotNil(t, last.DeadLetter)
	assert.Equal(t, RetryPolicy().MaxAttempts, last.DeadLetter.Attempts)
}

// On a FIFO topic, a duplicate answers with the original's id, and
// SettleMessage of it settles the original.
func TestSettleMessageFIFODuplicate(t *testing.T) {
	topic := NewTopic(t, "orders.fifo")
	rec := NewRecorder()
	_, err := topic.Subscribe("s", rec)
	require.NoError(t, err)
	m := eda.Message{Body: []byte(`{}`), GroupID: "g", DeduplicationID: "d"}
	first, err := topic.Publish(context.Background(), m)
	require.NoError(t, err)
	dup, err := topic.Publish(context.Background(), m)
	require.NoError(t, err)
	require.Equal(t, first.MessageID, dup.MessageID)
	assert.True(t, SettleMessage(t, topic, dup.MessageID))
	assert.Equal(t, 1, rec.Len())
}

// The failing side: SettleMessage reports an id the topic does not know, a
// message still in flight at the deadline, and a topic that does not track
// messages; Clock.SettleMessage too.
func TestSettleMessageFailures(t *testing.T) {
	topic := NewTopic(t, "t")
	ft := newFakeTB(t, time.Second)
	assert.False(t, SettleMessage(ft, topic, "no-such-id"))
	assert.Equal(t, `edatest: SettleMessage: eda: WaitMessage: no message with id "no-such-id" was published to topic "t"`, ft.reported())

	release := make(chan struct{})
	subscribeKind(t, topic, "slow", eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		<-release
		return nil
	}))
	id, err := publishKind(context.Background(), topic, "slow")
	require.NoError(t, err)
	ft = newFakeTB(t, 100*time.Millisecond)
	assert.False(t, SettleMessage(ft, topic, id))
	assert.Contains(t, ft.reported(), `edatest: SettleMessage: eda: WaitMessage: message "`+id+`": 1 still in flight: context deadline exceeded`)
	close(release)
	SettleMessage(t, topic, id)

	plain, err := eda.NewTopic("plain")
	require.NoError(t, err)
	defer plain.Close(context.Background())
	ft = newFakeTB(t, time.Second)
	assert.False(t, SettleMessage(ft, plain, "x"))
	assert.Contains(t, ft.reported(), `topic "plain" does not track messages`)

	clk := NewClock(epoch)
	clocked := NewTopic(t, "clocked", eda.WithClock(clk))
	ft = newFakeTB(t, time.Second)
	assert.False(t, clk.SettleMessage(ft, time.Hour, clocked, "no-such-id"))
	assert.Contains(t, ft.reported(), `edatest: SettleMessage: eda: WaitMessage: no message with id "no-such-id"`)
}
