package eda

// Problems found while documenting the Topic (issue 11), each fixed: a test
// per problem that failed before the fix.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Subscription.Retire is exported (it satisfies the routes' retirer
// interface), so a user can call it on a subscription that is still in its
// topic: every later Publish then fails with "topic closed while the
// message was published" (ErrClosed, InternalError) although the topic is
// open. It should not be part of the API (or should be harmless).
func TestFoundSubscriptionRetireExported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tp := newTestTopic(t, "orders")
	var box inbox
	_, err := tp.Subscribe("s", &box, WithRawDelivery())
	require.NoError(t, err)
	_, exported := any(&Subscription{}).(interface{ Retire() })
	require.False(t, exported, "Subscription has no Retire method")
	_, err = tp.Publish(ctx, Message{Body: []byte("after retire")})
	require.NoError(t, err)
	require.NoError(t, tp.Drain(ctx))
	assert.Equal(t, []string{"after retire"}, box.bodies())
}

// TopicStats sums the counters of the current subscriptions only, so the
// topic's NumberOfNotificationsDelivered (and …Failed, …RedrivenToDlq)
// goes down when a subscription is removed: a CloudWatch-style counter
// should not decrease.
func TestFoundTopicStatsDropUnsubscribed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tp := newTestTopic(t, "orders")
	var box inbox
	sub, err := tp.Subscribe("s", &box)
	require.NoError(t, err)
	_, err = tp.Publish(ctx, Message{Body: []byte("m")})
	require.NoError(t, err)
	require.NoError(t, tp.Drain(ctx))
	require.Equal(t, uint64(1), tp.Stats().NumberOfNotificationsDelivered)
	require.NoError(t, sub.Unsubscribe())
	assert.Equal(t, uint64(1), tp.Stats().NumberOfNotificationsDelivered)
}

// WithContentBasedDeduplication on a standard topic is an error, but
// WithDeduplicationWindow, which also applies to FIFO topics only, is
// accepted there and ignored.
func TestFoundDeduplicationWindowOnStandardTopic(t *testing.T) {
	_, err := NewTopic("orders", WithDeduplicationWindow(time.Minute))
	assert.ErrorIs(t, err, ErrInvalidOption)
}
