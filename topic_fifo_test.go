package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A FIFO subscription retires a message group's destination once the
// group is idle, so that memory does not grow with the number of distinct
// group ids; the retired groups' counts stay in its stats.
func TestFIFOGroupsRetiredWhenIdle(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "groups.fifo", WithContentBasedDeduplication(), WithIdleTimeout(time.Millisecond))
	var got atomic.Int64
	sub, err := tp.Subscribe("s", HandlerFunc(func(context.Context, Delivery) error {
		got.Add(1)
		return nil
	}), WithRawDelivery())
	require.NoError(t, err)
	const groups = 10_000
	for i := range groups {
		_, err := tp.Publish(ctx, Message{Body: fmt.Appendf(nil, "m%d", i), GroupID: fmt.Sprint("g", i)})
		require.NoError(t, err)
	}
	drainTopic(t, tp)
	assert.Equal(t, int64(groups), got.Load())
	assert.Zero(t, sub.retainedGroups(), "every group is idle: none is retained")
	ss := sub.Stats()
	assert.Equal(t, uint64(groups), ss.NumberOfNotificationsDelivered, "the retired groups' counts are kept")
	assert.Equal(t, uint64(groups), ss.Delivery.Enqueued)
	assert.Zero(t, ss.Delivery.InFlight)
	assert.Equal(t, uint64(groups), accounted(ss))
}

// An ended message group keeps no goroutine: its worker exits once the
// group's destination is retired and empty, not after the idle timeout
// (an hour here), so a FIFO topic with many short-lived groups does not
// hold a goroutine per recently ended group.
func TestFIFOEndedGroupsKeepNoGoroutine(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "ended.fifo", WithContentBasedDeduplication(), WithIdleTimeout(time.Hour))
	_, err := tp.Subscribe("s", HandlerFunc(func(context.Context, Delivery) error { return nil }), WithRawDelivery())
	require.NoError(t, err)
	drainTopic(t, tp)
	before := runtime.NumGoroutine()
	const groups = 300
	for i := range groups {
		_, err := tp.Publish(ctx, Message{Body: fmt.Appendf(nil, "m%d", i), GroupID: fmt.Sprint("g", i)})
		require.NoError(t, err)
	}
	drainTopic(t, tp)
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+5 }, 5*time.Second, 5*time.Millisecond,
		"goroutines: %d before the groups, %d after", before, runtime.NumGoroutine())
}

// A deleted rule's targets and an unsubscribed subscription keep no
// goroutine either: their workers exit once they have nothing left to
// deliver, although the idle timeout is an hour.
func TestRemovedDestinationsKeepNoGoroutine(t *testing.T) {
	ctx := context.Background()
	noop := HandlerFunc(func(context.Context, Delivery) error { return nil })
	bus := newTestBus(t, "removed", WithIdleTimeout(time.Hour))
	tp := newTestTopic(t, "removed", WithIdleTimeout(time.Hour))
	require.NoError(t, bus.Drain(ctx))
	drainTopic(t, tp)
	before := runtime.NumGoroutine()
	const n = 40
	var targets []Target
	for i := range n {
		targets = append(targets, HandlerTarget(fmt.Sprint("t", i), noop))
	}
	require.NoError(t, bus.PutRule(Rule{Name: "r", EventPattern: `{"source":["s"]}`, Targets: targets}))
	var subs []*Subscription
	for i := range n {
		sub, err := tp.Subscribe(fmt.Sprint("s", i), noop, WithRawDelivery())
		require.NoError(t, err)
		subs = append(subs, sub)
	}
	_, err := bus.PutEvents(ctx, Event{Source: "s", DetailType: "d", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	_, err = tp.Publish(ctx, Message{Body: []byte("m")})
	require.NoError(t, err)
	require.NoError(t, bus.Drain(ctx))
	drainTopic(t, tp)
	require.Greater(t, runtime.NumGoroutine(), before+n, "each destination's worker waits, idle")
	require.NoError(t, bus.DeleteRule("r"))
	for _, sub := range subs {
		require.NoError(t, sub.Unsubscribe())
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+5 }, 5*time.Second, 5*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

// A group whose destination is being retired while new messages for it
// arrive loses none and keeps their order, with retries, panics and dead
// letters in the mix; a group that holds a message in retry is not
// retired under it.
func TestFIFOGroupRetiredWhileMessagesArrive(t *testing.T) {
	ctx := context.Background()
	var dead atomic.Int64
	tp := newTestTopic(t, "churn.fifo", WithContentBasedDeduplication(),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) { dead.Add(1) })))
	var mu sync.Mutex
	got := map[string][]int{}
	attempts := map[string]int{}
	sub, err := tp.Subscribe("s", HandlerFunc(func(_ context.Context, d Delivery) error {
		var g string
		var n int
		if _, err := fmt.Sscanf(string(d.Payload), "%s %d", &g, &n); err != nil {
			return Permanent(err)
		}
		mu.Lock()
		defer mu.Unlock()
		key := fmt.Sprint(g, n)
		attempts[key]++
		switch {
		case n%97 == 13: // fails for good: dead-lettered, the group goes on
			return errors.New("always down")
		case n%13 == 3 && attempts[key] == 1:
			return errors.New("transient")
		case n%17 == 5 && attempts[key] == 1:
			panic("boom")
		}
		got[g] = append(got[g], n)
		return nil
	}), WithRawDelivery())
	require.NoError(t, err)
	const publishers, perGroup = 4, 300
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for n := range perGroup {
				for _, g := range []string{fmt.Sprint("a", p), fmt.Sprint("b", p)} {
					_, err := tp.Publish(ctx, Message{Body: fmt.Appendf(nil, "%s %d", g, n), GroupID: g})
					if !assert.NoError(t, err) {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	drainTopic(t, tp)
	mu.Lock()
	defer mu.Unlock()
	var want []int
	deadPerGroup := 0
	for n := range perGroup {
		if n%97 == 13 {
			deadPerGroup++
			continue
		}
		want = append(want, n)
	}
	for p := range publishers {
		for _, g := range []string{fmt.Sprint("a", p), fmt.Sprint("b", p)} {
			assert.Equal(t, want, got[g], "group %s: every message, in order", g)
		}
	}
	assert.Equal(t, int64(2*publishers*deadPerGroup), dead.Load())
	assert.Zero(t, sub.retainedGroups())
	sub.mu.Lock()
	retired := sub.groupsGone.Enqueued
	sub.mu.Unlock()
	assert.Positive(t, retired, "groups were retired and made again on their next message")
	ss := sub.Stats()
	assert.Equal(t, uint64(2*publishers*perGroup), ss.NumberOfNotificationsDelivered+ss.NumberOfNotificationsFailed)
}
