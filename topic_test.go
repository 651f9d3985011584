package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inbox is a Handler that records its deliveries.
type inbox struct {
	mu  sync.Mutex
	got []Delivery
}

func (b *inbox) Handle(_ context.Context, d Delivery) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, d)
	return nil
}

func (b *inbox) deliveries() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

// bodies returns the bodies received (the Message of notifications).
func (b *inbox) bodies() []string {
	var out []string
	for _, d := range b.deliveries() {
		body, _ := d.Body()
		out = append(out, string(body))
	}
	return out
}

func newTestTopic(t *testing.T, name string, opts ...Option) *Topic {
	t.Helper()
	tp, err := NewTopic(name, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, tp.Close(ctx))
	})
	return tp
}

func drainTopic(t *testing.T, tp *Topic) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, tp.Drain(ctx))
}

func strAttr(v string) Attribute { return Attribute{DataType: "String", StringValue: v} }

func TestNewTopicNames(t *testing.T) {
	for _, ok := range []string{"orders", "Orders_2-x", "orders.fifo"} {
		tp, err := NewTopic(ok)
		require.NoError(t, err, ok)
		assert.Equal(t, ok == "orders.fifo", tp.FIFO())
		assert.Equal(t, "arn:aws:sns:us-east-1:000000000000:"+ok, tp.ARN())
		require.NoError(t, tp.Close(context.Background()))
	}
	for _, bad := range []string{"", "a.b", "orders.FIFO", ".fifo", "with space", string(make([]byte, 257))} {
		_, err := NewTopic(bad)
		assert.ErrorIs(t, err, ErrInvalidTopicName, "%q", bad)
	}
	_, err := NewTopic("std", WithContentBasedDeduplication())
	assert.ErrorIs(t, err, ErrInvalidOption, "content-based de-duplication needs a FIFO topic")
	_, err = NewTopic("std", WithInput(`{}`))
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, err = NewTopic("std", WithEntrySizeLimit(10))
	assert.ErrorIs(t, err, ErrInvalidOption, "a Bus's option")
}

