package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/edakit/eda"
)

// Order is the body of POST /orders and the detail of OrderPlaced and
// OrderApproved.
type Order struct {
	ID       string  `json:"id"`
	Customer string  `json:"customer"`
	Country  string  `json:"country"`
	Total    float64 `json:"total"`
}

// Scorer is the external fraud-scoring service, which a big order needs.
// It may fail for a while; the fraud check then fails and is retried.
type Scorer interface {
	Score(ctx context.Context, o Order) (risk int, err error)
}

// ErrBlocked is why the fraud check refuses a blocked customer's order for
// good: such an order goes straight to the dead letters.
var ErrBlocked = errors.New("customer is blocked")

// FraudRetry is the fraud check's retry policy unless Config gives one: a
// scoring service that is down is given a few minutes.
func FraudRetry() eda.RetryPolicy {
	return eda.RetryPolicy{MaxAttempts: 5, MinBackoff: time.Second, MaxBackoff: time.Minute}
}

// bigOrder is the total from which an order needs a fraud score and gets a
// call from the VIP desk.
const bigOrder = 1000

// Config is what the service needs besides its routers.
type Config struct {
	Scorer  Scorer
	Blocked []string // customers whose orders are refused
	// Retry is the fraud check's retry policy; zero: FraudRetry().
	Retry eda.RetryPolicy
}

// Service is a small order service: an HTTP ingress that puts OrderPlaced
// on a Bus; a fraud check that approves orders and puts OrderApproved (a
// cascade); an announcer that publishes each approved order to a Topic;
// and two subscribers of the topic, a mailer and a VIP desk that only
// takes big orders (a filter policy on the body). What the subscribers
// did is kept in its Outbox.
type Service struct {
	bus   *eda.Bus
	topic *eda.Topic
	cfg   Config
	out   Outbox
}

// New wires the service onto bus and topic: two rules on the bus, two
// subscriptions on the topic.
func New(bus *eda.Bus, topic *eda.Topic, cfg Config) (*Service, error) {
	if cfg.Scorer == nil {
		return nil, errors.New("service: no Scorer")
	}
	retry := cfg.Retry
	if retry == (eda.RetryPolicy{}) {
		retry = FraudRetry()
	}
	s := &Service{bus: bus, topic: topic, cfg: cfg}
	err := bus.PutRule(eda.Rule{
		Name:         "placed-orders",
		EventPattern: `{"source": ["shop"], "detail-type": ["OrderPlaced"]}`,
		Targets: []eda.Target{eda.HandlerTarget("fraud-check", eda.HandlerOf(s.fraudCheck),
			eda.WithRetryPolicy(retry))},
	})
	if err != nil {
		return nil, err
	}
	err = bus.PutRule(eda.Rule{
		Name:         "approved-orders",
		EventPattern: `{"source": ["fraud"], "detail-type": ["OrderApproved"]}`,
		Targets:      []eda.Target{eda.HandlerTarget("announce", eda.HandlerOf(s.announce))},
	})
	if err != nil {
		return nil, err
	}
	if _, err := topic.Subscribe("mailer", eda.HandlerOf(s.mail)); err != nil {
		return nil, err
	}
	_, err = topic.Subscribe("vip-desk", eda.HandlerOf(s.callBack), eda.WithRawDelivery(),
		eda.WithFilterPolicy([]byte(`{"total": [{"numeric": [">=", `+strconv.Itoa(bigOrder)+`]}]}`), eda.ScopeMessageBody))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Outbox returns what the subscribers did so far, sorted.
func (s *Service) Outbox() []string { return s.out.lines() }

// ServeHTTP is the ingress: POST /orders with an Order as JSON puts an
// OrderPlaced event and answers 202 Accepted; a bad order gets 400.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an order", http.StatusMethodNotAllowed)
		return
	}
	var o Order
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil || o.ID == "" || o.Customer == "" {
		http.Error(w, "an order needs an id and a customer", http.StatusBadRequest)
		return
	}
	detail, err := json.Marshal(o)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	res, err := s.bus.PutEvents(r.Context(), eda.Event{Source: "shop", DetailType: "OrderPlaced", Detail: detail})
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// fraudCheck refuses blocked customers for good, scores big orders (an
// error of the scorer is retried), and approves the others: it puts
// OrderApproved on the bus with the context it was given, so the event
// counts as part of the same flow.
func (s *Service) fraudCheck(ctx context.Context, o Order) error {
	if slices.Contains(s.cfg.Blocked, o.Customer) {
		return eda.Permanent(fmt.Errorf("order %s: %w", o.ID, ErrBlocked))
	}
	if o.Total >= bigOrder {
		risk, err := s.cfg.Scorer.Score(ctx, o)
		if err != nil {
			return fmt.Errorf("order %s: scoring: %w", o.ID, err)
		}
		if risk > 80 {
			return eda.Permanent(fmt.Errorf("order %s: risk %d", o.ID, risk))
		}
	}
	detail, err := json.Marshal(o)
	if err != nil {
		return eda.Permanent(err)
	}
	res, err := s.bus.PutEvents(ctx, eda.Event{Source: "fraud", DetailType: "OrderApproved", Detail: detail})
	if err == nil {
		err = res.Err()
	}
	return err
}

// announce publishes an approved order to the topic, with its country as
// a message attribute.
func (s *Service) announce(ctx context.Context, o Order) error {
	body, err := json.Marshal(o)
	if err != nil {
		return eda.Permanent(err)
	}
	_, err = s.topic.Publish(ctx, eda.Message{Body: body, Subject: "OrderApproved",
		Attributes: map[string]eda.Attribute{"country": {DataType: "String", StringValue: o.Country}}})
	return err
}

// mail tells the customer that the order is approved.
func (s *Service) mail(_ context.Context, o Order) error {
	s.out.add(fmt.Sprintf("mailer    %s: your order %s is approved", o.Customer, o.ID))
	return nil
}

// callBack has the VIP desk call the customer of a big order.
func (s *Service) callBack(_ context.Context, o Order) error {
	s.out.add(fmt.Sprintf("vip-desk  call %s about %s (%.2f)", o.Customer, o.ID, o.Total))
	return nil
}

// Outbox keeps what the subscribers did, one line each.
type Outbox struct {
	mu   sync.Mutex
	list []string
}

func (b *Outbox) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, line)
}

// lines returns the lines, sorted.
func (b *Outbox) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(slices.Values(b.list))
}
