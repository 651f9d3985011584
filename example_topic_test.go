package eda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// received collects what the handlers of an example received, so that the
// example prints it in a fixed order once the topic has drained: handlers
// run concurrently.
type received struct {
	mu    sync.Mutex
	lines []string
}

// handler returns a Handler that records "name: body" for each delivery.
func (r *received) handler(name string) eda.Handler {
	return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		body, _ := d.Body()
		r.add(name + ": " + string(body))
		return nil
	})
}

func (r *received) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
}

// print prints the lines recorded, sorted, and forgets them.
func (r *received) print() {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.lines)
	for _, l := range r.lines {
		fmt.Println(l)
	}
	r.lines = nil
}

// newExampleTopic returns a topic, failing the example if it cannot.
func newExampleTopic(name string, opts ...eda.Option) *eda.Topic {
	topic, err := eda.NewTopic(name, opts...)
	if err != nil {
		log.Fatal(err)
	}
	return topic
}

// subscribe subscribes h to topic, failing the example if it cannot.
func subscribe(topic *eda.Topic, name string, h eda.Handler, opts ...eda.Option) *eda.Subscription {
	s, err := topic.Subscribe(name, h, opts...)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// publish publishes messages to topic one by one and waits until they are
// delivered.
func publish(ctx context.Context, topic *eda.Topic, msgs ...eda.Message) {
	for _, m := range msgs {
		if _, err := topic.Publish(ctx, m); err != nil {
			log.Fatal(err)
		}
	}
	if err := topic.Drain(ctx); err != nil {
		log.Fatal(err)
	}
}

// str is a String message attribute.
func str(v string) eda.Attribute { return eda.Attribute{DataType: "String", StringValue: v} }

// NewTopic makes an in-process SNS topic; a name ending in ".fifo" makes a
// FIFO topic. Names follow SNS's rules.
func ExampleNewTopic() {
	ctx := context.Background()
	topic, err := eda.NewTopic("orders")
	if err != nil {
		log.Fatal(err)
	}
	defer topic.Close(ctx)
	fmt.Println(topic.Name(), topic.FIFO(), topic.ARN())

	fifo, err := eda.NewTopic("payments.fifo", eda.WithContentBasedDeduplication())
	if err != nil {
		log.Fatal(err)
	}
	defer fifo.Close(ctx)
	fmt.Println(fifo.Name(), fifo.FIFO())

	_, err = eda.NewTopic("orders!")
	fmt.Println(errors.Is(err, eda.ErrInvalidTopicName))
	_, err = eda.NewTopic("orders", eda.WithContentBasedDeduplication())
	fmt.Println(errors.Is(err, eda.ErrInvalidOption))
	// Output:
	// orders false arn:aws:sns:us-east-1:000000000000:orders
	// payments.fifo true
	// true
	// true
}

// Publish delivers a message to every subscription and returns once it is
// queued for them. A message SNS would refuse is refused with a
// *MessageError naming the field.
func ExampleTopic_Publish() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var got received
	subscribe(topic, "email", got.handler("email"), eda.WithRawDelivery())
	subscribe(topic, "analytics", got.handler("analytics"), eda.WithRawDelivery())

	res, err := topic.Publish(ctx, eda.Message{
		Body:       []byte(`{"orderId":"o-1","total":42}`),
		Subject:    "OrderPlaced",
		Attributes: map[string]eda.Attribute{"country": str("NL")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.MessageID != "", res.SequenceNumber == "") // a standard topic has no sequence numbers
	if err := topic.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	got.print()

	_, err = topic.Publish(ctx, eda.Message{Body: []byte("x"), GroupID: "g1"})
	var me *eda.MessageError
	fmt.Println(errors.As(err, &me), me.Field)
	fmt.Println(err)
	// Output:
	// true true
	// analytics: {"orderId":"o-1","total":42}
	// email: {"orderId":"o-1","total":42}
	// true GroupID
	// eda: invalid message: GroupID: only FIFO topics take a message group ID
}

// PublishBatch publishes up to ten messages and answers per message: a bad
// message fails alone, in SNS's vocabulary.
func ExampleTopic_PublishBatch() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var got received
	subscribe(topic, "store", got.handler("store"), eda.WithRawDelivery())

	res, err := topic.PublishBatch(ctx,
		eda.Message{Body: []byte("o-1")},
		eda.Message{}, // no body
		eda.Message{Body: []byte("o-3")},
	)
	if err != nil {
		log.Fatal(err) // the call as a whole was refused: no messages, more than 10, or the topic closed
	}
	fmt.Println("failed:", res.FailedEntryCount)
	for i, e := range res.Entries {
		if e.ErrorCode != "" {
			fmt.Printf("%d: %s: %s\n", i, e.ErrorCode, e.ErrorMessage)
		} else {
			fmt.Printf("%d: accepted\n", i)
		}
	}
	if err := topic.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	got.print()

	var ee *eda.EntryError
	fmt.Println(errors.As(res.Err(), &ee), ee.Index)
	// Output:
	// failed: 1
	// 0: accepted
	// 1: InvalidParameter: eda: invalid message: Body: must not be empty
	// 2: accepted
	// store: o-1
	// store: o-3
	// true 1
}

// A filter policy in the attribute scope (SNS's default) is matched
// against the message attributes. It is flat, a value matches by type (a
// String attribute never equals a number), a String.Array attribute
// matches when one of its elements does, and a message without attributes
// matches no such policy.
func ExampleWithFilterPolicy() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var got received
	subscribe(topic, "eu-big", got.handler("eu-big"), eda.WithRawDelivery(),
		eda.WithFilterPolicy([]byte(`{
			"country": ["NL", "DE"],
			"total":   [{"numeric": [">=", 100]}]
		}`), eda.ScopeMessageAttributes))
	subscribe(topic, "gifts", got.handler("gifts"), eda.WithRawDelivery(),
		eda.WithFilterPolicy([]byte(`{"tags": ["gift"]}`), eda.ScopeMessageAttributes))

	number := func(v string) eda.Attribute { return eda.Attribute{DataType: "Number", StringValue: v} }
	publish(ctx, topic,
		eda.Message{Body: []byte("o-1 NL 250"), Attributes: map[string]eda.Attribute{"country": str("NL"), "total": number("250")}},
		eda.Message{Body: []byte("o-2 NL 20"), Attributes: map[string]eda.Attribute{"country": str("NL"), "total": number("20")}},
		// "250" as a String is not the number 250.
		eda.Message{Body: []byte("o-3 DE '250'"), Attributes: map[string]eda.Attribute{"country": str("DE"), "total": str("250")}},
		eda.Message{Body: []byte("o-4 tags"), Attributes: map[string]eda.Attribute{
			"tags": {DataType: "String.Array", StringValue: `["express", "gift"]`},
		}},
		eda.Message{Body: []byte("o-5 no attributes")},
	)
	got.print()

	_, err := topic.Subscribe("nested", got.handler("nested"),
		eda.WithFilterPolicy([]byte(`{"customer": {"tier": ["gold"]}}`), eda.ScopeMessageAttributes))
	fmt.Println(errors.Is(err, eda.ErrInvalidSubscription))
	// Output:
	// eu-big: o-1 NL 250
	// gifts: o-4 tags
	// true
}

