// Command orders is the classic serverless order flow, in one process.
//
// An HTTP endpoint (net/http, served on 127.0.0.1 and called by the program
// itself) receives orders; its "function" puts an OrderPlaced event on the
// bus. Rules route big orders to a fraud check, and every order to a
// function that stores it and emits OrderStored; another rule sends that
// to a notifier, whose email step is flaky (retried) and bounces for one
// customer (dead-lettered); the notifier emits CustomerNotified, which an
// audit rule records — a cascade three hops deep:
//
//	HTTP → OrderPlaced → store → OrderStored → notify → CustomerNotified → audit
//
// It prints a line per HTTP request and its response, and per step of the
// flow, as they happen — deliveries run concurrently, so their lines
// interleave differently from run to run, and a request's line, printed
// when its response arrives, may follow the first steps of its order —,
// then a summary, the bus's statistics and its topology as a Mermaid
// diagram. To see the diagram drawn, paste the lines from "flowchart LR"
// on into https://mermaid.live, or into a ```mermaid fenced block of a
// Markdown file or issue on GitHub.
//
// Its functions are typed handlers (eda.HandlerOf and, where the attempt
// number matters, eda.HandlerOfDelivery), as the README teaches.
//
// Run it with:
//
//	go run ./examples/orders
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
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

// Order is the body of POST /orders and the detail of OrderPlaced.
type Order struct {
	OrderID  string  `json:"orderId"`
	Customer string  `json:"customer"`
	Email    string  `json:"email"`
	Total    float64 `json:"total"`
}

// OrderStored is the detail of OrderStored.
type OrderStored struct {
	OrderID  string  `json:"orderId"`
	Customer string  `json:"customer"`
	Email    string  `json:"email"`
	Total    float64 `json:"total"`
}

// CustomerNotified is the detail of CustomerNotified.
type CustomerNotified struct {
	OrderID string `json:"orderId"`
	Email   string `json:"email"`
}

// Notification is the input of the notifier: the input transformer of
// rule stored-orders makes it from an OrderStored event.
type Notification struct {
	OrderID string `json:"orderId"`
	To      string `json:"to"`
	Subject string `json:"subject"`
}

// app holds the example's "functions" and what they did.
type app struct {
	out    io.Writer
	outMu  sync.Mutex
	mu     sync.Mutex
	store  map[string]Order // the order table
	fraud  []string
	audit  []string
	emails map[string]int // attempts per order
	dead   []string

	placed   *eda.TypedProducer[Order]
	stored   *eda.TypedProducer[OrderStored]
	notified *eda.TypedProducer[CustomerNotified]
}

func (a *app) logf(format string, args ...any) {
	a.outMu.Lock()
	defer a.outMu.Unlock()
	fmt.Fprintf(a.out, format+"\n", args...)
}

