package eda

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// publishedMore waits until count, what publishers running in the
// background have published, has grown by n.
func publishedMore(t *testing.T, count func() int64, n int64) {
	t.Helper()
	from := count()
	require.Eventually(t, func() bool { return count() >= from+n }, 10*time.Second, time.Millisecond)
}

// accounted returns what a subscription's counts say it saw: every message
// published or refused while it was subscribed ends delivered,
// dead-lettered, filtered out or refused.
func accounted(ss SubscriptionStats) uint64 {
	return ss.NumberOfNotificationsDelivered + ss.NumberOfNotificationsFailed +
		ss.NumberOfNotificationsFilteredOut + ss.NumberOfNotificationsRefused
}

// Each subscription counts the messages its own filter policy filtered out
// — the one in force when each was published —, those of them without
// attributes under an attribute-scope policy apart, as SNS's per-
// subscription metrics do; a subscription added mid-stream counts only
// what was published after it joined, and one that left keeps its counts.
func TestSubscriptionFilteredOutCounts(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "counted")
	all, err := tp.Subscribe("all", &inbox{})
	require.NoError(t, err)
	attr, err := tp.Subscribe("attr", &inbox{}, WithFilterPolicy([]byte(`{"kind":["a"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	publish := func(body string, kind string) {
		t.Helper()
		m := Message{Body: []byte(body)}
		if kind != "" {
			m.Attributes = map[string]Attribute{"kind": strAttr(kind)}
		}
		_, err := tp.Publish(ctx, m)
		require.NoError(t, err)
	}
	publish(`{"x":0}`, "a") // all, attr
	publish(`{"x":0}`, "b") // all
	publish(`{"x":0}`, "")  // all; attr: no attributes
	late, err := tp.Subscribe("late", &inbox{}, WithFilterPolicy([]byte(`{"x":[1]}`), ScopeMessageBody))
	require.NoError(t, err)
	publish(`{"x":1}`, "a") // all, attr, late
	publish(`{"x":2}`, "")  // all; attr: no attributes; late filtered
	require.NoError(t, attr.SetFilterPolicy([]byte(`{"x":[2]}`), ScopeMessageBody))
	publish(`{"x":2}`, "") // all, attr (body scope now)
	publish(`{"x":1}`, "") // all, late; attr filtered, by a body policy
	require.NoError(t, late.Unsubscribe())
	publish(`{"x":1}`, "") // all; attr filtered
	drainTopic(t, tp)

	type counts struct{ delivered, filtered, noAttrs uint64 }
	of := func(ss SubscriptionStats) counts {
		return counts{ss.NumberOfNotificationsDelivered, ss.NumberOfNotificationsFilteredOut, ss.NumberOfNotificationsFilteredOutNoMessageAttributes}
	}
	st := tp.Stats()
	assert.Equal(t, counts{8, 0, 0}, of(all.Stats()))
	assert.Equal(t, counts{3, 5, 2}, of(attr.Stats()))
	assert.Equal(t, counts{2, 2, 0}, of(late.Stats()), "counted from its Subscribe to its Unsubscribe")
	assert.Equal(t, uint64(8), accounted(all.Stats()))
	assert.Equal(t, uint64(8), accounted(attr.Stats()))
	assert.Equal(t, uint64(4), accounted(late.Stats()))
	ss, ok := st.Subscription("attr")
	require.True(t, ok)
	assert.Equal(t, counts{3, 5, 2}, of(ss), "TopicStats lists the same counts")
	assert.Zero(t, ss.NumberOfNotificationsFilteredOutInvalidAttributes)
	assert.Equal(t, uint64(7), st.NumberOfNotificationsFilteredOut, "the topic's count is the sum of its subscriptions'")
	assert.Equal(t, uint64(2), st.NumberOfNotificationsFilteredOutNoMessageAttributes)
}

// Under concurrent publishing, with subscriptions coming and going and a
// policy changing, every subscription's counts add up, and their sum is
// the topic's.
func TestSubscriptionFilteredOutCountsWhilePublishing(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "churn")
	var subsMu sync.Mutex
	var subs []*Subscription
	subscribe := func(name string, opts ...Option) *Subscription {
		s, err := tp.Subscribe(name, HandlerFunc(func(context.Context, Delivery) error { return nil }), opts...)
		require.NoError(t, err)
		subsMu.Lock()
		defer subsMu.Unlock()
		subs = append(subs, s)
		return s
	}
	steady := subscribe("steady", WithFilterPolicy([]byte(`{"k":["a"]}`), ScopeMessageAttributes))
	changing := subscribe("changing", WithFilterPolicy([]byte(`{"k":["b"]}`), ScopeMessageAttributes))
	var published atomic.Uint64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				m := Message{Body: fmt.Appendf(nil, `{"n":%d}`, i%3)}
				if (i+p)%4 != 0 {
					m.Attributes = map[string]Attribute{"k": strAttr([]string{"a", "b", "c"}[i%3])}
				}
				if _, err := tp.Publish(ctx, m); !assert.NoError(t, err) {
					return
				}
				published.Add(1)
			}
		})
	}
	// The changes happen while messages flow: some before, some after.
	count := func() int64 { return int64(published.Load()) }
	publishedMore(t, count, 50)
	for i := range 100 {
		if i%2 == 0 {
			require.NoError(t, changing.SetFilterPolicy([]byte(`{"n":[1]}`), ScopeMessageBody))
		} else {
			require.NoError(t, changing.SetFilterPolicy([]byte(`{"k":["b"]}`), ScopeMessageAttributes))
		}
		s := subscribe(fmt.Sprint("extra", i), WithFilterPolicy([]byte(`{"k":["c"]}`), ScopeMessageAttributes))
		if i%3 != 0 {
			require.NoError(t, s.Unsubscribe())
		}
	}
	publishedMore(t, count, 50)
	stop.Store(true)
	wg.Wait()
	drainTopic(t, tp)

	st := tp.Stats()
	n := published.Load()
	assert.Equal(t, n, st.NumberOfMessagesPublished)
	assert.Equal(t, n, accounted(steady.Stats()), "subscribed throughout: every message is accounted")
	assert.Equal(t, n, accounted(changing.Stats()), "whichever policy was in force, every message is accounted")
	var filtered, noAttrs uint64
	for _, s := range subs {
		ss := s.Stats()
		assert.LessOrEqual(t, accounted(ss), n, ss.Subscription)
		assert.LessOrEqual(t, ss.NumberOfNotificationsFilteredOutNoMessageAttributes, ss.NumberOfNotificationsFilteredOut, ss.Subscription)
		filtered += ss.NumberOfNotificationsFilteredOut
		noAttrs += ss.NumberOfNotificationsFilteredOutNoMessageAttributes
	}
	assert.Equal(t, st.NumberOfNotificationsFilteredOut, filtered, "the subscriptions' counts add up to the topic's")
	assert.Equal(t, st.NumberOfNotificationsFilteredOutNoMessageAttributes, noAttrs)
	assert.Positive(t, noAttrs)
}

// A copy a subscription refuses (its queue stayed full until the
// publisher's context ended) is counted as refused, not as filtered out.
func TestSubscriptionRefusedCounts(t *testing.T) {
	tp := newTestTopic(t, "refusing")
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	slow, err := tp.Subscribe("slow", HandlerFunc(func(context.Context, Delivery) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return nil
	}), WithQueueSize(1), WithMaxConcurrency(1))
	require.NoError(t, err)
	fast, err := tp.Subscribe("fast", &inbox{})
	require.NoError(t, err)
	var published, refused uint64
	deadline := time.Now().Add(10 * time.Second)
	for refused == 0 && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		_, err := tp.Publish(ctx, Message{Body: []byte("m")})
		cancel()
		if err != nil {
			require.ErrorIs(t, err, ErrFull)
			refused++
		} else {
			published++
		}
	}
	require.Positive(t, refused, "the slow subscription never refused a copy")
	close(release)
	drainTopic(t, tp)
	ss := slow.Stats()
	assert.Equal(t, refused, ss.NumberOfNotificationsRefused)
	assert.Zero(t, ss.NumberOfNotificationsFilteredOut)
	assert.Equal(t, published+refused, accounted(ss))
	assert.Equal(t, published+refused, accounted(fast.Stats()), "the fast one got the copies the slow one refused")
	st := tp.Stats()
	assert.Equal(t, refused, st.NumberOfMessagesRefused)
	assert.Equal(t, refused, st.NumberOfNotificationsRefused)
}
