package main

// The flow tests of the service, written with package edatest: each builds
// the service on edatest's Bus and Topic (closed when the test ends, which
// fails it if events are left in flight or goroutines leak), posts orders
// to its HTTP ingress, lets the flow settle — on a fake clock, so that the
// fraud check's retries, whose backoff is seconds, take no time — and
// asserts what was delivered. No sleep anywhere: every wait wakes on what
// it waits for.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edakit/eda"
	"github.com/edakit/eda/edatest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Orders the tests post.
const (
	alicesOrder   = `{"id":"o-1","customer":"alice","country":"NL","total":25}`
	bobsOrder     = `{"id":"o-2","customer":"bob","country":"DE","total":4200}`
	mallorysOrder = `{"id":"o-3","customer":"mallory","country":"FR","total":90}`
)

// fakeScorer is the tests' Scorer: for each order it fails the first
// failures[id] calls (-1: every call), then rates it risk[id].
type fakeScorer struct {
	mu       sync.Mutex
	failures map[string]int
	risk     map[string]int
	calls    map[string]int
}

func newScorer(failures, risk map[string]int) *fakeScorer {
	return &fakeScorer{failures: failures, risk: risk, calls: map[string]int{}}
}

func (f *fakeScorer) Score(_ context.Context, o Order) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[o.ID]++
	if n := f.failures[o.ID]; n < 0 || f.calls[o.ID] <= n {
		return 0, errors.New("scoring service unavailable")
	}
	return f.risk[o.ID], nil
}

func (f *fakeScorer) callsFor(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// flow is the service under test, on edatest's routers driven by a fake
// clock, with a Recorder of every attempt on the bus (events) and on the
// topic (messages), and one of the bus's dead letters.
type flow struct {
	clk                    *edatest.Clock
	bus                    *eda.Bus
	topic                  *eda.Topic
	svc                    *Service
	api                    *httptest.Server
	events, messages, dead *edatest.Recorder
}

func newFlow(t *testing.T, scorer Scorer) *flow {
	f := &flow{
		clk:    edatest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)),
		events: edatest.NewRecorder(), messages: edatest.NewRecorder(), dead: edatest.NewRecorder(),
	}
	// Recorder.Wrap is a middleware: given to a router, it records every
	// attempt at every destination, which Recorder.To tells apart.
	f.topic = edatest.NewTopic(t, "approved-orders", eda.WithClock(f.clk), eda.WithMiddleware(f.messages.Wrap))
	f.bus = edatest.NewBus(t, eda.WithClock(f.clk), eda.WithMiddleware(f.events.Wrap), eda.WithDeadLetter(f.dead))
	svc, err := New(f.bus, f.topic, Config{Scorer: scorer, Blocked: []string{"mallory"}})
	require.NoError(t, err)
	f.svc = svc
	f.api = httptest.NewServer(svc)
	t.Cleanup(f.api.Close) // runs before the routers close
	return f
}

// post posts an order to the ingress and returns the status code.
func (f *flow) post(t *testing.T, order string) int {
	t.Helper()
	res, err := http.Post(f.api.URL+"/orders", "application/json", strings.NewReader(order))
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	return res.StatusCode
}

// settle lets the flow finish: every order accepted, and every event and
// message it caused, delivered or dead-lettered, with the fake clock moved
// through the retries' backoffs (at most an hour of fake time).
func (f *flow) settle(t *testing.T) {
	t.Helper()
	f.clk.Settle(t, time.Hour, f.bus, f.topic)
}