// run wires the bus, serves the HTTP endpoint, places four orders through
// it, waits for the cascade to finish and prints a summary.
func run(w io.Writer) (err error) {
	ctx := context.Background()
	a := &app{out: w, store: map[string]Order{}, emails: map[string]int{}}

	bus, err := eda.NewBus("orders",
		eda.WithRetryPolicy(eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}),
		eda.WithDeadLetter(eda.DeadLetterFunc(a.deadLetter)),
	)
	if err != nil {
		return err
	}
	// On every return, close the bus (which delivers or dead-letters what
	// it accepted) and report its error too. Close is idempotent.
	defer func() { err = errors.Join(err, bus.Close(ctx)) }()
	if a.placed, err = eda.NewProducer[Order](bus, "com.example.orders", "OrderPlaced"); err != nil {
		return err
	}
	if a.stored, err = eda.NewProducer[OrderStored](bus, "com.example.orders", "OrderStored"); err != nil {
		return err
	}
	if a.notified, err = eda.NewProducer[CustomerNotified](bus, "com.example.notifications", "CustomerNotified"); err != nil {
		return err
	}
	rules := []eda.Rule{
		{
			Name:         "big-orders",
			Description:  "orders over 1,000 get a fraud check",
			EventPattern: `{"detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 1000]}]}}`,
			Targets:      []eda.Target{eda.HandlerTarget("fraud-check", eda.HandlerOf(a.fraudCheck), eda.WithInputPath("$.detail"))},
		},
		{
			Name:         "all-orders",
			Description:  "every order is stored",
			EventPattern: `{"source": ["com.example.orders"], "detail-type": ["OrderPlaced"]}`,
			Targets:      []eda.Target{eda.HandlerTarget("store-order", eda.HandlerOf(a.storeOrder), eda.WithInputPath("$.detail"))},
		},
		{
			Name:         "stored-orders",
			Description:  "stored orders are confirmed to the customer",
			EventPattern: `{"detail-type": ["OrderStored"]}`,
			Targets: []eda.Target{eda.HandlerTarget("notify", eda.HandlerOfDelivery(a.notify), eda.WithInputTransformer(eda.InputTransformer{
				InputPathsMap: map[string]string{"id": "$.detail.orderId", "email": "$.detail.email", "total": "$.detail.total"},
				InputTemplate: `{"orderId": <id>, "to": <email>, "subject": "Order <id> confirmed, total <total>"}`,
			}))},
		},
		{
			Name:         "audit",
			Description:  "notifications are audited",
			EventPattern: `{"source": ["com.example.notifications"]}`,
			Targets:      []eda.Target{eda.HandlerTarget("audit-log", eda.HandlerOf(a.auditLog))},
		},
	}
	for _, r := range rules {
		if err := bus.PutRule(r); err != nil {
			return err
		}
	}

	// The HTTP endpoint, served in-process.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	// On every return, stop the server; Serve then returns ErrServerClosed.
	defer func() {
		err = errors.Join(err, srv.Shutdown(ctx))
		if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}()

	base := "http://" + ln.Addr().String()
	orders := []Order{
		{OrderID: "o-1001", Customer: "alice", Email: "alice@example.com", Total: 250},
		{OrderID: "o-1002", Customer: "bob", Email: "bob@example.com", Total: 1800},
		{OrderID: "o-1003", Customer: "carol", Email: "carol@example.com", Total: 7200},
		{OrderID: "o-1004", Customer: "dave", Email: "dave@bounce.example", Total: 40},
	}
	for _, o := range orders {
		if err := a.postOrder(ctx, base, o.OrderID, o); err != nil {
			return err
		}
	}
	// An order without an id is refused before it reaches the bus.
	if err := a.postOrder(ctx, base, "(no orderId)", Order{Customer: "erin", Total: 10}); err != nil {
		return err
	}

	// Wait for the cascade, retries included; the deferred calls then stop
	// the server and the bus.
	drainCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := bus.Drain(drainCtx); err != nil {
		return err
	}
	a.summary(bus)
	return nil
}

// routes is the HTTP API: POST /orders places an order.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var o Order
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil || o.OrderID == "" {
			http.Error(w, "bad order", http.StatusBadRequest)
			return
		}
		id, err := a.placed.Put(r.Context(), o)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		if err := json.NewEncoder(w).Encode(map[string]string{"eventId": id}); err != nil {
			a.logf("http         response to %s not sent: %v", o.OrderID, err) // the client went away
		}
	})
	return mux
}

// postOrder is the client: it places one order over HTTP and prints the
// request and the response's status, e.g.
// "http         POST /orders o-1001 -> 202 Accepted". label names the
// order in that line. A response other than 202 Accepted or 400 Bad
// Request is an error.
func (a *app) postOrder(ctx context.Context, base, label string, o Order) (err error) {
	body, err := json.Marshal(o)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/orders", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := resp.Body.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	a.logf("http         %s %s %s -> %s", req.Method, req.URL.Path, label, resp.Status)
	switch resp.StatusCode {
	case http.StatusAccepted:
		var r struct{ EventID string }
		return json.NewDecoder(resp.Body).Decode(&r)
	case http.StatusBadRequest:
		return nil
	}
	msg, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST /orders %s: %s (body unreadable: %w)", label, resp.Status, err)
	}
	return fmt.Errorf("POST /orders %s: %s: %s", label, resp.Status, bytes.TrimSpace(msg))
}

// fraudCheck is the fraud-check function; it receives the order (InputPath $.detail).
func (a *app) fraudCheck(ctx context.Context, o Order) error {
	verdict := "ok"
	if o.Total > 5000 {
		verdict = "manual review"
	}
	a.mu.Lock()
	a.fraud = append(a.fraud, o.OrderID+": "+verdict)
	a.mu.Unlock()
	a.logf("fraud-check  %s total %.2f: %s", o.OrderID, o.Total, verdict)
	return nil
}

// storeOrder stores the order and emits OrderStored (hop 1). It puts with
// the delivery's context, so the bus knows the new event is a cascade.
func (a *app) storeOrder(ctx context.Context, o Order) error {
	a.mu.Lock()
	a.store[o.OrderID] = o
	a.mu.Unlock()
	a.logf("store-order  %s stored", o.OrderID)
	_, err := a.stored.Put(ctx, OrderStored(o))
	return err
}