// A filter policy in the body scope is matched against the message body,
// which must be a JSON object: nested objects are matched as EventBridge
// patterns match events, and a body that is not JSON matches nothing.
func ExampleWithFilterPolicy_body() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var got received
	subscribe(topic, "fraud", got.handler("fraud"), eda.WithRawDelivery(),
		eda.WithFilterPolicy([]byte(`{
			"payment": {"method": ["card"], "country": [{"anything-but": ["NL"]}]},
			"total":   [{"numeric": [">", 1000]}]
		}`), eda.ScopeMessageBody))

	publish(ctx, topic,
		eda.Message{Body: []byte(`{"id":"o-1","total":5000,"payment":{"method":"card","country":"US"}}`)},
		eda.Message{Body: []byte(`{"id":"o-2","total":5000,"payment":{"method":"card","country":"NL"}}`)},
		eda.Message{Body: []byte(`{"id":"o-3","total":50,"payment":{"method":"card","country":"US"}}`)},
		eda.Message{Body: []byte(`total 5000, card, US`)},
	)
	got.print()
	// Output:
	// fraud: {"id":"o-1","total":5000,"payment":{"method":"card","country":"US"}}
}

// snsNotification has the field names of the JSON notification SNS sends
// to SQS, Lambda and HTTP subscribers.
type snsNotification struct {
	Type              string
	MessageId         string
	TopicArn          string
	Subject           string
	Message           string
	Timestamp         string
	SignatureVersion  string
	Signature         string
	SigningCertURL    string
	UnsubscribeURL    string
	MessageAttributes map[string]struct{ Type, Value string }
}

