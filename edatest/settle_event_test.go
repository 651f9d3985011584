package edatest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edakit/eda"
)

// putType puts an event of the given detail-type on bus with ctx and
// returns its id.
func putType(ctx context.Context, bus *eda.Bus, detailType string) (string, error) {
	res, err := bus.PutEvents(ctx, eda.Event{Source: "test", DetailType: detailType, Detail: json.RawMessage(`{}`)})
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return "", err
	}
	return res.Entries[0].EventID, nil
}

// One event with a three-step cascade and a retry driven by the fake clock
// settles while unrelated events keep arriving for another rule whose
// handler is blocked, which Settle (the whole bus) would wait for.
func TestClockSettleEventIgnoresOtherTraffic(t *testing.T) {
	clk := NewClock(epoch)
	bus := NewBus(t, eda.WithClock(clk),
		eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Minute, MaxBackoff: time.Minute}))
	blocked := NewRecorder() // records when the handler returns
	block, started := blockingHandler(t)
	require.NoError(t, bus.PutRule(eda.Rule{Name: "other", EventPattern: `{"detail-type": ["Other"]}`,
		Targets: []eda.Target{eda.HandlerTarget("blocked", blocked.Wrap(block))}}))
	steps := NewRecorder()
	cascade := func(next string, failFirst bool) eda.Handler {
		return steps.Wrap(eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
			if failFirst && d.Attempt == 1 {
				return errors.New("not yet")
			}
			if next == "" {
				return nil
			}
			_, err := putType(ctx, bus, next)
			return err
		}))
	}
	for _, step := range []struct {
		on, next  string
		failFirst bool
	}{{"Step1", "Step2", false}, {"Step2", "Step3", true}, {"Step3", "", false}} {
		require.NoError(t, bus.PutRule(eda.Rule{Name: step.on, EventPattern: `{"detail-type": ["` + step.on + `"]}`,
			Targets: []eda.Target{eda.HandlerTarget(step.on, cascade(step.next, step.failFirst))}}))
	}

	// Unrelated traffic keeps flowing while the event settles.
	stop := keepSending(t, 50, func() error {
		_, err := putType(context.Background(), bus, "Other")
		return err
	})
	<-started
	id, err := putType(context.Background(), bus, "Step1")
	require.NoError(t, err)
	require.True(t, clk.SettleEvent(t, time.Hour, bus, id))
	stop()

	// Wrap records when a handler returns, so a step's record can follow
	// the next step's (which it put before returning): count per rule.
	perRule := map[string]int{}
	for _, d := range steps.Deliveries() {
		perRule[d.Delivery.Rule]++
	}
	assert.Equal(t, map[string]int{"Step1": 1, "Step2": 2, "Step3": 1}, perRule,
		"three steps and the retry of the second")
	assert.Zero(t, blocked.Len(), "the other rule's handlers are still blocked")
	ft := newFakeTB(t, 50*time.Millisecond)
	assert.False(t, Settle(ft, bus), "Settle waits for the blocked handler")
}

// SettleEvent of an event that matched nothing returns at once; with the
// real clock it waits for the event's cascade.
func TestSettleEvent(t *testing.T) {
	bus := NewBus(t)
	rec := NewRecorder()
	require.NoError(t, bus.PutRule(eda.Rule{Name: "t", EventPattern: `{"detail-type": ["T"]}`,
		Targets: []eda.Target{eda.HandlerTarget("t", eda.HandlerFunc(func(ctx context.Context, _ eda.Delivery) error {
			_, err := putType(ctx, bus, "Next")
			return err
		}))}}))
	require.NoError(t, bus.PutRule(eda.Rule{Name: "next", EventPattern: `{"detail-type": ["Next"]}`,
		Targets: []eda.Target{eda.HandlerTarget("rec", rec)}}))
	id, err := putType(context.Background(), bus, "Nothing")
	require.NoError(t, err)
	assert.True(t, SettleEvent(t, bus, id))

	res, err := bus.PutEvents(context.Background(), eda.Event{Source: "test", DetailType: "T", Detail: json.RawMessage(`{"n":1}`)})
	require.NoError(t, err)
	assert.True(t, SettleEvent(t, bus, res.Entries[0].EventID))
	assert.Equal(t, 1, rec.Len(), "the cascade was waited for")
}

// The failing side: SettleEvent reports an id the bus does not know, an
// event still in flight at the deadline, and a bus that does not track
// events; Clock.SettleEvent too.
func TestSettleEventFailures(t *testing.T) {
	bus := NewBus(t)
	ft := newFakeTB(t, time.Second)
	assert.False(t, SettleEvent(ft, bus, "no-such-id"))
	assert.Equal(t, `edatest: SettleEvent: eda: WaitEvent: no event with id "no-such-id" was put on bus "default"`, ft.reported())

	release := make(chan struct{})
	putRule(t, bus, eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		<-release
		return nil
	}))
	id, err := putType(context.Background(), bus, "T")
	require.NoError(t, err)
	ft = newFakeTB(t, 100*time.Millisecond)
	assert.False(t, SettleEvent(ft, bus, id))
	assert.Contains(t, ft.reported(), "edatest: SettleEvent: eda: WaitEvent: event \""+id+"\": 1 still in flight: context deadline exceeded")
	close(release)
	SettleEvent(t, bus, id)

	plain, err := eda.NewBus("plain")
	require.NoError(t, err)
	defer plain.Close(context.Background())
	ft = newFakeTB(t, time.Second)
	assert.False(t, SettleEvent(ft, plain, "x"))
	assert.Contains(t, ft.reported(), "does not track events")

	clk := NewClock(epoch)
	clocked := NewBus(t, eda.WithClock(clk))
	ft = newFakeTB(t, time.Second)
	assert.False(t, clk.SettleEvent(ft, time.Hour, clocked, "no-such-id"))
	assert.Contains(t, ft.reported(), `edatest: SettleEvent: eda: WaitEvent: no event with id "no-such-id"`)
}
