// Command patterns puts a few sample events on a bus with one rule per
// family of EventBridge pattern operators, and prints which rules fired
// for each event.
//
// Run it with:
//
//	go run ./examples/patterns
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/edakit/eda"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// rules has one rule per operator family, in the order they are printed.
var rules = []struct{ name, pattern string }{
	{"exact", `{"source": ["com.example.shop"], "detail-type": ["OrderPlaced"]}`},
	{"prefix", `{"detail": {"sku": [{"prefix": "BOOK-"}]}}`},
	{"suffix", `{"detail": {"invoice": [{"suffix": ".pdf"}]}}`},
	{"equals-ignore-case", `{"detail": {"country": [{"equals-ignore-case": "de"}]}}`},
	{"wildcard", `{"detail": {"path": [{"wildcard": "/orders/*/items/*"}]}}`},
	{"anything-but", `{"detail": {"state": [{"anything-but": ["cancelled", "failed"]}]}}`},
	{"numeric", `{"detail": {"total": [{"numeric": [">", 100, "<=", 1000]}]}}`},
	{"exists", `{"detail": {"coupon": [{"exists": true}]}}`},
	{"not-exists", `{"detail": {"coupon": [{"exists": false}]}}`},
	{"cidr", `{"detail": {"clientIp": [{"cidr": "10.0.0.0/8"}]}}`},
	{"$or", `{"$or": [{"detail": {"priority": ["high"]}}, {"detail": {"total": [{"numeric": [">=", 5000]}]}}]}`},
	{"arrays", `{"detail": {"tags": ["gift"]}}`},
	{"array-of-objects", `{"detail": {"items": {"sku": ["PEN-1"], "qty": [{"numeric": [">=", 10]}]}}}`},
}

// events are the samples; each names itself in detail.name.
var events = []struct{ detailType, detail string }{
	{"OrderPlaced", `{"name": "book order", "sku": "BOOK-42", "country": "DE", "state": "placed", "total": 250,
		"invoice": "inv-1.pdf", "path": "/orders/7/items/1", "tags": ["gift", "express"], "clientIp": "10.1.2.3",
		"items": [{"sku": "BOOK-42", "qty": 1}]}`},
	{"OrderPlaced", `{"name": "big pen order", "sku": "PEN-1", "country": "fr", "state": "cancelled", "total": 9000,
		"coupon": "SPRING", "priority": "low", "clientIp": "192.168.0.1",
		"items": [{"sku": "PEN-1", "qty": 3}, {"sku": "INK-9", "qty": 12}]}`},
	{"OrderUpdated", `{"name": "pen restock", "sku": "PEN-1", "country": "de", "state": "packed", "total": 1000,
		"priority": "high", "tags": ["restock"], "clientIp": "10.200.0.9",
		"items": [{"sku": "PEN-1", "qty": 40}]}`},
}

// run puts the sample events and prints, for each, the rules that fired.
func run(w io.Writer) error {
	ctx := context.Background()
	bus, err := eda.NewBus("patterns")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	fired := map[string][]string{} // event name → rule names
	record := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		var e struct{ Name string }
		if err := json.Unmarshal(d.Payload, &e); err != nil {
			return eda.Permanent(err)
		}
		mu.Lock()
		fired[e.Name] = append(fired[e.Name], d.Rule)
		mu.Unlock()
		return nil
	})
	for _, r := range rules {
		err := bus.PutRule(eda.Rule{
			Name:         ruleName(r.name),
			EventPattern: r.pattern,
			Targets:      []eda.Target{eda.HandlerTarget("record", record, eda.WithInputPath("$.detail"))},
		})
		if err != nil {
			return fmt.Errorf("rule %s: %w", r.name, err)
		}
	}
	for _, r := range rules {
		fmt.Fprintf(w, "rule %-18s %s\n", r.name, r.pattern)
	}
	fmt.Fprintln(w)

	for _, e := range events {
		res, err := bus.PutEvents(ctx, eda.Event{Source: "com.example.shop", DetailType: e.detailType, Detail: json.RawMessage(e.detail)})
		if err != nil {
			return err
		}
		if err := res.Err(); err != nil {
			return err
		}
	}
	if err := bus.Drain(ctx); err != nil {
		return err
	}
	for _, e := range events {
		var d struct{ Name string }
		_ = json.Unmarshal([]byte(e.detail), &d)
		got := fired[d.Name]
		var names []string
		for _, r := range rules { // in the rules' order
			if slices.Contains(got, ruleName(r.name)) {
				names = append(names, r.name)
			}
		}
		fmt.Fprintf(w, "%-14s fired %2d: %s\n", d.Name, len(names), strings.Join(names, ", "))
	}
	return bus.Close(ctx)
}

// ruleName makes a valid rule name of an operator name ("$or" → "or").
func ruleName(op string) string { return strings.TrimPrefix(op, "$") }
