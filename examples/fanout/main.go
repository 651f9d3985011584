// Command fanout is SNS-style fan-out in one process: an order topic whose
// subscribers each take the messages they care about.
//
// The standard topic "orders" has four subscriptions:
//
//   - email-service: a filter policy on the message attributes (event and
//     country), and SNS's JSON notification, which it decodes as an SQS or
//     Lambda subscriber of SNS would;
//   - analytics-service: a filter policy on the attributes too, and raw
//     delivery (the message body itself);
//   - fraud-service: a filter policy on the message body (big card
//     payments), raw delivery;
//   - loyalty-service: no filter; it rejects one customer's orders, which
//     are retried and then go to its dead letters (SNS's redrive policy).
//
// A Bus rule fans a legacy system's big orders out into the same topic
// (eda.TopicTarget); those messages carry no attributes, so only the
// subscriptions without an attribute policy see them.
//
// The FIFO topic "payments.fifo" keeps each customer's payments in order,
// even when one of them has to be retried, and drops a payment sent twice
// (content-based de-duplication).
//
// It prints what each subscriber received, in a fixed order once the
// topics have drained, then the topics' statistics and the topology as a
// Mermaid diagram (paste the lines from "flowchart LR" on into
// https://mermaid.live to see it drawn). Its output is the same on every
// run.
//
// Run it with:
//
//	go run ./examples/fanout
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edakit/eda"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Order is the body of the messages of the orders topic.
type Order struct {
	OrderID  string  `json:"orderId"`
	Customer string  `json:"customer"`
	Total    float64 `json:"total"`
	Payment  Payment `json:"payment"`
}

// Payment says how an order is paid.
type Payment struct {
	Method string `json:"method"`
}

// Notification is SNS's JSON notification, with SNS's field names: what an
// SQS queue or a Lambda function subscribed to an SNS topic receives.
type Notification struct {
	Type              string
	MessageId         string
	TopicArn          string
	Subject           string
	Message           string
	Timestamp         time.Time
	MessageAttributes map[string]struct{ Type, Value string }
}

// PaymentMade is the body of the messages of the payments topic.
type PaymentMade struct {
	PaymentID string `json:"paymentId"`
	Customer  string `json:"customer"`
	Amount    int    `json:"amount"`
}

// service is a subscriber: a handler with a name, by which Describe and the
// Mermaid diagram know it (the eda.Named interface).
type service struct {
	name   string
	handle func(ctx context.Context, d eda.Delivery) error
}

func (s service) Handle(ctx context.Context, d eda.Delivery) error { return s.handle(ctx, d) }
func (s service) Name() string                                     { return s.name }

// journal records what the subscribers did, to print it in a fixed order.
type journal struct {
	mu      sync.Mutex
	lines   map[string][]string // by subscriber
	ledger  map[string][]string // the payments topic's ledger, by customer
	retried map[string]bool     // payments whose first attempt failed
}

func (j *journal) add(who, format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines[who] = append(j.lines[who], fmt.Sprintf(format, args...))
}

// run builds the topics and the bus, publishes, waits for delivery and
// prints the outcome.
func run(w io.Writer) (err error) {
	ctx := context.Background()
	j := &journal{lines: map[string][]string{}, ledger: map[string][]string{}, retried: map[string]bool{}}
	// Quick retries, so that the example finishes at once; the default is
	// EventBridge's and SNS's patient schedule. Failed attempts are logged
	// by default; this example reports them through its dead letters.
	quick := eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	quiet := eda.WithLogger(slog.New(slog.DiscardHandler))

	orders, err := eda.NewTopic("orders", quick, quiet)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, orders.Close(ctx)) }()
	payments, err := eda.NewTopic("payments.fifo", quick, quiet, eda.WithContentBasedDeduplication())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, payments.Close(ctx)) }()
	bus, err := eda.NewBus("legacy", quiet)
	if err != nil {
		return err
	}
	// Deferred last, so closed first: the bus publishes into the topic.
	defer func() { err = errors.Join(err, bus.Close(ctx)) }()

	if err := subscribeOrders(orders, j); err != nil {
		return err
	}
	if err := subscribePayments(payments, j); err != nil {
		return err
	}
	err = bus.PutRule(eda.Rule{
		Name:         "big-legacy-orders",
		EventPattern: `{"detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">=", 1000]}]}}`,
		Targets:      []eda.Target{eda.TopicTarget("to-orders-topic", orders, eda.WithInputPath("$.detail"))},
	})
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "== publish to orders ==")
	if err := publishOrders(ctx, w, orders, bus); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n== publish to payments.fifo ==")
	if err := publishPayments(ctx, w, payments); err != nil {
		return err
	}

	// Wait for every delivery, retries and dead letters included: first the
	// bus, whose target publishes into the orders topic, then the topics.
	drainCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, drain := range []func(context.Context) error{bus.Drain, orders.Drain, payments.Drain} {
		if err := drain(drainCtx); err != nil {
			return err
		}
	}
	j.print(w)
	printStats(w, orders.Stats())
	printStats(w, payments.Stats())
	topo := bus.Describe() // the bus, and the orders topic its target reaches
	topo.Topics = append(topo.Topics, payments.Describe().Topics...)
	fmt.Fprintf(w, "\n== topology (Mermaid) ==\n%s", topo.Mermaid())
	return nil
}

