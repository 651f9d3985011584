package eda

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trackEvent is an event of the given detail-type for the tracking tests.
func trackEvent(detailType string) Event {
	return Event{Source: "com.example.track", DetailType: detailType, Detail: json.RawMessage(`{}`)}
}

// putOne puts e on b with ctx and returns its id, failing the test (or
// returning the error, from a handler) when it is not accepted.
func putOne(ctx context.Context, b *Bus, e Event) (string, error) {
	res, err := b.PutEvents(ctx, e)
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return "", err
	}
	return res.Entries[0].EventID, nil
}

// waitCtx returns a context for the waits of a tracking test.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestWaitEventCoversItsCascadeNotOtherTraffic: WaitEvent returns once the
// event and everything it caused has ended — a handler's put on the same
// bus, a bus target to a bus that does not track events, a retry there, a
// handler's publish to a topic, and a topic target — while another rule's
// handler stays blocked on events put before and after, which Drain waits
// for.
func TestWaitEventCoversItsCascadeNotOtherTraffic(t *testing.T) {
	bus := newTestBus(t, "track", WithEventTracking())
	other := newTestBus(t, "track-other") // no tracking of its own
	topic := newTestTopic(t, "track-topic")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the routers close
	var unblocked atomic.Int32
	mustPutRule(t, bus, Rule{Name: "blocked", EventPattern: `{"detail-type":["Other"]}`, Targets: []Target{
		HandlerTarget("stuck", HandlerFunc(func(context.Context, Delivery) error {
			<-release
			unblocked.Add(1)
			return nil
		})),
	}})
	// Step 1, on the tracked bus: put B with the handler's context; and a
	// topic target.
	var step1 atomic.Int32
	cascadeID := make(chan string, 1)
	mustPutRule(t, bus, Rule{Name: "a", EventPattern: `{"detail-type":["A"]}`, Targets: []Target{
		HandlerTarget("step1", HandlerFunc(func(ctx context.Context, _ Delivery) error {
			id, err := putOne(ctx, bus, trackEvent("B"))
			step1.Add(1)
			cascadeID <- id
			return err
		})),
		TopicTarget("to-topic", topic),
	}})
	// Step 2: B goes to the other bus, whose handler fails once and then
	// publishes to the topic.
	mustPutRule(t, bus, Rule{Name: "b", EventPattern: `{"detail-type":["B"]}`, Targets: []Target{BusTarget("to-other", other)}})
	var step2 atomic.Int32
	mustPutRule(t, other, Rule{Name: "b", EventPattern: `{"detail-type":["B"]}`, Targets: []Target{
		HandlerTarget("step2", HandlerFunc(func(ctx context.Context, d Delivery) error {
			step2.Add(1)
			if d.Attempt == 1 {
				return errors.New("not yet")
			}
			_, err := topic.Publish(ctx, Message{Body: []byte("step 3")})
			return err
		})),
	}})
	// Step 3: the topic's subscriber.
	step3 := &recorder{}
	_, err := topic.Subscribe("step3", step3, WithRawDelivery())
	require.NoError(t, err)

	ctx := waitCtx(t)
	_, err = putOne(ctx, bus, trackEvent("Other"))
	require.NoError(t, err)
	id, err := putOne(ctx, bus, trackEvent("A"))
	require.NoError(t, err)
	_, err = putOne(ctx, bus, trackEvent("Other"))
	require.NoError(t, err)

	require.NoError(t, bus.WaitEvent(ctx, id))
	assert.Equal(t, int32(1), step1.Load())
	assert.Equal(t, int32(2), step2.Load(), "the failed attempt and its retry")
	assert.Equal(t, 2, step3.count(), "the handler's publish and the topic target's")
	assert.Zero(t, unblocked.Load(), "the other rule's events are still in flight")
	assert.ErrorContains(t, bus.WaitEvent(ctx, <-cascadeID), "no event with id",
		"an event of the cascade counts as part of the first, not on its own")

	// Drain, by contrast, waits for the blocked handler.
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var de *DrainError
	require.ErrorAs(t, bus.Drain(short), &de)
}

// TestWaitEventOfAnEventMatchingNothing: an event that matched no rule has
// settled when PutEvents returns: WaitEvent returns nil even with a context
// that has already ended.
func TestWaitEventOfAnEventMatchingNothing(t *testing.T) {
	bus := newTestBus(t, "track-nothing", WithEventTracking())
	mustPutRule(t, bus, Rule{Name: "a", EventPattern: `{"detail-type":["A"]}`, Targets: []Target{HandlerTarget("h", &recorder{})}})
	id, err := putOne(context.Background(), bus, trackEvent("Nothing"))
	require.NoError(t, err)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, bus.WaitEvent(ended, id))
}