// A subscription receives SNS's JSON notification by default, and the
// message body itself with WithRawDelivery. Either way the Delivery
// carries the attributes. The notification decodes into a struct written
// for SNS; an in-process topic signs nothing, so Signature,
// SigningCertURL and UnsubscribeURL are empty.
func ExampleWithRawDelivery() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var mu sync.Mutex
	var raw, enveloped eda.Delivery
	record := func(to *eda.Delivery) eda.Handler {
		return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			*to = d
			return nil
		})
	}
	subscribe(topic, "raw", record(&raw), eda.WithRawDelivery())
	subscribe(topic, "enveloped", record(&enveloped))

	publish(ctx, topic, eda.Message{
		Body:       []byte(`{"orderId":"o-1"}`),
		Subject:    "OrderPlaced",
		Attributes: map[string]eda.Attribute{"country": str("NL")},
	})
	mu.Lock()
	defer mu.Unlock()
	fmt.Printf("raw: %s %s %s\n", raw.Kind, raw.Payload, raw.Attributes["country"].StringValue)

	var n snsNotification
	if err := json.Unmarshal(enveloped.Payload, &n); err != nil {
		log.Fatal(err)
	}
	fmt.Println("enveloped:", enveloped.Kind, enveloped.Attributes["country"].StringValue)
	fmt.Println(n.Type, n.MessageId == enveloped.ID, n.TopicArn, n.Subject)
	fmt.Println(n.Message)
	fmt.Println(n.MessageAttributes["country"].Type, n.MessageAttributes["country"].Value)
	_, err := time.Parse(time.RFC3339, n.Timestamp)
	fmt.Println(err == nil, n.SignatureVersion, n.Signature == "", n.SigningCertURL == "", n.UnsubscribeURL == "")

	var body struct{ OrderID string }
	if err := enveloped.Decode(&body); err != nil { // decodes the Message, as for a raw delivery
		log.Fatal(err)
	}
	fmt.Println(body.OrderID)
	// Output:
	// raw: message {"orderId":"o-1"} NL
	// enveloped: notification NL
	// Notification true arn:aws:sns:us-east-1:000000000000:orders OrderPlaced
	// {"orderId":"o-1"}
	// String NL
	// true 1 true true true
	// o-1
}

// SetFilterPolicy changes a subscription's filter policy while messages
// flow; an empty policy removes it, and an invalid one changes nothing.
func ExampleSubscription_SetFilterPolicy() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var got received
	sub := subscribe(topic, "email", got.handler("email"), eda.WithRawDelivery(),
		eda.WithFilterPolicy([]byte(`{"country": ["NL"]}`), eda.ScopeMessageAttributes))
	msg := func(body, country string) eda.Message {
		return eda.Message{Body: []byte(body), Attributes: map[string]eda.Attribute{"country": str(country)}}
	}

	publish(ctx, topic, msg("o-1 NL", "NL"), msg("o-2 DE", "DE"))
	if err := sub.SetFilterPolicy([]byte(`{"country": ["DE"]}`), eda.ScopeMessageAttributes); err != nil {
		log.Fatal(err)
	}
	publish(ctx, topic, msg("o-3 NL", "NL"), msg("o-4 DE", "DE"))
	err := sub.SetFilterPolicy([]byte(`{"country": "DE"}`), eda.ScopeMessageAttributes) // not a list
	fmt.Println(errors.Is(err, eda.ErrInvalidSubscription))
	if err := sub.SetFilterPolicy(nil, eda.ScopeMessageAttributes); err != nil {
		log.Fatal(err)
	}
	publish(ctx, topic, msg("o-5 FR", "FR"))
	got.print()
	// Output:
	// true
	// email: o-1 NL
	// email: o-4 DE
	// email: o-5 FR
}

