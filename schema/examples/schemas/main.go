// Command schemas is the tour of eda's schemas: a bus with a registry in
// enforce mode rejects a bad order at PutEvents with the path and the
// reason; discovery on a second bus infers the schema of the events it
// carries and versions it when a new field appears; and a type generated
// from the schema by edagen (package orders) handles the event.
//
//	cd schema && go run ./examples/schemas
package main

//go:generate go run ../../cmd/edagen -schema schemas/com.example.orders@OrderPlaced.json -package orders -o orders/orders.go

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/edakit/eda"
	"github.com/edakit/eda/schema"
	"github.com/edakit/eda/schema/examples/schemas/orders"
)

//go:embed schemas/*.json
var schemaFiles embed.FS

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "schemas:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := validate(ctx, w); err != nil {
		return err
	}
	return discover(ctx, w)
}

// validate puts a good and a bad order on a bus that enforces the order
// schema; the good one reaches the handler, typed by the generated code.
func validate(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "== validation (enforce)")
	reg := schema.NewRegistry()
	files, err := fs.Sub(schemaFiles, "schemas")
	if err != nil {
		return err
	}
	loaded, err := reg.LoadFS(files)
	if err != nil {
		return err
	}
	for _, v := range loaded {
		fmt.Fprintf(w, "registered %s version %s (%s)\n", v.Name, v.Version, v.Format)
	}
	validator, err := schema.NewValidator(reg, schema.WithMode(schema.ModeEnforce))
	if err != nil {
		return err
	}
	bus, err := eda.NewBus("shop", eda.WithEventValidator(validator))
	if err != nil {
		return err
	}
	handled := make(chan orders.OrderPlaced, 1)
	err = bus.PutRule(eda.Rule{
		Name:         "orders",
		EventPattern: fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, orders.OrderPlacedSource, orders.OrderPlacedDetailType),
		Targets: []eda.Target{eda.HandlerTarget("fulfilment", eda.HandlerOf(func(ctx context.Context, o orders.OrderPlaced) error {
			handled <- o
			return nil
		}))},
	})
	if err != nil {
		return err
	}
	producer, err := eda.NewProducer[orders.OrderPlaced](bus, orders.OrderPlacedSource, orders.OrderPlacedDetailType)
	if err != nil {
		return err
	}
	good := orders.OrderPlaced{OrderID: "o-1", Customer: "c-7", Total: 42.5, Items: []orders.Item{{Sku: "BOOK-1", Qty: 2}}}
	if _, err := producer.Put(ctx, good); err != nil {
		return err
	}
	fmt.Fprintln(w, "good order o-1: accepted")
	bad := orders.OrderPlaced{OrderID: "o-2", Customer: "c-7", Total: -5, Items: []orders.Item{{Sku: "BOOK-1", Qty: 1}}}
	_, err = producer.Put(ctx, bad)
	var rejected *eda.EntryError
	if !errors.As(err, &rejected) {
		return fmt.Errorf("the bad order was not rejected: %v", err)
	}
	fmt.Fprintf(w, "bad order o-2: rejected: %s: %s\n", rejected.Code, rejected.Message)
	select {
	case o := <-handled:
		fmt.Fprintf(w, "handled %s for %s: %d item(s), total %.2f\n", o.OrderID, o.Customer, len(o.Items), o.Total)
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := bus.Close(ctx); err != nil {
		return err
	}
	s := validator.Stats()
	fmt.Fprintf(w, "validator: %d validated, %d valid, %d rejected\n", s.Validated, s.Valid, s.Rejected)
	return nil
}

// discover lets a discoverer watch a second bus: the first orders give
// version 1 of the inferred schema, an order with a new field version 2.
func discover(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "== discovery")
	discoverer, err := schema.NewDiscoverer(schema.NewRegistry())
	if err != nil {
		return err
	}
	defer discoverer.Close()
	bus, err := eda.NewBus("shop-discovered", eda.WithEventValidator(discoverer))
	if err != nil {
		return err
	}
	defer bus.Close(ctx)
	put := func(detail string) error {
		res, err := bus.PutEvents(ctx, eda.Event{Source: "com.example.orders", DetailType: "OrderShipped", Detail: json.RawMessage(detail)})
		if err != nil {
			return err
		}
		if err := res.Err(); err != nil {
			return err
		}
		return discoverer.Flush(ctx)
	}
	name := schema.Name("com.example.orders", "OrderShipped")
	show := func() error {
		v, err := discoverer.Registry().Describe(name, "")
		if err != nil {
			return err
		}
		out, err := discoverer.Registry().Export(name, "", schema.FormatJSONSchemaDraft4)
		if err != nil {
			return err
		}
		var doc struct {
			Properties struct {
				Detail json.RawMessage `json:"detail"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			return err
		}
		var detail bytes.Buffer
		if err := json.Compact(&detail, doc.Properties.Detail); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s version %s, detail: %s\n", name, v.Version, detail.Bytes())
		return nil
	}
	for _, d := range []string{
		`{"orderId":"o-1","carrier":"DHL","shippedAt":"2026-12-06T10:00:00Z"}`,
		`{"orderId":"o-3","carrier":"UPS","shippedAt":"2026-12-06T11:30:00Z"}`,
	} {
		if err := put(d); err != nil {
			return err
		}
	}
	if err := show(); err != nil {
		return err
	}
	if err := put(`{"orderId":"o-4","carrier":"DHL","shippedAt":"2026-12-06T12:00:00Z","tracking":{"id":"JD0001","url":"https://example.com/t/JD0001"}}`); err != nil {
		return err
	}
	if err := show(); err != nil {
		return err
	}
	s := discoverer.Stats()
	fmt.Fprintf(w, "discoverer: %d seen, %d inspected, %d sampled out, %d versions\n", s.Seen, s.Inspected, s.Sampled, s.Versions)
	return nil
}
