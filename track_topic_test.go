package eda

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// publishOne publishes m to tp with ctx and returns its message id.
func publishOne(ctx context.Context, tp *Topic, m Message) (string, error) {
	res, err := tp.Publish(ctx, m)
	return res.MessageID, err
}

// TestWaitMessageCoversItsCascadeNotOtherTraffic: WaitMessage returns once
// the message's copies and the event its subscriber put on a bus (which
// does not track events of its own) have been delivered, while another
// message's copy to a blocked subscription is still in flight.
func TestWaitMessageCoversItsCascadeNotOtherTraffic(t *testing.T) {
	topic := newTestTopic(t, "wait-msg", WithEventTracking())
	bus := newTestBus(t, "wait-msg-bus")
	after := &recorder{}
	mustPutRule(t, bus, Rule{Name: "after", EventPattern: `{"detail-type":["After"]}`, Targets: []Target{HandlerTarget("after", after)}})
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	_, err := topic.Subscribe("blocked", HandlerFunc(func(context.Context, Delivery) error {
		started <- struct{}{}
		<-release
		return nil
	}), WithFilterPolicy([]byte(`{"kind": ["other"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	_, err = topic.Subscribe("cascade", HandlerFunc(func(ctx context.Context, d Delivery) error {
		_, err := putOne(ctx, bus, trackEvent("After"))
		return err
	}), WithFilterPolicy([]byte(`{"kind": ["order"]}`), ScopeMessageAttributes))
	require.NoError(t, err)

	_, err = publishOne(context.Background(), topic, Message{Body: []byte("x"), Attributes: map[string]Attribute{"kind": strAttr("other")}})
	require.NoError(t, err)
	<-started
	id, err := publishOne(context.Background(), topic, Message{Body: []byte("y"), Attributes: map[string]Attribute{"kind": strAttr("order")}})
	require.NoError(t, err)
	require.NoError(t, topic.WaitMessage(waitCtx(t), id))
	assert.Equal(t, 1, after.count(), "the cascade on the bus was waited for")
	close(release)
}

// TestWaitMessageOfAMessageNoSubscriptionTakes: a message that no
// subscription took has settled when Publish returns, on a standard and on
// a FIFO topic.
func TestWaitMessageOfAMessageNoSubscriptionTakes(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"nobody", "nobody.fifo"} {
		topic := newTestTopic(t, name, WithEventTracking())
		id, err := publishOne(context.Background(), topic, Message{Body: []byte("x"), GroupID: fifoOnly(name, "g"), DeduplicationID: fifoOnly(name, "d")})
		require.NoError(t, err)
		assert.NoError(t, topic.WaitMessage(ended, id), name)
	}
}

// fifoOnly returns v for a FIFO topic's name, else "".
func fifoOnly(name, v string) string {
	if len(name) > 5 && name[len(name)-5:] == ".fifo" {
		return v
	}
	return ""
}

// TestWaitMessageCountsADeadLetterAsEnded: a copy whose handler fails for
// good ends when its dead-letter handler has returned.
func TestWaitMessageCountsADeadLetterAsEnded(t *testing.T) {
	release := make(chan struct{})
	dls := make(chan DeadLetter, 1)
	dl := DeadLetterFunc(func(_ context.Context, d DeadLetter) {
		<-release
		dls <- d
	})
	topic := newTestTopic(t, "wait-dl", WithEventTracking(), WithDeadLetter(dl))
	_, err := topic.Subscribe("fails", HandlerFunc(func(context.Context, Delivery) error { return Permanent(errors.New("no")) }))
	require.NoError(t, err)
	id, err := publishOne(context.Background(), topic, Message{Body: []byte("x")})
	require.NoError(t, err)

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = topic.WaitMessage(short, id)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), `eda: WaitMessage: message "`+id+`": 1 still in flight`)

	close(release)
	require.NoError(t, topic.WaitMessage(waitCtx(t), id))
	assert.Len(t, dls, 1, "the dead letter was handed over")
}

// TestWaitMessageFIFODuplicate: a FIFO duplicate answers with the
// original's id, and waiting on it waits for the original.
func TestWaitMessageFIFODuplicate(t *testing.T) {
	topic := newTestTopic(t, "wait-dup.fifo", WithEventTracking())
	release := make(chan struct{})
	var n int
	_, err := topic.Subscribe("s", HandlerFunc(func(context.Context, Delivery) error {
		n++ // one group: one delivery at a time
		<-release
		return nil
	}))
	require.NoError(t, err)
	m := Message{Body: []byte("x"), GroupID: "g", DeduplicationID: "d"}
	id, err := publishOne(context.Background(), topic, m)
	require.NoError(t, err)
	dup, err := publishOne(context.Background(), topic, m)
	require.NoError(t, err)
	require.Equal(t, id, dup)

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, topic.WaitMessage(short, dup), context.DeadlineExceeded, "the original is still in flight")
	close(release)
	require.NoError(t, topic.WaitMessage(waitCtx(t), dup))
	assert.Equal(t, 1, n)
}

// TestWaitMessageErrors: WaitMessage refuses at once a topic without
// tracking (which holds no trackers), an unknown id, a nil context and a
// handler's context of the topic.
func TestWaitMessageErrors(t *testing.T) {
	plain := newTestTopic(t, "untracked")
	assert.Nil(t, plain.trackers, "a topic without tracking holds no trackers")
	id, err := publishOne(context.Background(), plain, Message{Body: []byte("x")})
	require.NoError(t, err)
	assert.EqualError(t, plain.WaitMessage(context.Background(), id),
		`eda: WaitMessage: topic "untracked" does not track messages: create it WithEventTracking`)

	topic := newTestTopic(t, "tracked", WithEventTracking())
	assert.EqualError(t, topic.WaitMessage(context.Background(), "no-such-id"),
		`eda: WaitMessage: no message with id "no-such-id" was published to topic "tracked"`)
	//lint:ignore SA1012 a nil context is what is tested
	assert.ErrorIs(t, topic.WaitMessage(nil, "x"), ErrInvalidRequest)

	inHandler := make(chan error, 1)
	_, err = topic.Subscribe("s", HandlerFunc(func(ctx context.Context, d Delivery) error {
		inHandler <- topic.WaitMessage(ctx, d.ID)
		return nil
	}))
	require.NoError(t, err)
	_, err = publishOne(context.Background(), topic, Message{Body: []byte("x")})
	require.NoError(t, err)
	assert.ErrorIs(t, <-inHandler, ErrInHandler)
}

// TestWaitMessageCountsItsCascadeAsPartOfIt: on a topic and a bus that both
// track, what a tracked message's subscriber and dead-letter handler
// publish or put with their contexts is waited for as part of the message,
// and is not tracked on its own; so is a message that a tracked event's
// handler publishes. A message of PublishBatch is tracked as one of
// Publish is.
func TestWaitMessageCountsItsCascadeAsPartOfIt(t *testing.T) {
	var topic *Topic
	cascade := make(chan string, 2) // the ids of the cascade's message and event
	dl := DeadLetterFunc(func(ctx context.Context, _ DeadLetter) {
		id, err := publishOne(ctx, topic, Message{Body: []byte("after"), Attributes: map[string]Attribute{"kind": strAttr("after")}})
		if err != nil {
			t.Error(err)
		}
		cascade <- id
	})
	topic = newTestTopic(t, "wait-cascade", WithEventTracking(), WithDeadLetter(dl))
	bus := newTestBus(t, "wait-cascade-bus", WithEventTracking())
	after := &recorder{}
	_, err := topic.Subscribe("after", after, WithFilterPolicy([]byte(`{"kind": ["after"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	_, err = topic.Subscribe("fails", HandlerFunc(func(ctx context.Context, _ Delivery) error {
		id, err := putOne(ctx, bus, trackEvent("Put"))
		if err != nil {
			return err
		}
		cascade <- id
		return Permanent(errors.New("no"))
	}), WithFilterPolicy([]byte(`{"kind": ["first"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	put := &recorder{}
	mustPutRule(t, bus, Rule{Name: "put", EventPattern: `{"detail-type":["Put"]}`, Targets: []Target{HandlerTarget("put", put)}})

	ctx := waitCtx(t)
	res, err := topic.PublishBatch(ctx, Message{Body: []byte("first"), Attributes: map[string]Attribute{"kind": strAttr("first")}})
	require.NoError(t, err)
	require.Zero(t, res.FailedEntryCount)
	require.NoError(t, topic.WaitMessage(ctx, res.Entries[0].MessageID))
	assert.Equal(t, 1, put.count(), "the subscriber's event was waited for")
	assert.Equal(t, 1, after.count(), "the dead-letter handler's message was waited for")
	eventID, messageID := <-cascade, <-cascade
	assert.ErrorContains(t, bus.WaitEvent(ctx, eventID), "no event with id", "part of the message, not on its own")
	assert.ErrorContains(t, topic.WaitMessage(ctx, messageID), "no message with id", "part of the message, not on its own")

	// A tracked event's handler publishes: the message is part of the event.
	published := make(chan string, 1)
	mustPutRule(t, bus, Rule{Name: "pub", EventPattern: `{"detail-type":["Pub"]}`, Targets: []Target{
		HandlerTarget("pub", HandlerFunc(func(ctx context.Context, _ Delivery) error {
			id, err := publishOne(ctx, topic, Message{Body: []byte("from the bus"), Attributes: map[string]Attribute{"kind": strAttr("after")}})
			published <- id
			return err
		})),
	}})
	id, err := putOne(ctx, bus, trackEvent("Pub"))
	require.NoError(t, err)
	require.NoError(t, bus.WaitEvent(ctx, id))
	assert.Equal(t, 2, after.count(), "the handler's message was waited for")
	assert.ErrorContains(t, topic.WaitMessage(ctx, <-published), "no message with id", "part of the event, not on its own")
}