// Unsubscribe removes a subscription; messages published afterwards no
// longer reach it.
func ExampleSubscription_Unsubscribe() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var got received
	sub := subscribe(topic, "email", got.handler("email"), eda.WithRawDelivery())
	subscribe(topic, "store", got.handler("store"), eda.WithRawDelivery())

	publish(ctx, topic, eda.Message{Body: []byte("o-1")})
	if err := sub.Unsubscribe(); err != nil {
		log.Fatal(err)
	}
	publish(ctx, topic, eda.Message{Body: []byte("o-2")})
	got.print()

	fmt.Println(errors.Is(sub.Unsubscribe(), eda.ErrSubscriptionNotFound))
	_, err := topic.Subscription("email")
	fmt.Println(errors.Is(err, eda.ErrSubscriptionNotFound), len(topic.Subscriptions()))
	// Output:
	// email: o-1
	// store: o-1
	// store: o-2
	// true
	// true 1
}

// A FIFO topic delivers the messages of a group one at a time, in the
// order they were published, and drops a message whose de-duplication id —
// here, with content-based de-duplication, the SHA-256 of its body — was
// seen within the window: Publish answers with the original's id and
// sequence number.
func ExampleWithContentBasedDeduplication() {
	ctx := context.Background()
	topic := newExampleTopic("payments.fifo", eda.WithContentBasedDeduplication())
	defer topic.Close(ctx)
	var mu sync.Mutex
	perCustomer := map[string][]string{}
	subscribe(topic, "ledger", eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		perCustomer[d.GroupID] = append(perCustomer[d.GroupID], string(d.Payload))
		return nil
	}), eda.WithRawDelivery())

	var results []eda.PublishResult
	for _, m := range []eda.Message{
		{GroupID: "alice", Body: []byte("alice pays 10")},
		{GroupID: "bob", Body: []byte("bob pays 5")},
		{GroupID: "alice", Body: []byte("alice pays 20")},
		{GroupID: "alice", Body: []byte("alice pays 10")}, // the same body: a duplicate
		{GroupID: "alice", Body: []byte("alice refunds 10"), DeduplicationID: "refund-1"},
	} {
		res, err := topic.Publish(ctx, m)
		if err != nil {
			log.Fatal(err)
		}
		results = append(results, res)
	}
	if err := topic.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println(r.SequenceNumber)
	}
	fmt.Println("duplicate answered with the original:", results[3] == results[0])
	mu.Lock()
	defer mu.Unlock()
	fmt.Println("alice:", strings.Join(perCustomer["alice"], ", "))
	fmt.Println("bob:", strings.Join(perCustomer["bob"], ", "))
	fmt.Println("dropped:", topic.Stats().NumberOfDuplicatesDropped)

	strict := newExampleTopic("strict.fifo") // no content-based de-duplication
	defer strict.Close(ctx)
	_, err := strict.Publish(ctx, eda.Message{GroupID: "alice", Body: []byte("x")})
	fmt.Println(err)
	// Output:
	// 00000000000000000001
	// 00000000000000000002
	// 00000000000000000003
	// 00000000000000000001
	// 00000000000000000004
	// duplicate answered with the original: true
	// alice: alice pays 10, alice pays 20, alice refunds 10
	// bob: bob pays 5
	// dropped: 1
	// eda: invalid message: DeduplicationID: required: the topic has no content-based de-duplication (WithContentBasedDeduplication)
}

// settableClock is a Clock whose time moves only when the example sets it;
// its timers are real ones.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *settableClock) AfterFunc(d time.Duration, f func()) eda.Timer { return time.AfterFunc(d, f) }