// Every subscription gets its copy; a filter policy chooses by attributes
// or by body; raw delivery gets the body, the default SNS's notification.
func TestTopicFanOutAndFilters(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "orders")
	var all, eu, big, raw inbox
	_, err := tp.Subscribe("all", &all)
	require.NoError(t, err)
	_, err = tp.Subscribe("eu", &eu, WithFilterPolicy([]byte(`{"region":[{"prefix":"eu-"}]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	_, err = tp.Subscribe("big", &big, WithFilterPolicy([]byte(`{"total":[{"numeric":[">",100]}]}`), ScopeMessageBody))
	require.NoError(t, err)
	_, err = tp.Subscribe("raw", &raw, WithRawDelivery())
	require.NoError(t, err)

	msgs := []Message{
		{Body: []byte(`{"total":500}`), Attributes: map[string]Attribute{"region": strAttr("eu-west-1")}},
		{Body: []byte(`{"total":5}`), Attributes: map[string]Attribute{"region": strAttr("us-east-1")}},
		{Body: []byte(`not json`), Subject: "plain"},
	}
	var ids []string
	for _, m := range msgs {
		res, err := tp.Publish(ctx, m)
		require.NoError(t, err)
		require.NotEmpty(t, res.MessageID)
		assert.Empty(t, res.SequenceNumber)
		ids = append(ids, res.MessageID)
	}
	drainTopic(t, tp)

	assert.ElementsMatch(t, []string{`{"total":500}`, `{"total":5}`, `not json`}, all.bodies())
	assert.Equal(t, []string{`{"total":500}`}, eu.bodies())
	assert.Equal(t, []string{`{"total":500}`}, big.bodies())
	assert.ElementsMatch(t, []string{`{"total":500}`, `{"total":5}`, `not json`}, raw.bodies())

	for _, d := range all.deliveries() {
		assert.Equal(t, PayloadNotification, d.Kind)
		var n struct {
			Type, MessageId, TopicArn, Message, Timestamp string
		}
		require.NoError(t, json.Unmarshal(d.Payload, &n))
		assert.Equal(t, "Notification", n.Type)
		assert.Equal(t, tp.ARN(), n.TopicArn)
		assert.Equal(t, d.ID, n.MessageId)
		assert.Contains(t, ids, d.ID)
		assert.Equal(t, "orders", d.Router)
		assert.Equal(t, "all", d.Destination)
	}
	for _, d := range raw.deliveries() {
		assert.Equal(t, PayloadMessage, d.Kind)
	}
	eud := eu.deliveries()
	require.Len(t, eud, 1)
	assert.Equal(t, "eu-west-1", eud[0].Attributes["region"].StringValue, "attributes travel with the delivery")

	st := tp.Stats()
	assert.Equal(t, uint64(3), st.NumberOfMessagesPublished)
	assert.Equal(t, uint64(3+1+1+3), st.NumberOfNotificationsDelivered)
	// 3 messages × 4 subscriptions = delivered + filtered out.
	assert.Equal(t, uint64(3*4), st.NumberOfNotificationsDelivered+st.NumberOfNotificationsFilteredOut)
	assert.Equal(t, uint64(1), st.NumberOfNotificationsFilteredOutNoMessageAttributes, "the third message has no attributes")
	ss, ok := st.Subscription("eu")
	require.True(t, ok)
	assert.Equal(t, uint64(1), ss.NumberOfNotificationsDelivered)
}

func TestTopicPublishValidates(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "v")
	_, err := tp.Publish(ctx, Message{})
	var me *MessageError
	require.ErrorAs(t, err, &me)
	assert.ErrorIs(t, err, ErrInvalidMessage)
	_, err = tp.Publish(ctx, Message{Body: []byte("x"), GroupID: "g"})
	assert.ErrorIs(t, err, ErrInvalidMessage, "a standard topic refuses a group id")
	//lint:ignore SA1012 a nil context is what is tested
	_, err = tp.Publish(nil, Message{Body: []byte("x")})
	assert.Error(t, err)
	small := newTestTopic(t, "small", WithMaxMessageSize(4))
	_, err = small.Publish(ctx, Message{Body: []byte("12345")})
	assert.ErrorIs(t, err, ErrInvalidMessage)
}

func TestTopicPublishBatch(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "batch")
	var in inbox
	_, err := tp.Subscribe("s", &in, WithRawDelivery())
	require.NoError(t, err)
	res, err := tp.PublishBatch(ctx, Message{Body: []byte("a")}, Message{}, Message{Body: []byte("c")})
	require.NoError(t, err)
	assert.Equal(t, 1, res.FailedEntryCount)
	require.Len(t, res.Entries, 3)
	assert.NotEmpty(t, res.Entries[0].MessageID)
	assert.Equal(t, ErrorCodeInvalidParameter, res.Entries[1].ErrorCode)
	assert.NotEmpty(t, res.Entries[2].MessageID)
	var ee *EntryError
	require.ErrorAs(t, res.Err(), &ee)
	assert.Equal(t, 1, ee.Index)

	res, err = tp.PublishBatch(ctx)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 0, res.FailedEntryCount)
	eleven := make([]Message, 11)
	res, err = tp.PublishBatch(ctx, eleven...)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 11, res.FailedEntryCount)
	drainTopic(t, tp)
	assert.ElementsMatch(t, []string{"a", "c"}, in.bodies())
}

// A FIFO topic delivers each group in order, groups in parallel, and a
// failing message holds up only its own group until it is delivered.
func TestFIFOOrderPerGroup(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "orders.fifo", WithContentBasedDeduplication(),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 10, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
	var mu sync.Mutex
	got := map[string][]int{}
	failed := map[string]bool{}
	h := HandlerFunc(func(_ context.Context, d Delivery) error {
		var v struct{ N int }
		body, _ := d.Body()
		if err := json.Unmarshal(body, &v); err != nil {
			return Permanent(err)
		}
		mu.Lock()
		defer mu.Unlock()
		key := fmt.Sprint(d.GroupID, v.N)
		if v.N%7 == 3 && !failed[key] { // the first attempt of some fails
			failed[key] = true
			return errors.New("transient")
		}
		if v.N%11 == 5 && !failed[key] {
			failed[key] = true
			panic("boom")
		}
		got[d.GroupID] = append(got[d.GroupID], v.N)
		return nil
	})
	_, err := tp.Subscribe("s", h, WithRawDelivery())
	require.NoError(t, err)
	const groups, perGroup = 4, 60
	var wg sync.WaitGroup
	seqs := make([][]string, groups)
	for g := range groups {
		wg.Go(func() {
			for n := range perGroup {
				res, err := tp.Publish(ctx, Message{Body: fmt.Appendf(nil, `{"G":%d,"N":%d}`, g, n), GroupID: fmt.Sprint("g", g)})
				if !assert.NoError(t, err) {
					return
				}
				seqs[g] = append(seqs[g], res.SequenceNumber)
			}
		})
	}
	wg.Wait()
	drainTopic(t, tp)
	mu.Lock()
	defer mu.Unlock()
	want := make([]int, perGroup)
	for i := range want {
		want[i] = i
	}
	for g := range groups {
		assert.Equal(t, want, got[fmt.Sprint("g", g)], "group %d in order", g)
		assert.True(t, slices.IsSorted(seqs[g]), "sequence numbers increase within group %d", g)
	}
}

// De-duplication: within the window a duplicate answers with the original
// message id and is not delivered again; after it, it is a new message.
func TestFIFODeduplication(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tp := newTestTopic(t, "d.fifo", WithClock(clk), WithContentBasedDeduplication())
	var in inbox
	_, err := tp.Subscribe("s", &in, WithRawDelivery())
	require.NoError(t, err)
	first, err := tp.Publish(ctx, Message{Body: []byte("a"), GroupID: "g"})
	require.NoError(t, err)
	dup, err := tp.Publish(ctx, Message{Body: []byte("a"), GroupID: "g"})
	require.NoError(t, err)
	assert.Equal(t, first, dup, "a duplicate answers with the original id and sequence number")
	byID, err := tp.Publish(ctx, Message{Body: []byte("b"), GroupID: "g", DeduplicationID: "k"})
	require.NoError(t, err)
	again, err := tp.Publish(ctx, Message{Body: []byte("other body"), GroupID: "g", DeduplicationID: "k"})
	require.NoError(t, err)
	assert.Equal(t, byID.MessageID, again.MessageID, "the id wins over the content")

	clk.Advance(DefaultDeduplicationWindow)
	later, err := tp.Publish(ctx, Message{Body: []byte("a"), GroupID: "g"})
	require.NoError(t, err)
	assert.NotEqual(t, first.MessageID, later.MessageID, "after the window it is a new message")
	assert.Greater(t, later.SequenceNumber, byID.SequenceNumber)
	drainTopic(t, tp)
	assert.Equal(t, []string{"a", "b", "a"}, in.bodies())
	assert.Equal(t, uint64(2), tp.Stats().NumberOfDuplicatesDropped)

	plain := newTestTopic(t, "p.fifo")
	_, err = plain.Publish(ctx, Message{Body: []byte("a"), GroupID: "g"})
	assert.ErrorIs(t, err, ErrInvalidMessage, "no de-duplication id and no content-based de-duplication")
	_, err = plain.Publish(ctx, Message{Body: []byte("a"), DeduplicationID: "x"})
	assert.ErrorIs(t, err, ErrInvalidMessage, "a FIFO topic needs a group id")
}

// Changing a filter policy while messages flow: each message is filtered
// by the old policy or the new one, never half of each; subscribing and
// unsubscribing meanwhile loses nothing that was accepted.
func TestTopicChangesWhilePublishing(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "live")
	var mu sync.Mutex
	seen := map[string]int{}
	h := HandlerFunc(func(_ context.Context, d Delivery) error {
		a, b := d.Attributes["a"].StringValue, d.Attributes["b"].StringValue
		mu.Lock()
		defer mu.Unlock()
		seen[a+b]++
		return nil
	})
	sub, err := tp.Subscribe("s", h, WithFilterPolicy([]byte(`{"a":["1"],"b":["1"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	var stop atomic.Bool
	var published atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			// Only "11" passes the first policy, only "22" the second: a
			// mix ("12", "21") would pass neither.
			for _, v := range []string{"11", "22", "12", "21"} {
				_, err := tp.Publish(ctx, Message{Body: []byte("x"), Attributes: map[string]Attribute{
					"a": strAttr(v[:1]), "b": strAttr(v[1:])}})
				if !assert.NoError(t, err) {
					return
				}
				published.Add(1)
			}
		}
	})
	// The changes happen while messages flow: some before, some after.
	publishedMore(t, published.Load, 40)
	var churn inbox
	for i := range 200 {
		p := `{"a":["1"],"b":["1"]}`
		if i%2 == 1 {
			p = `{"a":["2"],"b":["2"]}`
		}
		require.NoError(t, sub.SetFilterPolicy([]byte(p), ScopeMessageAttributes))
		extra, err := tp.Subscribe(fmt.Sprint("extra", i), &churn)
		require.NoError(t, err)
		require.NoError(t, extra.Unsubscribe())
		assert.ErrorIs(t, extra.Unsubscribe(), ErrSubscriptionNotFound)
	}
	publishedMore(t, published.Load, 40)
	stop.Store(true)
	wg.Wait()
	drainTopic(t, tp)
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, seen["12"]+seen["21"], "a message passed half of each policy")
	assert.Positive(t, seen["11"]+seen["22"])
	st := tp.Stats()
	ss, _ := st.Subscription("s")
	// s is the only filtered subscription, so the topic's filtered-out
	// count is its own.
	assert.Equal(t, uint64(published.Load()), ss.NumberOfNotificationsDelivered+st.NumberOfNotificationsFilteredOut)
}