// TestWaitEventCountsADeadLetterAsEnded: a copy that is dead-lettered ends
// once its dead-letter handler has returned, after the events that handler
// put were counted; until then WaitEvent waits, and when its context ends
// first it says how many copies are in flight.
func TestWaitEventCountsADeadLetterAsEnded(t *testing.T) {
	release := make(chan struct{})
	var bus *Bus
	dl := DeadLetterFunc(func(ctx context.Context, _ DeadLetter) {
		<-release
		if _, err := putOne(ctx, bus, trackEvent("After")); err != nil {
			t.Error(err)
		}
	})
	bus = newTestBus(t, "track-dl", WithEventTracking(), WithDeadLetter(dl))
	mustPutRule(t, bus, Rule{Name: "a", EventPattern: `{"detail-type":["A"]}`, Targets: []Target{
		HandlerTarget("fails", HandlerFunc(func(context.Context, Delivery) error { return Permanent(errors.New("no")) })),
	}})
	after := &recorder{}
	mustPutRule(t, bus, Rule{Name: "after", EventPattern: `{"detail-type":["After"]}`, Targets: []Target{HandlerTarget("after", after)}})
	id, err := putOne(context.Background(), bus, trackEvent("A"))
	require.NoError(t, err)

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = bus.WaitEvent(short, id)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "1 still in flight")

	close(release)
	require.NoError(t, bus.WaitEvent(waitCtx(t), id))
	assert.Equal(t, 1, after.count(), "the dead-letter handler's event was waited for")
}

// TestWaitEventSameIDTwice: an entry put again with the same id while the
// first is in flight shares its tracker; one put after the first settled
// gets a new one.
func TestWaitEventSameIDTwice(t *testing.T) {
	bus := newTestBus(t, "track-twice", WithEventTracking())
	release := make(chan struct{})
	var handled atomic.Int32
	mustPutRule(t, bus, Rule{Name: "a", EventPattern: `{"detail-type":["A"]}`, Targets: []Target{
		HandlerTarget("h", HandlerFunc(func(context.Context, Delivery) error {
			if handled.Add(1) == 1 {
				<-release
			}
			return nil
		})),
	}})
	e := trackEvent("A")
	e.ID = "order-1"
	for range 2 {
		_, err := putOne(context.Background(), bus, e)
		require.NoError(t, err)
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, bus.WaitEvent(short, "order-1"), context.DeadlineExceeded)
	close(release)
	require.NoError(t, bus.WaitEvent(waitCtx(t), "order-1"))
	assert.Equal(t, int32(2), handled.Load(), "both puts waited for")

	_, err := putOne(context.Background(), bus, e)
	require.NoError(t, err)
	require.NoError(t, bus.WaitEvent(waitCtx(t), "order-1"))
	assert.Equal(t, int32(3), handled.Load())
}

// TestWaitEventErrors: WaitEvent refuses at once a bus without tracking
// (which holds no trackers at all), an unknown id, a nil context and a
// handler's context of the bus; WithEventTracking applies to a router
// only (a Bus or a Topic).
func TestWaitEventErrors(t *testing.T) {
	plain := newTestBus(t, "untracked")
	assert.Nil(t, plain.trackers, "a bus without tracking holds no trackers")
	id, err := putOne(context.Background(), plain, trackEvent("A"))
	require.NoError(t, err)
	assert.ErrorContains(t, plain.WaitEvent(context.Background(), id), "does not track events")

	bus := newTestBus(t, "tracked", WithEventTracking())
	assert.ErrorContains(t, bus.WaitEvent(context.Background(), "no-such-id"), `no event with id "no-such-id"`)
	//lint:ignore SA1012 a nil context is what is tested
	assert.ErrorIs(t, bus.WaitEvent(nil, "x"), ErrInvalidRequest)

	inHandler := make(chan error, 1)
	mustPutRule(t, bus, Rule{Name: "a", EventPattern: `{"detail-type":["A"]}`, Targets: []Target{
		HandlerTarget("h", HandlerFunc(func(ctx context.Context, d Delivery) error {
			inHandler <- bus.WaitEvent(ctx, d.ID)
			return nil
		})),
	}})
	_, err = putOne(context.Background(), bus, trackEvent("A"))
	require.NoError(t, err)
	assert.ErrorIs(t, <-inHandler, ErrInHandler)

	topic := newTestTopic(t, "t", WithEventTracking())
	_, err = topic.Subscribe("s", HandlerFunc(func(context.Context, Delivery) error { return nil }), WithEventTracking())
	assert.ErrorIs(t, err, ErrInvalidOption)
	assert.ErrorContains(t, err, "applies to a Bus or a Topic, not to a subscription")
}

// TestWaitEventDoesNotWaitForLateGoroutines: an event that a handler puts
// from a goroutine of its own after it returned is not waited for, and
// putting it after the event settled is harmless (it is not tracked).
func TestWaitEventDoesNotWaitForLateGoroutines(t *testing.T) {
	bus := newTestBus(t, "track-late", WithEventTracking())
	release, late := make(chan struct{}), make(chan error, 1)
	mustPutRule(t, bus, Rule{Name: "a", EventPattern: `{"detail-type":["A"]}`, Targets: []Target{
		HandlerTarget("h", HandlerFunc(func(ctx context.Context, _ Delivery) error {
			go func() {
				<-release
				_, err := putOne(ctx, bus, trackEvent("Late"))
				late <- err
			}()
			return nil
		})),
	}})
	lateRec := &recorder{}
	mustPutRule(t, bus, Rule{Name: "late", EventPattern: `{"detail-type":["Late"]}`, Targets: []Target{HandlerTarget("late", lateRec)}})
	id, err := putOne(context.Background(), bus, trackEvent("A"))
	require.NoError(t, err)
	require.NoError(t, bus.WaitEvent(waitCtx(t), id), "returns while the goroutine waits")
	close(release)
	require.NoError(t, <-late)
	require.NoError(t, bus.WaitEvent(waitCtx(t), id))
	drain(t, bus)
	assert.Equal(t, 1, lateRec.count())
}