func (c *settableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// WithDeduplicationWindow sets how long a FIFO topic remembers
// de-duplication ids, on the topic's clock: after the window, the same id
// is a new message.
func ExampleWithDeduplicationWindow() {
	ctx := context.Background()
	clock := &settableClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	topic := newExampleTopic("payments.fifo", eda.WithClock(clock), eda.WithDeduplicationWindow(time.Minute))
	defer topic.Close(ctx)
	var got received
	subscribe(topic, "ledger", got.handler("ledger"), eda.WithRawDelivery())

	m := eda.Message{GroupID: "alice", DeduplicationID: "payment-7", Body: []byte("alice pays 10")}
	publish(ctx, topic, m)
	clock.advance(59 * time.Second)
	publish(ctx, topic, m) // within the window: dropped
	other := m
	other.GroupID = "bob"
	publish(ctx, topic, other) // the window is topic-wide: another group's message with the id is dropped too
	clock.advance(time.Second)
	publish(ctx, topic, m) // the window has passed: delivered
	got.print()
	fmt.Println("dropped:", topic.Stats().NumberOfDuplicatesDropped)
	// Output:
	// ledger: alice pays 10
	// ledger: alice pays 10
	// dropped: 2
}

// TopicTarget makes a topic the target of a Bus rule, as EventBridge's SNS
// targets: the message body is the event (or the target's input).
func ExampleTopicTarget() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	var got received
	subscribe(topic, "email", got.handler("email"), eda.WithRawDelivery())

	bus, err := eda.NewBus("shop")
	if err != nil {
		log.Fatal(err)
	}
	err = bus.PutRule(eda.Rule{
		Name:         "placed",
		EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets:      []eda.Target{eda.TopicTarget("to-orders", topic, eda.WithInputPath("$.detail"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	putAndDrain(ctx, bus, exampleEvent(`{"orderId":"o-1"}`))
	// Close the bus first: its target is an outside publisher of the topic.
	if err := bus.Close(ctx); err != nil {
		log.Fatal(err)
	}
	if err := topic.Close(ctx); err != nil {
		log.Fatal(err)
	}
	got.print()
	// Output:
	// email: {"orderId":"o-1"}
}

// Placed is the body of the messages of ExampleNewPublisher.
type Placed struct {
	OrderID string  `json:"orderId"`
	Total   float64 `json:"total"`
}

// NewPublisher binds a Go type to a topic (or any Publisher): the value is
// marshalled as JSON into the message body, and PublishWith adds the rest
// of the message. HandlerOf decodes it on the other side, from a raw
// message or a notification alike.
func ExampleNewPublisher() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	var got received
	subscribe(topic, "store", eda.HandlerOf(func(ctx context.Context, p Placed) error {
		got.add(fmt.Sprintf("store: %s %.2f", p.OrderID, p.Total))
		return nil
	}))

	placed, err := eda.NewPublisher[Placed](topic)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := placed.Publish(ctx, Placed{OrderID: "o-1", Total: 12.5}); err != nil {
		log.Fatal(err)
	}
	_, err = placed.PublishWith(ctx, Placed{OrderID: "o-2", Total: 99}, eda.Message{
		Subject:    "OrderPlaced",
		Attributes: map[string]eda.Attribute{"country": str("NL")},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := topic.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	got.print()

	// In a test, a PublisherFunc stands in for the topic.
	fake := eda.PublisherFunc(func(ctx context.Context, m eda.Message) (eda.PublishResult, error) {
		fmt.Printf("would publish %s\n", m.Body)
		return eda.PublishResult{MessageID: "fake-1"}, nil
	})
	p, err := eda.NewPublisher[Placed](fake)
	if err != nil {
		log.Fatal(err)
	}
	res, _ := p.Publish(ctx, Placed{OrderID: "o-3"})
	fmt.Println(res.MessageID)
	// Output:
	// store: o-1 12.50
	// store: o-2 99.00
	// would publish {"orderId":"o-3","total":0}
	// fake-1
}

// Stats reports SNS's CloudWatch metrics: for every message accepted, each
// subscription either received a copy or counts as filtered out.
func ExampleTopic_Stats() {
	ctx := context.Background()
	topic := newExampleTopic("orders", eda.WithLogger(slog.New(slog.DiscardHandler))) // no failure log lines
	defer topic.Close(ctx)
	subscribe(topic, "all", eda.HandlerFunc(func(context.Context, eda.Delivery) error { return nil }))
	subscribe(topic, "nl", eda.HandlerFunc(func(context.Context, eda.Delivery) error { return nil }),
		eda.WithFilterPolicy([]byte(`{"country": ["NL"]}`), eda.ScopeMessageAttributes))
	subscribe(topic, "broken", eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		return eda.Permanent(errors.New("mailbox full"))
	}), eda.WithDeadLetter(eda.DeadLetterFunc(func(context.Context, eda.DeadLetter) {})))

	publish(ctx, topic,
		eda.Message{Body: []byte("o-1"), Attributes: map[string]eda.Attribute{"country": str("NL")}},
		eda.Message{Body: []byte("o-2"), Attributes: map[string]eda.Attribute{"country": str("DE")}},
		eda.Message{Body: []byte("o-3")},
	)
	s := topic.Stats()
	fmt.Println("published:", s.NumberOfMessagesPublished, "bytes:", s.PublishSize)
	fmt.Println("delivered:", s.NumberOfNotificationsDelivered, "failed:", s.NumberOfNotificationsFailed,
		"redriven to DLQ:", s.NumberOfNotificationsRedrivenToDlq)
	fmt.Println("filtered out:", s.NumberOfNotificationsFilteredOut,
		"of which without attributes:", s.NumberOfNotificationsFilteredOutNoMessageAttributes,
		"with invalid attributes:", s.NumberOfNotificationsFilteredOutInvalidAttributes) // Publish refuses those
	for _, ss := range s.Subscriptions {
		fmt.Printf("%-6s delivered=%d failed=%d\n", ss.Subscription, ss.NumberOfNotificationsDelivered, ss.NumberOfNotificationsFailed)
	}
	// Output:
	// published: 3 bytes: 39
	// delivered: 4 failed: 3 redriven to DLQ: 3
	// filtered out: 2 of which without attributes: 1 with invalid attributes: 0
	// all    delivered=3 failed=0
	// broken delivered=0 failed=3
	// nl     delivered=1 failed=0
}

// notifyByEmail is a subscriber of ExampleTopic_Describe.
func notifyByEmail(context.Context, eda.Delivery) error { return nil }

// Describe returns a topic's subscriptions, their filter policies and
// handlers, as data and as a Mermaid diagram.
func ExampleTopic_Describe() {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer topic.Close(ctx)
	subscribe(topic, "email", eda.HandlerFunc(notifyByEmail),
		eda.WithFilterPolicy([]byte(`{"country": ["NL"]}`), eda.ScopeMessageAttributes))
	subscribe(topic, "archive", eda.HandlerFunc(archive), eda.WithRawDelivery())

	d := topic.Describe()
	for _, s := range d.Topics[0].Subscriptions {
		fmt.Println(s.Name, s.Destination, s.RawDelivery, s.FilterPolicyScope, s.FilterPolicy != "")
	}
	fmt.Print(d.Mermaid())
	// Output:
	// archive eda_test.archive true MessageAttributes false
	// email eda_test.notifyByEmail false MessageAttributes true
	// flowchart LR
	//   topic0[["topic: orders"]]
	//   topic0_sub0["archive<br/>handler: eda_test.archive"]
	//   topic0 --> topic0_sub0
	//   topic0_sub1["email<br/>handler: eda_test.notifyByEmail<br/>{#quot;country#quot;:[#quot;NL#quot;]}"]
	//   topic0 --> topic0_sub1
}

// WithFilterPolicyLimits lifts or changes SNS's constraints on the filter
// policies of a topic's subscriptions: by default at most 5 keys.
func ExampleWithFilterPolicyLimits() {
	ctx := context.Background()
	policy := []byte(`{"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]}`)
	h := eda.HandlerFunc(func(context.Context, eda.Delivery) error { return nil })

	strict := newExampleTopic("strict")
	defer strict.Close(ctx)
	_, err := strict.Subscribe("six-keys", h, eda.WithFilterPolicy(policy, eda.ScopeMessageAttributes))
	fmt.Println(err != nil)

	lenient := newExampleTopic("lenient", eda.WithFilterPolicyLimits(eda.FilterPolicyLimits{MaxKeys: -1}))
	defer lenient.Close(ctx)
	_, err = lenient.Subscribe("six-keys", h, eda.WithFilterPolicy(policy, eda.ScopeMessageAttributes))
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}

// SNS's filter policies differ from EventBridge's patterns; MatchFilterPolicy
// follows SNS.
func ExampleMatchFilterPolicy_differences() {
	match := func(policy string, scope eda.FilterPolicyScope, m eda.Message) {
		ok, err := eda.MatchFilterPolicy([]byte(policy), scope, m)
		fmt.Println(ok, err)
	}
	attrs := func(a map[string]eda.Attribute) eda.Message { return eda.Message{Body: []byte("x"), Attributes: a} }

	// A String attribute never equals a number, and a number never equals a string.
	match(`{"n": [5]}`, eda.ScopeMessageAttributes, attrs(map[string]eda.Attribute{"n": str("5")}))
	match(`{"n": ["5"]}`, eda.ScopeMessageAttributes, attrs(map[string]eda.Attribute{"n": {DataType: "Number", StringValue: "5"}}))
	// A String.Array matches element by element.
	match(`{"tags": ["b"]}`, eda.ScopeMessageAttributes, attrs(map[string]eda.Attribute{"tags": {DataType: "String.Array", StringValue: `["a","b"]`}}))
	// A Binary attribute never matches.
	match(`{"blob": [{"exists": true}]}`, eda.ScopeMessageAttributes, attrs(map[string]eda.Attribute{"blob": {DataType: "Binary", BinaryValue: []byte{1}}}))
	// In the attribute scope, a message without attributes matches nothing,
	// not even anything-but or exists false.
	match(`{"n": [{"anything-but": ["x"]}]}`, eda.ScopeMessageAttributes, eda.Message{Body: []byte("x")})
	match(`{"n": [{"exists": false}]}`, eda.ScopeMessageAttributes, eda.Message{Body: []byte("x")})
	// In the body scope, a body that is not JSON matches nothing.
	match(`{"n": [{"exists": false}]}`, eda.ScopeMessageBody, eda.Message{Body: []byte("not JSON")})
	// Refused: a nested attribute policy, anything-but with a suffix,
	// prefix combined with equals-ignore-case, more than 5 decimals, a
	// number beyond ±10^9.
	match(`{"a": {"b": ["x"]}}`, eda.ScopeMessageAttributes, attrs(nil))
	match(`{"a": [{"anything-but": {"suffix": "x"}}]}`, eda.ScopeMessageAttributes, attrs(nil))
	match(`{"a": [{"prefix": {"equals-ignore-case": "x"}}]}`, eda.ScopeMessageBody, attrs(nil))
	match(`{"a": [{"numeric": [">", 0.000001]}]}`, eda.ScopeMessageBody, attrs(nil))
	match(`{"a": [{"numeric": ["<", 2000000000]}]}`, eda.ScopeMessageBody, attrs(nil))
	// Output:
	// false <nil>
	// false <nil>
	// true <nil>
	// false <nil>
	// false <nil>
	// false <nil>
	// false <nil>
	// false filter policy: a: a nested policy is not allowed in the MessageAttributes scope (attributes are flat); use the MessageBody scope to filter on nested properties
	// false filter policy: a: anything-but: SNS filter policies do not support "suffix" inside anything-but (only prefix)
	// false filter policy: a: prefix: SNS filter policies take a string here; equals-ignore-case cannot be combined with prefix
	// false filter policy: a: number 0.000001 has more than 5 digits after the decimal point (SNS's numeric accuracy)
	// false filter policy: a: number 2000000000 is outside the range SNS allows (±1e+09)
}

// The promises of the README's Topic sections that the examples above do
// not show.

// gate is a handler that blocks each delivery until released, and reports
// each one it starts.
type gate struct {
	started chan string
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan string, 100), release: make(chan struct{})} }

func (g *gate) Handle(ctx context.Context, d eda.Delivery) error {
	g.started <- string(d.Payload)
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// next returns the payload of the next delivery started, failing t after
// five seconds.
func (g *gate) next(t *testing.T) string {
	t.Helper()
	select {
	case p := <-g.started:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery started within 5 s")
		return ""
	}
}

func closeTopic(t *testing.T, topic *eda.Topic) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, topic.Close(ctx))
}

// Unsubscribe: the messages already queued for the subscription are still
// delivered.
func TestTopicUnsubscribeDeliversQueued(t *testing.T) {
	ctx := context.Background()
	topic := newExampleTopic("orders")
	defer closeTopic(t, topic)
	g := newGate()
	sub := subscribe(topic, "slow", g, eda.WithRawDelivery(), eda.WithMaxConcurrency(1))
	for _, b := range []string{"m1", "m2", "m3"} {
		_, err := topic.Publish(ctx, eda.Message{Body: []byte(b)})
		require.NoError(t, err)
	}
	assert.Equal(t, "m1", g.next(t))
	require.NoError(t, sub.Unsubscribe())
	close(g.release)
	got := []string{"m1", g.next(t), g.next(t)}
	assert.Equal(t, []string{"m1", "m2", "m3"}, got)
	require.NoError(t, topic.Drain(ctx))
	assert.Equal(t, uint64(3), sub.Stats().NumberOfNotificationsDelivered)
}

// A FIFO message that the topic did not accept (its subscription's queue
// stayed full) is not remembered for de-duplication: sent again, it is
// delivered.
func TestFIFORefusedMessageCanBeSentAgain(t *testing.T) {
	ctx := context.Background()
	topic := newExampleTopic("payments.fifo")
	defer closeTopic(t, topic)
	g := newGate()
	subscribe(topic, "ledger", g, eda.WithRawDelivery(), eda.WithQueueSize(1))
	msg := func(id string) eda.Message { return eda.Message{GroupID: "g", DeduplicationID: id, Body: []byte(id)} }

	_, err := topic.Publish(ctx, msg("m1"))
	require.NoError(t, err)
	assert.Equal(t, "m1", g.next(t)) // m1 is being handled; the queue has room for one more
	var refused string
	for i := 2; i <= 10 && refused == ""; i++ {
		id := fmt.Sprint("m", i)
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := topic.Publish(short, msg(id))
		cancel()
		if err != nil {
			require.ErrorIs(t, err, eda.ErrFull)
			refused = id
		}
	}
	require.NotEmpty(t, refused, "the queue never filled")
	assert.Equal(t, uint64(0), topic.Stats().NumberOfDuplicatesDropped)

	close(g.release)
	_, err = topic.Publish(ctx, msg(refused))
	require.NoError(t, err)
	require.NoError(t, topic.Drain(ctx))
	s := topic.Stats()
	assert.Equal(t, uint64(0), s.NumberOfDuplicatesDropped)
	assert.Equal(t, s.NumberOfMessagesPublished, s.NumberOfNotificationsDelivered)
	// The re-sent message was delivered, last.
	var last string
	for len(g.started) > 0 {
		last = <-g.started
	}
	assert.Equal(t, refused, last)
}

// TopicTarget to a FIFO topic: the group is the rule's name and the
// de-duplication id the event's id, so an event put twice is published
// once.
func TestTopicTargetFIFOGroupAndDeduplication(t *testing.T) {
	ctx := context.Background()
	topic := newExampleTopic("orders.fifo")
	defer closeTopic(t, topic)
	var mu sync.Mutex
	var got []eda.Delivery
	subscribe(topic, "all", eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d)
		return nil
	}), eda.WithRawDelivery())
	bus, err := eda.NewBus("shop")
	require.NoError(t, err)
	require.NoError(t, bus.PutRule(eda.Rule{Name: "placed", EventPattern: `{"detail-type": ["OrderPlaced"]}`,
		Targets: []eda.Target{eda.TopicTarget("to-orders", topic, eda.WithInputPath("$.detail"))}}))
	e := exampleEvent(`{"orderId":"o-1"}`)
	e.ID = "event-1"
	putAndDrain(ctx, bus, e, e)
	require.NoError(t, bus.Close(ctx))
	require.NoError(t, topic.Drain(ctx))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	assert.Equal(t, "placed", got[0].GroupID)
	assert.JSONEq(t, `{"orderId":"o-1"}`, string(got[0].Payload))
	assert.Equal(t, uint64(1), topic.Stats().NumberOfDuplicatesDropped)
}