// subscribeOrders subscribes the four services to the orders topic.
func subscribeOrders(orders *eda.Topic, j *journal) error {
	email := service{"email-service", func(ctx context.Context, d eda.Delivery) error {
		var n Notification // the default delivery: SNS's JSON notification
		if err := json.Unmarshal(d.Payload, &n); err != nil {
			return eda.Permanent(err)
		}
		var o Order
		if err := json.Unmarshal([]byte(n.Message), &o); err != nil {
			return eda.Permanent(err)
		}
		j.add("email-service", "%s %q to %s (%s, %s, from %s)", n.Type, n.Subject, o.Customer,
			n.MessageAttributes["event"].Value, n.MessageAttributes["country"].Value, n.TopicArn)
		return nil
	}}
	analytics := service{"analytics-service", func(ctx context.Context, d eda.Delivery) error {
		var o Order // raw delivery: the body itself; the attributes ride along
		if err := d.Decode(&o); err != nil {
			return err
		}
		j.add("analytics-service", "%s %s %s %.2f", d.Attributes["event"].StringValue, o.OrderID, d.Attributes["country"].StringValue, o.Total)
		return nil
	}}
	fraud := service{"fraud-service", func(ctx context.Context, d eda.Delivery) error {
		var o Order
		if err := d.Decode(&o); err != nil {
			return err
		}
		j.add("fraud-service", "check %s: %s pays %.2f by %s", o.OrderID, o.Customer, o.Total, o.Payment.Method)
		return nil
	}}
	loyalty := service{"loyalty-service", func(ctx context.Context, d eda.Delivery) error {
		var o Order
		if err := d.Decode(&o); err != nil {
			return err
		}
		if o.Customer == "mallory" {
			return fmt.Errorf("account of %s is closed", o.Customer)
		}
		event, ok := d.Attributes["event"]
		switch {
		case !ok: // from the bus: no attributes
			j.add("loyalty-service", "%s (legacy): %d points for %s", o.OrderID, int(o.Total/10), o.Customer)
		case event.StringValue == "OrderPlaced":
			j.add("loyalty-service", "%s (%s): %d points for %s", o.OrderID, event.StringValue, int(o.Total/10), o.Customer)
		default:
			j.add("loyalty-service", "%s (%s): no points", o.OrderID, event.StringValue)
		}
		return nil
	}}
	deadLetters := eda.DeadLetterFunc(func(ctx context.Context, dl eda.DeadLetter) {
		j.add("dead letters", "%s after %d attempts (%s): %v; body %s", dl.Delivery.Destination, dl.Attempts, dl.Reason, dl.Err, dl.Event)
	})

	subs := []struct {
		h    eda.Handler
		opts []eda.Option
	}{
		{email, []eda.Option{eda.WithFilterPolicy([]byte(`{
			"event":   ["OrderPlaced", "OrderShipped"],
			"country": ["NL", "DE", "FR"]
		}`), eda.ScopeMessageAttributes)}},
		{analytics, []eda.Option{eda.WithRawDelivery(),
			eda.WithFilterPolicy([]byte(`{"event": [{"prefix": "Order"}]}`), eda.ScopeMessageAttributes)}},
		{fraud, []eda.Option{eda.WithRawDelivery(), eda.WithFilterPolicy([]byte(`{
			"total":   [{"numeric": [">=", 1000]}],
			"payment": {"method": ["card"]}
		}`), eda.ScopeMessageBody)}},
		{loyalty, []eda.Option{eda.WithRawDelivery(), eda.WithDeadLetter(deadLetters)}},
	}
	for _, s := range subs {
		if _, err := orders.Subscribe(strings.TrimSuffix(s.h.(eda.Named).Name(), "-service"), s.h, s.opts...); err != nil {
			return err
		}
	}
	return nil
}