// An order cascades: OrderPlaced → fraud check → OrderApproved → announce
// → the topic → the mailer, and the VIP desk for a big order.
func TestOrderCascade(t *testing.T) {
	f := newFlow(t, newScorer(nil, nil))
	require.Equal(t, http.StatusAccepted, f.post(t, alicesOrder))
	require.Equal(t, http.StatusAccepted, f.post(t, bobsOrder))
	f.settle(t)

	// The bus: both orders checked, both approved.
	edatest.AssertDeliveredN(t, f.events.To("fraud-check"), `{"detail-type": ["OrderPlaced"]}`, 2)
	edatest.AssertDeliveredN(t, f.events.To("announce"), `{"detail-type": ["OrderApproved"], "source": ["fraud"]}`, 2)
	edatest.AssertDelivered(t, f.events.To("announce"), `{"detail": {"id": ["o-2"], "total": [4200]}}`)
	// The topic: the mailer gets SNS's notification, with the country as
	// an attribute; the VIP desk only the big order, raw.
	mailer, vip := f.messages.To("mailer"), f.messages.To("vip-desk")
	edatest.AssertDeliveredN(t, mailer, `{"Type": ["Notification"], "Subject": ["OrderApproved"]}`, 2)
	edatest.AssertDeliveredPolicyN(t, mailer, `{"country": ["NL", "DE"]}`, eda.ScopeMessageAttributes, 2)
	edatest.AssertDeliveredPolicyN(t, vip, `{"id": ["o-2"]}`, eda.ScopeMessageBody, 1)
	edatest.AssertNotDeliveredPolicy(t, vip, `{"total": [{"numeric": ["<", 1000]}]}`, eda.ScopeMessageBody)
	assert.Equal(t, []string{
		"mailer    alice: your order o-1 is approved",
		"mailer    bob: your order o-2 is approved",
		"vip-desk  call bob about o-2 (4200.00)",
	}, f.svc.Outbox())
	assert.Zero(t, f.dead.Len())
}

// The scoring service fails twice: the fraud check is retried with a
// backoff of seconds, which the fake clock runs through at once.
func TestRetryOnFakeClock(t *testing.T) {
	scorer := newScorer(map[string]int{"o-2": 2}, nil)
	f := newFlow(t, scorer)
	start := f.clk.Now()
	require.Equal(t, http.StatusAccepted, f.post(t, bobsOrder))

	// The first attempt failed, and its retry waits for the clock, which
	// stands still: nothing is approved yet.
	f.clk.WaitForTimers(t, 1)
	assert.Equal(t, 1, scorer.callsFor("o-2"))
	edatest.AssertNotDelivered(t, f.events, `{"detail-type": ["OrderApproved"]}`)

	f.settle(t)
	attempts := f.events.To("fraud-check").Deliveries()
	require.Len(t, attempts, 3)
	for i, a := range attempts {
		assert.Equal(t, i+1, a.Delivery.Attempt)
	}
	assert.ErrorContains(t, attempts[0].Err, "order o-2: scoring: scoring service unavailable")
	assert.ErrorContains(t, attempts[1].Err, "scoring service unavailable")
	assert.NoError(t, attempts[2].Err)
	edatest.AssertDeliveredN(t, f.events, `{"detail-type": ["OrderApproved"], "detail": {"id": ["o-2"]}}`, 1)
	edatest.AssertDeliveredPolicy(t, f.messages.To("vip-desk"), `{"customer": ["bob"]}`, eda.ScopeMessageBody)
	assert.LessOrEqual(t, f.clk.Now().Sub(start), 2*FraudRetry().MaxBackoff, "two backoffs of fake time")
	assert.Zero(t, f.dead.Len())
}

// A blocked customer's order is refused for good, and a risky one too:
// each goes straight to the dead letters, and nothing is announced.
func TestDeadLetter(t *testing.T) {
	f := newFlow(t, newScorer(nil, map[string]int{"o-4": 95}))
	require.Equal(t, http.StatusAccepted, f.post(t, mallorysOrder))
	require.Equal(t, http.StatusAccepted, f.post(t, `{"id":"o-4","customer":"eve","country":"NL","total":9000}`))
	f.settle(t)

	edatest.AssertDeliveredN(t, f.dead, `{"detail": {"customer": ["mallory"]}}`, 1)
	edatest.AssertDeliveredN(t, f.dead, `{"detail": {"id": ["o-4"]}}`, 1)
	assert.Equal(t, 2, f.dead.To("fraud-check").Len())
	recs, orders := f.dead.Deliveries(), edatest.RecordedAs[Order](t, f.dead) // each dead letter's order
	for i, rec := range recs {
		require.NotNil(t, rec.DeadLetter)
		assert.Equal(t, eda.ReasonPermanent, rec.DeadLetter.Reason)
		assert.Equal(t, 1, rec.Delivery.Attempt, "no retry of a permanent error")
		assert.Equal(t, orders[i].Customer == "mallory", errors.Is(rec.Err, ErrBlocked), "%s: %v", orders[i].ID, rec.Err)
	}
	edatest.AssertNotDelivered(t, f.events, `{"detail-type": ["OrderApproved"]}`)
	assert.Zero(t, f.messages.Len())
}