// Delivery settings given to NewTopic are the defaults of its
// subscriptions; given to Subscribe, they override them.
func TestTopicSubscriptionOverridesDefaults(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	dead := map[string]string{} // subscription: which handler took it, after how many attempts
	deadLetters := func(who string) eda.DeadLetterHandler {
		return eda.DeadLetterFunc(func(_ context.Context, dl eda.DeadLetter) {
			mu.Lock()
			defer mu.Unlock()
			dead[dl.Delivery.Destination] = fmt.Sprintf("%s after %d", who, dl.Attempts)
		})
	}
	topic := newExampleTopic("orders", eda.WithRetryPolicy(eda.NoRetries()), eda.WithDeadLetter(deadLetters("topic's")),
		eda.WithLogger(slog.New(slog.DiscardHandler)))
	defer closeTopic(t, topic)
	failing := eda.HandlerFunc(func(context.Context, eda.Delivery) error { return errors.New("down") })
	subscribe(topic, "defaults", failing)
	subscribe(topic, "own", failing,
		eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}),
		eda.WithDeadLetter(deadLetters("own")))
	_, err := topic.Publish(ctx, eda.Message{Body: []byte("m")})
	require.NoError(t, err)
	require.NoError(t, topic.Drain(ctx))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]string{"defaults": "topic's after 1", "own": "own after 3"}, dead)
}