// publishOrders publishes orders with a typed publisher, and puts a
// legacy system's order on the bus, whose rule fans it out into the topic.
func publishOrders(ctx context.Context, w io.Writer, orders *eda.Topic, bus *eda.Bus) error {
	pub, err := eda.NewPublisher[Order](orders)
	if err != nil {
		return err
	}
	for _, m := range []struct {
		event, country string
		o              Order
	}{
		{"OrderPlaced", "NL", Order{"o-1", "alice", 250, Payment{"card"}}},
		{"OrderPlaced", "US", Order{"o-2", "bob", 1800, Payment{"card"}}},
		{"OrderPlaced", "DE", Order{"o-3", "carol", 7200, Payment{"invoice"}}},
		{"OrderPlaced", "FR", Order{"o-4", "mallory", 40, Payment{"card"}}},
		{"OrderShipped", "NL", Order{"o-1", "alice", 250, Payment{"card"}}},
	} {
		_, err := pub.PublishWith(ctx, m.o, eda.Message{
			Subject: m.event + " " + m.o.OrderID,
			Attributes: map[string]eda.Attribute{
				"event":   {DataType: "String", StringValue: m.event},
				"country": {DataType: "String", StringValue: m.country},
			},
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "published %-12s %s %-7s %s %8.2f %s\n", m.event, m.o.OrderID, m.o.Customer, m.country, m.o.Total, m.o.Payment.Method)
	}

	legacy, err := eda.NewProducer[Order](bus, "com.example.legacy", "OrderPlaced")
	if err != nil {
		return err
	}
	o := Order{"o-5", "dave", 3000, Payment{"card"}}
	if _, err := legacy.Put(ctx, o); err != nil {
		return err
	}
	fmt.Fprintf(w, "put on bus legacy: OrderPlaced %s %s %.2f (rule big-legacy-orders publishes its detail to the topic, without attributes)\n", o.OrderID, o.Customer, o.Total)
	return nil
}

// subscribePayments subscribes the ledger to the payments topic. Its first
// attempt at each customer's first payment fails: the payment is retried
// before the customer's later payments, which wait for it.
func subscribePayments(payments *eda.Topic, j *journal) error {
	ledger := service{"ledger-service", func(ctx context.Context, d eda.Delivery) error {
		var p PaymentMade
		if err := d.Decode(&p); err != nil {
			return err
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		if len(j.ledger[d.GroupID]) == 0 && !j.retried[p.PaymentID] {
			j.retried[p.PaymentID] = true
			return errors.New("database busy")
		}
		entry := fmt.Sprintf("%s %+d", p.PaymentID, p.Amount)
		if d.Attempt > 1 {
			entry += fmt.Sprintf(" (attempt %d)", d.Attempt)
		}
		j.ledger[d.GroupID] = append(j.ledger[d.GroupID], entry)
		return nil
	}}
	_, err := payments.Subscribe("ledger", ledger, eda.WithRawDelivery())
	return err
}

// publishPayments publishes payments, one message group per customer, and
// one payment twice.
func publishPayments(ctx context.Context, w io.Writer, payments *eda.Topic) error {
	pub, err := eda.NewPublisher[PaymentMade](payments)
	if err != nil {
		return err
	}
	for _, p := range []PaymentMade{
		{"p-1", "alice", 10},
		{"p-2", "bob", 5},
		{"p-3", "alice", 20},
		{"p-4", "alice", -10},
		{"p-3", "alice", 20}, // sent again: the same body, so the same de-duplication id
		{"p-5", "bob", 7},
	} {
		res, err := pub.PublishWith(ctx, p, eda.Message{GroupID: p.Customer})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "published %s %-5s %+4d sequence number %s\n", p.PaymentID, p.Customer, p.Amount, res.SequenceNumber)
	}
	return nil
}

// print prints what each subscriber did, sorted by subscriber and line.
func (j *journal) print(w io.Writer) {
	j.mu.Lock()
	defer j.mu.Unlock()
	fmt.Fprintln(w, "\n== received ==")
	names := make([]string, 0, len(j.lines))
	for name := range j.lines {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		lines := j.lines[name]
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintf(w, "%-17s %s\n", name, l)
		}
	}
	customers := make([]string, 0, len(j.ledger))
	for c := range j.ledger {
		customers = append(customers, c)
	}
	slices.Sort(customers)
	for _, c := range customers {
		fmt.Fprintf(w, "%-17s %s: %s\n", "ledger-service", c, strings.Join(j.ledger[c], ", "))
	}
}

// printStats prints a topic's counters, named after SNS's CloudWatch
// metrics.
func printStats(w io.Writer, s eda.TopicStats) {
	fmt.Fprintf(w, "\n== stats of topic %s ==\n", s.Topic)
	fmt.Fprintf(w, "NumberOfMessagesPublished=%d NumberOfDuplicatesDropped=%d NumberOfNotificationsFilteredOut=%d (no attributes: %d)\n",
		s.NumberOfMessagesPublished, s.NumberOfDuplicatesDropped, s.NumberOfNotificationsFilteredOut, s.NumberOfNotificationsFilteredOutNoMessageAttributes)
	for _, ss := range s.Subscriptions {
		fmt.Fprintf(w, "  %-9s NumberOfNotificationsDelivered=%d NumberOfNotificationsFailed=%d NumberOfNotificationsRedrivenToDlq=%d retries=%d\n",
			ss.Subscription, ss.NumberOfNotificationsDelivered, ss.NumberOfNotificationsFailed, ss.NumberOfNotificationsRedrivenToDlq, ss.Delivery.Retries)
	}
}