// While the scoring service stays down, the fraud check gives up after
// FraudRetry's five attempts: a dead letter, minutes later on the fake
// clock, at once in real time.
func TestScoringDownDeadLetters(t *testing.T) {
	f := newFlow(t, newScorer(map[string]int{"o-2": -1}, nil))
	require.Equal(t, http.StatusAccepted, f.post(t, bobsOrder))
	f.settle(t)

	rec, ok := f.dead.Last()
	require.True(t, ok)
	assert.Equal(t, eda.ReasonMaxAttempts, rec.DeadLetter.Reason)
	assert.Equal(t, FraudRetry().MaxAttempts, rec.Delivery.Attempt)
	assert.ErrorContains(t, rec.Err, "scoring service unavailable")
	edatest.AssertDeliveredN(t, f.events.To("fraud-check"), `{"detail": {"id": ["o-2"]}}`, FraudRetry().MaxAttempts)
	edatest.AssertNotDelivered(t, f.events, `{"detail-type": ["OrderApproved"]}`)
}

// A bad request puts nothing on the bus.
func TestIngressRefusesBadOrders(t *testing.T) {
	f := newFlow(t, newScorer(nil, nil))
	assert.Equal(t, http.StatusBadRequest, f.post(t, `{"customer":"dave"}`))
	assert.Equal(t, http.StatusBadRequest, f.post(t, `not json`))
	res, err := http.Get(f.api.URL + "/orders")
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	f.settle(t)
	assert.Zero(t, f.events.Len())
}

// The alternative to the fake clock: in a testing/synctest bubble the
// routers run on their real clock, whose time is the bubble's, so the
// fraud check's backoff of seconds passes at once too. The ingress is
// called directly (httptest.NewRecorder), as network I/O does not let a
// bubble's time move.
func TestInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		topic := edatest.NewTopic(t, "approved-orders")
		events := edatest.NewRecorder()
		bus := edatest.NewBus(t, eda.WithMiddleware(events.Wrap))
		svc, err := New(bus, topic, Config{Scorer: newScorer(map[string]int{"o-2": 2}, nil)})
		require.NoError(t, err)
		start := time.Now()

		w := httptest.NewRecorder()
		svc.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(bobsOrder)))
		require.Equal(t, http.StatusAccepted, w.Code)
		edatest.Settle(t, bus, topic)

		edatest.AssertDeliveredN(t, events.To("fraud-check"), `{"detail": {"id": ["o-2"]}}`, 3)
		assert.Contains(t, svc.Outbox(), "vip-desk  call bob about o-2 (4200.00)")
		assert.LessOrEqual(t, time.Since(start), 2*FraudRetry().MaxBackoff, "the bubble's time moved through the backoffs")
	})
}

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out), out.String())
	assert.Equal(t, `POST {"id":"o-1","customer":"alice","country":"NL","total":25} -> 202 Accepted
POST {"id":"o-2","customer":"bob","country":"DE","total":4200} -> 202 Accepted
POST {"id":"o-3","customer":"mallory","country":"FR","total":90} -> 202 Accepted
POST {"id":"o-4","customer":"carol","country":"US","total":1000} -> 202 Accepted
POST {"customer":"dave"} -> 400 Bad Request an order needs an id and a customer
scoring failed at first for o-2, o-4: fraud-check retried
mailer    alice: your order o-1 is approved
mailer    bob: your order o-2 is approved
mailer    carol: your order o-4 is approved
vip-desk  call bob about o-2 (4200.00)
vip-desk  call carol about o-4 (1000.00)
dead letter fraud-check after 1 attempt(s) (permanent-error): order o-3: customer is blocked
`, out.String())
}

// TestNoSleep checks that neither the service nor its tests sleep.
func TestNoSleep(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	sleep := "time." + "Sleep"
	for _, name := range files {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		assert.NotContains(t, string(src), sleep, "%s sleeps", name)
	}
}