// A failing subscriber retries into its own dead letters and never delays
// another subscriber; Close under load accounts for every copy.
func TestTopicDeadLettersAndCloseAccounting(t *testing.T) {
	ctx := context.Background()
	var dead atomic.Int64
	tp, err := NewTopic("acct",
		WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}),
		WithDeadLetter(DeadLetterFunc(func(_ context.Context, dl DeadLetter) {
			assert.Equal(t, "bad", dl.Delivery.Destination)
			assert.Equal(t, "m", string(dl.Event), "the dead letter carries the message body")
			dead.Add(1)
		})))
	require.NoError(t, err)
	var good inbox
	_, err = tp.Subscribe("good", &good, WithRawDelivery())
	require.NoError(t, err)
	_, err = tp.Subscribe("bad", HandlerFunc(func(context.Context, Delivery) error { return errors.New("down") }))
	require.NoError(t, err)
	_, err = tp.Subscribe("odd", &inbox{}, WithFilterPolicy([]byte(`{"n":["odd"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	const n = 300
	for i := range n {
		parity := "even"
		if i%2 == 1 {
			parity = "odd"
		}
		_, err := tp.Publish(ctx, Message{Body: []byte("m"), Attributes: map[string]Attribute{"n": strAttr(parity)}})
		require.NoError(t, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, tp.Close(cctx))
	_, err = tp.Publish(ctx, Message{Body: []byte("m")})
	assert.ErrorIs(t, err, ErrClosed)
	st := tp.Stats()
	assert.Equal(t, uint64(n), st.NumberOfMessagesPublished)
	assert.Equal(t, uint64(n*3), st.NumberOfNotificationsDelivered+st.NumberOfNotificationsFailed+st.NumberOfNotificationsFilteredOut,
		"delivered + dead-lettered + filtered out = subscriptions × published")
	assert.Equal(t, int64(n), dead.Load())
	bad, _ := st.Subscription("bad")
	assert.Equal(t, uint64(n), bad.NumberOfNotificationsRedrivenToDlq)
	assert.Len(t, good.deliveries(), n)
}

// A handler may publish back into its topic (a cascade); loops end at the
// hop limit.
func TestTopicCascadeAndHops(t *testing.T) {
	ctx := context.Background()
	var dead atomic.Int32
	tp := newTestTopic(t, "loop", WithMaxHops(3), WithRetryPolicy(NoRetries()),
		WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) { dead.Add(1) })))
	var calls atomic.Int32
	_, err := tp.Subscribe("echo", HandlerFunc(func(ctx context.Context, d Delivery) error {
		calls.Add(1)
		_, err := tp.Publish(ctx, Message{Body: []byte("again")})
		return err
	}))
	require.NoError(t, err)
	_, err = tp.Publish(ctx, Message{Body: []byte("start")})
	require.NoError(t, err)
	drainTopic(t, tp)
	assert.Equal(t, int32(4), calls.Load(), "hops 0 to 3")
	assert.Equal(t, int32(1), dead.Load(), "the publish past the limit failed, permanently")
}

func TestTopicTargetFromABus(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "fromBus")
	var in inbox
	_, err := tp.Subscribe("s", &in, WithRawDelivery())
	require.NoError(t, err)
	b, err := NewBus("b")
	require.NoError(t, err)
	defer b.Close(ctx)
	require.NoError(t, b.PutRule(Rule{Name: "r", EventPattern: `{"source":["shop"]}`,
		Targets: []Target{TopicTarget("t", tp, WithInputPath("$.detail"))}}))
	_, err = b.PutEvents(ctx, Event{Source: "shop", DetailType: "x", Detail: json.RawMessage(`{"id":1}`)})
	require.NoError(t, err)
	require.NoError(t, b.Drain(ctx))
	drainTopic(t, tp)
	assert.Equal(t, []string{`{"id":1}`}, in.bodies())
}

func TestTypedPublisher(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "typed")
	type Order struct{ ID string }
	var got []Order
	var mu sync.Mutex
	_, err := tp.Subscribe("s", HandlerOf(func(_ context.Context, o Order) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, o)
		return nil
	}))
	require.NoError(t, err)
	p, err := NewPublisher[Order](tp)
	require.NoError(t, err)
	_, err = p.Publish(ctx, Order{ID: "o-1"})
	require.NoError(t, err)
	_, err = p.PublishWith(ctx, Order{ID: "o-2"}, Message{Subject: "second"})
	require.NoError(t, err)
	drainTopic(t, tp)
	mu.Lock()
	defer mu.Unlock()
	assert.ElementsMatch(t, []Order{{"o-1"}, {"o-2"}}, got, "HandlerOf decodes the notification's message")
}

// Filtering one message costs the same with 1 or 10,000 subscriptions with
// distinct policies (one compiled matcher per scope): a benchmark.
//
//	go test -run '^$' -bench TopicFilter -benchmem .
func BenchmarkTopicFilter(b *testing.B) {
	for _, n := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprint("subs=", n), func(b *testing.B) {
			tp, err := NewTopic("bench")
			require.NoError(b, err)
			defer tp.Close(context.Background())
			for i := range n {
				_, err := tp.Subscribe(fmt.Sprint("s", i), HandlerFunc(func(context.Context, Delivery) error { return nil }),
					WithFilterPolicy(fmt.Appendf(nil, `{"customer":["c-%d"]}`, i), ScopeMessageAttributes))
				require.NoError(b, err)
			}
			m := Message{Body: []byte(`{}`), Attributes: map[string]Attribute{"customer": strAttr("nobody")}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tp.Publish(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTopicDescribe(t *testing.T) {
	tp := newTestTopic(t, "orders")
	_, err := tp.Subscribe("email", &inbox{}, WithFilterPolicy([]byte(`{"kind": ["placed"]}`), ScopeMessageAttributes), WithRawDelivery())
	require.NoError(t, err)
	_, err = tp.Subscribe("audit", &inbox{})
	require.NoError(t, err)
	b, err := NewBus("b")
	require.NoError(t, err)
	defer b.Close(context.Background())
	require.NoError(t, b.PutRule(Rule{Name: "r", EventPattern: `{"source":["shop"]}`, Targets: []Target{TopicTarget("fanout", tp)}}))
	topo := b.Describe()
	require.Len(t, topo.Topics, 1)
	td := topo.Topics[0]
	assert.Equal(t, "orders", td.Name)
	require.Len(t, td.Subscriptions, 2)
	assert.Equal(t, "audit", td.Subscriptions[0].Name)
	assert.Equal(t, SubscriptionDescription{Name: "email", Destination: "*eda.inbox", FilterPolicy: `{"kind":["placed"]}`,
		FilterPolicyScope: ScopeMessageAttributes, RawDelivery: true}, td.Subscriptions[1])
	m := topo.Mermaid()
	assert.Contains(t, m, `topic0[["topic: orders"]]`)
	assert.Contains(t, m, `-->|"fanout"| topic0`)
	assert.Contains(t, m, `topic0 --> topic0_sub1`)
	assert.Equal(t, tp.Describe().Topics, topo.Topics)
}

// A thousand subscribers with mixed policies — attribute and body scope,
// prefixes, numbers, anything-but, exists, none — each get exactly the
// messages their policy admits, as MatchFilterPolicy decides for each.
func TestTopicThousandSubscribersMixedPolicies(t *testing.T) {
	ctx := context.Background()
	tp := newTestTopic(t, "many")
	type sub struct {
		policy []byte
		scope  FilterPolicyScope
		got    atomic.Int64
	}
	subs := make([]*sub, 1000)
	for i := range subs {
		s := &sub{}
		switch i % 6 {
		case 0:
			s.policy, s.scope = fmt.Appendf(nil, `{"customer":["c-%d"]}`, i%50), ScopeMessageAttributes
		case 1:
			s.policy, s.scope = fmt.Appendf(nil, `{"region":[{"prefix":"eu-%d"}]}`, i%3), ScopeMessageAttributes
		case 2:
			s.policy, s.scope = fmt.Appendf(nil, `{"total":[{"numeric":[">=",%d]}]}`, i%200), ScopeMessageBody
		case 3:
			s.policy, s.scope = fmt.Appendf(nil, `{"customer":[{"anything-but":["c-%d"]}]}`, i%50), ScopeMessageAttributes
		case 4:
			s.policy, s.scope = []byte(`{"order":{"coupon":[{"exists":true}]}}`), ScopeMessageBody
		}
		subs[i] = s
		opts := []Option{WithRawDelivery()}
		if s.policy != nil {
			opts = append(opts, WithFilterPolicy(s.policy, s.scope))
		}
		_, err := tp.Subscribe(fmt.Sprint("s", i), HandlerFunc(func(context.Context, Delivery) error {
			s.got.Add(1)
			return nil
		}), opts...)
		require.NoError(t, err)
	}
	var msgs []Message
	for i := range 40 {
		body := fmt.Sprintf(`{"total":%d,"order":{"id":%d}}`, i*7, i)
		if i%4 == 0 {
			body = fmt.Sprintf(`{"total":%d,"order":{"id":%d,"coupon":"X"}}`, i*7, i)
		}
		m := Message{Body: []byte(body), Attributes: map[string]Attribute{
			"customer": strAttr(fmt.Sprint("c-", i)), "region": strAttr(fmt.Sprint("eu-", i%4))}}
		if i%10 == 9 {
			m.Attributes = nil
		}
		msgs = append(msgs, m)
		_, err := tp.Publish(ctx, m)
		require.NoError(t, err)
	}
	drainTopic(t, tp)
	for i, s := range subs {
		want := int64(0)
		for _, m := range msgs {
			ok := true
			if s.policy != nil {
				var err error
				ok, err = MatchFilterPolicy(s.policy, s.scope, m)
				require.NoError(t, err)
			}
			if ok {
				want++
			}
		}
		require.Equal(t, want, s.got.Load(), "subscription %d, policy %s", i, s.policy)
	}
}

// Close while publishers are still publishing: every copy of every
// accepted message is accounted for — delivered, dead-lettered (at
// shutdown, or by a failing subscriber) or filtered out.
func TestTopicCloseUnderLoad(t *testing.T) {
	tp, err := NewTopic("load", WithQueueSize(64),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		WithDeadLetter(DeadLetterFunc(func(context.Context, DeadLetter) {})))
	require.NoError(t, err)
	_, err = tp.Subscribe("fast", HandlerFunc(func(context.Context, Delivery) error { return nil }))
	require.NoError(t, err)
	_, err = tp.Subscribe("slow", HandlerFunc(func(ctx context.Context, _ Delivery) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Microsecond):
			return nil
		}
	}))
	require.NoError(t, err)
	_, err = tp.Subscribe("flaky", HandlerFunc(func(_ context.Context, d Delivery) error {
		if d.ID[len(d.ID)-1]%3 == 0 {
			return errors.New("down")
		}
		return nil
	}))
	require.NoError(t, err)
	_, err = tp.Subscribe("picky", &inbox{}, WithFilterPolicy([]byte(`{"k":["a"]}`), ScopeMessageAttributes))
	require.NoError(t, err)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				k := "a"
				if (i+p)%2 == 0 {
					k = "b"
				}
				_, err := tp.Publish(ctx, Message{Body: []byte("m"), Attributes: map[string]Attribute{"k": strAttr(k)}})
				cancel()
				if errors.Is(err, ErrClosed) {
					return
				}
				if err == nil {
					accepted.Add(1)
				}
			}
		})
	}
	require.Eventually(t, func() bool { return accepted.Load() > 500 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = tp.Close(ctx)
	close(stop)
	wg.Wait()
	if err != nil {
		var se *ShutdownError
		require.ErrorAs(t, err, &se)
	}
	st := tp.Stats()
	assert.Equal(t, uint64(accepted.Load()), st.NumberOfMessagesPublished)
	var enqueued uint64
	for _, ss := range st.Subscriptions {
		enqueued += ss.Delivery.Enqueued
		assert.Zero(t, ss.Delivery.InFlight, ss.Subscription)
	}
	assert.Equal(t, enqueued, st.NumberOfNotificationsDelivered+st.NumberOfNotificationsFailed, "every copy queued ended delivered or dead-lettered")
	total := st.NumberOfNotificationsDelivered + st.NumberOfNotificationsFailed + st.NumberOfNotificationsFilteredOut + st.NumberOfNotificationsRefused
	assert.Equal(t, (st.NumberOfMessagesPublished+st.NumberOfMessagesRefused)*4, total,
		"delivered + dead-lettered + filtered out + refused = subscriptions × (published + refused)")
	t.Logf("published %d, refused %d (%d copies)", st.NumberOfMessagesPublished, st.NumberOfMessagesRefused, st.NumberOfNotificationsRefused)
}
