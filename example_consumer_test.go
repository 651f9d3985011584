package eda_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/edakit/eda"
)

// A typed handler: HandlerOf decodes the event's detail into the struct.
func ExampleHandlerOf() {
	type OrderPlaced struct {
		OrderID string  `json:"orderId"`
		Total   float64 `json:"total"`
	}
	h := eda.HandlerOf(func(ctx context.Context, o OrderPlaced) error {
		fmt.Printf("order %s: %.2f\n", o.OrderID, o.Total)
		return nil
	})

	event := `{"id":"e-1","source":"shop","detail-type":"OrderPlaced","detail":{"orderId":"o-17","total":42.5}}`
	err := h.Handle(context.Background(), eda.Delivery{ID: "e-1", Kind: eda.PayloadEvent, Payload: []byte(event)})
	fmt.Println("error:", err)

	// A payload that does not decode is a permanent failure: no retries.
	err = h.Handle(context.Background(), eda.Delivery{Kind: eda.PayloadEvent, Payload: []byte(`{"detail":[1,2]}`)})
	fmt.Println("permanent:", eda.IsPermanent(err), errors.Is(err, eda.ErrDecode))
	// Output:
	// order o-17: 42.50
	// error: <nil>
	// permanent: true true
}

// Permanent tells the engine not to retry: the delivery goes straight to
// the dead-letter handler. Any other error is retried by the policy.
func ExamplePermanent() {
	charge := func(ctx context.Context, d eda.Delivery) error {
		if !strings.HasPrefix(string(d.Payload), "card:") {
			return eda.Permanent(fmt.Errorf("no card in %q", d.Payload)) // retrying cannot help
		}
		return errors.New("payment service unavailable") // may work next time
	}
	for _, p := range []string{"cash:10", "card:10"} {
		err := charge(context.Background(), eda.Delivery{Kind: eda.PayloadInput, Payload: []byte(p)})
		fmt.Printf("%s: %v (permanent: %v)\n", p, err, eda.IsPermanent(err))
	}
	// Output:
	// cash:10: no card in "cash:10" (permanent: true)
	// card:10: payment service unavailable (permanent: false)
}

// A batch handler receives up to Size deliveries at once and reports the
// ones that failed with a BatchError; only those are retried.
func ExampleBatch() {
	var mu sync.Mutex
	h := eda.Batch(eda.BatchHandlerFunc(func(ctx context.Context, ds []eda.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		ids := make([]string, len(ds))
		failed := new(eda.BatchError)
		for i, d := range ds {
			ids[i] = d.ID
			if d.ID == "b" {
				failed.Fail(i, errors.New("row rejected"))
			}
		}
		sort.Strings(ids)
		fmt.Println("batch:", ids)
		return failed
	}), eda.BatchOptions{Size: 3})

	// A destination calls the handler concurrently (its MaxConcurrency must
	// be at least Size for full batches).
	var wg sync.WaitGroup
	results := make([]string, 3)
	for i, id := range []string{"a", "b", "c"} {
		wg.Go(func() {
			err := h.Handle(context.Background(), eda.Delivery{ID: id})
			results[i] = fmt.Sprintf("%s: %v", id, err)
		})
	}
	wg.Wait()
	fmt.Println(strings.Join(results, "\n"))
	// Output:
	// batch: [a b c]
	// a: <nil>
	// b: row rejected
	// c: <nil>
}