// notify sends the confirmation email, which fails on the first attempt of
// every order (and always for the bouncing address), then emits
// CustomerNotified (hop 2). It logs the engine's attempt number, which the
// Delivery carries.
func (a *app) notify(ctx context.Context, msg Notification, d eda.Delivery) error {
	a.mu.Lock()
	a.emails[msg.OrderID]++
	attempt := a.emails[msg.OrderID]
	a.mu.Unlock()
	if attempt == 1 {
		a.logf("notify       %s attempt %d: mail server busy, will retry", msg.OrderID, d.Attempt)
		return errors.New("mail server busy")
	}
	if strings.HasSuffix(msg.To, "@bounce.example") {
		a.logf("notify       %s attempt %d: %s bounced", msg.OrderID, d.Attempt, msg.To)
		return fmt.Errorf("mailbox %s does not exist", msg.To)
	}
	a.logf("notify       %s attempt %d: sent %q to %s", msg.OrderID, d.Attempt, msg.Subject, msg.To)
	_, err := a.notified.Put(ctx, CustomerNotified{OrderID: msg.OrderID, Email: msg.To})
	return err
}

// auditLog records notifications (hop 3 of the cascade); it receives the
// whole event, and HandlerOf decodes its detail.
func (a *app) auditLog(ctx context.Context, n CustomerNotified) error {
	a.mu.Lock()
	a.audit = append(a.audit, n.OrderID)
	a.mu.Unlock()
	a.logf("audit-log    %s notified %s", n.OrderID, n.Email)
	return nil
}

// deadLetter receives what could not be delivered. Like an EventBridge
// dead-letter queue it gets the event that failed (dl.Event), not the
// notifier's transformed input (dl.Delivery.Payload).
func (a *app) deadLetter(ctx context.Context, dl eda.DeadLetter) {
	line := fmt.Sprintf("%s/%s after %d attempts (%s): %v", dl.Delivery.Rule, dl.Delivery.Destination, dl.Attempts, dl.Reason, dl.Err)
	var e eda.Event
	var o struct{ OrderID string }
	if json.Unmarshal(dl.Event, &e) == nil && json.Unmarshal(e.Detail, &o) == nil {
		line += fmt.Sprintf("; event %s of order %s", e.DetailType, o.OrderID)
	}
	a.mu.Lock()
	a.dead = append(a.dead, line)
	a.mu.Unlock()
	a.logf("dead-letter  %s", line)
}

// summary prints what happened, in a fixed order.
func (a *app) summary(bus *eda.Bus) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.outMu.Lock()
	defer a.outMu.Unlock()
	w := a.out
	ids := make([]string, 0, len(a.store))
	for id := range a.store {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	slices.Sort(a.fraud)
	slices.Sort(a.audit)
	fmt.Fprintln(w, "\n== summary ==")
	fmt.Fprintf(w, "stored orders: %d (%s)\n", len(ids), strings.Join(ids, ", "))
	fmt.Fprintf(w, "fraud checks: %d (%s)\n", len(a.fraud), strings.Join(a.fraud, "; "))
	fmt.Fprintf(w, "customers notified: %d (%s)\n", len(a.audit), strings.Join(a.audit, ", "))
	for _, d := range a.dead {
		fmt.Fprintf(w, "dead letter: %s\n", d)
	}
	st := bus.Stats()
	fmt.Fprintf(w, "\n== stats of bus %s ==\n", st.Bus)
	fmt.Fprintf(w, "PutEventsEntries=%d PutEventsFailedEntries=%d MatchedEvents=%d\n",
		st.PutEventsEntries, st.PutEventsFailedEntries, st.MatchedEvents)
	for _, r := range st.Rules {
		fmt.Fprintf(w, "rule %-13s MatchedEvents=%d TriggeredRules=%d\n", r.Rule, r.MatchedEvents, r.TriggeredRules)
		for _, t := range r.Targets {
			fmt.Fprintf(w, "  target %-11s Invocations=%d FailedInvocations=%d RetryInvocationAttempts=%d DeadLetterInvocations=%d\n",
				t.Target, t.Invocations, t.FailedInvocations, t.RetryInvocationAttempts, t.DeadLetterInvocations)
		}
	}
	fmt.Fprintf(w, "\n== topology (Mermaid) ==\n%s", bus.Describe().Mermaid())
}
