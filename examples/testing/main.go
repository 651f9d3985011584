// Command testing is a small order service, and its flow tests written
// with package edatest (main_test.go) — read those for how to test event
// flows deterministically, with no sleep.
//
// The service (service.go) has an HTTP ingress, a Bus and a Topic:
//
//	POST /orders → OrderPlaced → fraud-check → OrderApproved → announce → topic → mailer
//	                                  │                                        └→ vip-desk (total >= 1000)
//	                                  └→ dead letters (blocked customer)
//
// The fraud check scores big orders with an external service, which may
// fail for a while (the check is retried with backoff), and refuses a
// blocked customer's orders for good (a dead letter). The announcer
// publishes each approved order to the topic, whose VIP desk takes big
// orders only (a filter policy on the message body).
//
// This program serves the ingress on 127.0.0.1, posts five orders to it,
// waits for the flow to finish and prints what happened: the responses,
// the mails and calls, and the dead letters. Its output is the same on
// every run.
//
// Run it with:
//
//	go run ./examples/testing
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
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

// flakyScorer fails the first call for each order, as a scoring service
// that is slow to wake does, and rates every order a low risk.
type flakyScorer struct {
	mu     sync.Mutex
	failed []string // orders whose first call failed
}

// Score fails the first call for o, and rates o 10 from then on.
func (f *flakyScorer) Score(_ context.Context, o Order) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.failed, o.ID) {
		f.failed = append(f.failed, o.ID)
		return 0, errors.New("scoring service unavailable")
	}
	return 10, nil
}

// deadLetters prints the dead letters, sorted.
type deadLetters struct {
	mu    sync.Mutex
	lines []string
}

// HandleDeadLetter keeps a line about dl.
func (d *deadLetters) HandleDeadLetter(_ context.Context, dl eda.DeadLetter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lines = append(d.lines, fmt.Sprintf("dead letter %s after %d attempt(s) (%s): %v",
		dl.Delivery.Destination, dl.Delivery.Attempt, dl.Reason, dl.Err))
}

// run starts the service, posts the orders, drains and prints.
func run(w io.Writer) (err error) {
	ctx := context.Background()
	quiet := eda.WithLogger(slog.New(slog.DiscardHandler))
	dead := &deadLetters{}
	topic, err := eda.NewTopic("approved-orders", quiet)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, topic.Close(ctx)) }()
	bus, err := eda.NewBus("shop", quiet, eda.WithDeadLetter(dead))
	if err != nil {
		return err
	}
	// Deferred last, so closed first: the bus publishes into the topic.
	defer func() { err = errors.Join(err, bus.Close(ctx)) }()

	scorer := &flakyScorer{}
	svc, err := New(bus, topic, Config{
		Scorer:  scorer,
		Blocked: []string{"mallory"},
		// Quick retries, so that the program finishes at once; the
		// service's own policy (FraudRetry) waits seconds, which its tests
		// run on a fake clock.
		Retry: eda.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: svc}
	go func() { _ = server.Serve(ln) }() // http.ErrServerClosed at Close
	defer server.Close()

	for _, order := range []string{
		`{"id":"o-1","customer":"alice","country":"NL","total":25}`,
		`{"id":"o-2","customer":"bob","country":"DE","total":4200}`,
		`{"id":"o-3","customer":"mallory","country":"FR","total":90}`,
		`{"id":"o-4","customer":"carol","country":"US","total":1000}`,
		`{"customer":"dave"}`,
	} {
		res, err := http.Post("http://"+ln.Addr().String()+"/orders", "application/json", strings.NewReader(order))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Fprintln(w, strings.TrimSpace(fmt.Sprintf("POST %s -> %s %s", order, res.Status, body)))
	}
	// Everything accepted, and everything it caused, delivered or
	// dead-lettered: first the bus's events, then the topic's messages.
	if err := bus.Drain(ctx); err != nil {
		return err
	}
	if err := topic.Drain(ctx); err != nil {
		return err
	}
	scorer.mu.Lock()
	fmt.Fprintf(w, "scoring failed at first for %s: fraud-check retried\n", strings.Join(slices.Sorted(slices.Values(scorer.failed)), ", "))
	scorer.mu.Unlock()
	for _, line := range svc.Outbox() {
		fmt.Fprintln(w, line)
	}
	dead.mu.Lock()
	for _, line := range slices.Sorted(slices.Values(dead.lines)) {
		fmt.Fprintln(w, line)
	}
	dead.mu.Unlock()
	return nil
}
