package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda"
)

// benchOrderSchema is a typical order schema: the envelope, and a detail
// with nested objects, an array of items and bounds.
const benchOrderSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "required": ["version","id","detail-type","source","account","time","region","resources","detail"],
  "properties": {
    "version": {"type": "string"}, "id": {"type": "string"},
    "detail-type": {"type": "string", "enum": ["OrderPlaced"]},
    "source": {"type": "string", "enum": ["com.example.orders"]},
    "account": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
    "region": {"type": "string"}, "resources": {"type": "array", "items": {"type": "string"}},
    "detail": {
      "type": "object",
      "required": ["orderId","customer","total","currency","items","shipping"],
      "properties": {
        "orderId": {"type": "string", "minLength": 1},
        "customer": {"type": "object", "required": ["id","email"],
          "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "tier": {"type": "string", "enum": ["standard","gold"]}}},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR","USD"]},
        "items": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["sku","qty","price"],
          "properties": {"sku": {"type": "string"}, "name": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}, "price": {"type": "number", "minimum": 0}}}},
        "shipping": {"type": "object", "required": ["country"],
          "properties": {"country": {"type": "string", "minLength": 2, "maxLength": 2}, "city": {"type": "string"}, "express": {"type": "boolean"}}}
      }
    }
  }
}`

// benchOrderDetail returns an order detail of about 1 KB.
func benchOrderDetail() json.RawMessage {
	var items []string
	for i := range 8 {
		items = append(items, fmt.Sprintf(`{"sku":"SKU-%04d","name":"Article number %d of the catalogue","qty":%d,"price":%d.99}`, i, i, i+1, 10+i))
	}
	return json.RawMessage(`{"orderId":"o-12345","customer":{"id":"c-678","email":"someone@example.com","tier":"gold"},` +
		`"total":1234.5,"currency":"EUR","items":[` + strings.Join(items, ",") + `],` +
		`"shipping":{"country":"DE","city":"Berlin","express":true}}`)
}

// BenchmarkValidate measures validating one ~1 KB order envelope against
// its compiled schema: decoding and validation.
//
//	go test -run '^$' -bench 'Validate$' -benchmem .
func BenchmarkValidate(b *testing.B) {
	reg := NewRegistry()
	if _, err := reg.Create(orderName, "", []byte(benchOrderSchema)); err != nil {
		b.Fatal(err)
	}
	e := eda.Event{ID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", Source: "com.example.orders", DetailType: "OrderPlaced",
		Account: "000000000000", Region: "us-east-1", Time: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC),
		Resources: []string{"arn:aws:example:orders"}, Detail: benchOrderDetail()}
	env := e.AppendJSON(nil)
	b.SetBytes(int64(len(env)))
	v := reg.latest(orderName)
	if err := v.validate(env); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.validate(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutEventsValidation measures PutEvents to handler of a ~1 KB
// order event (one rule, one target; the clock stops when every event was
// handled) without a validator, with a Validator in enforce mode, and with
// a Discoverer, in the same run, so that their ratios hold on a loaded
// machine.
//
//	go test -run '^$' -bench PutEventsValidation -benchmem -count 5 .
func BenchmarkPutEventsValidation(b *testing.B) {
	reg := NewRegistry()
	if _, err := reg.Create(orderName, "", []byte(benchOrderSchema)); err != nil {
		b.Fatal(err)
	}
	v, err := NewValidator(reg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("validator=none", func(b *testing.B) { benchPutEvents(b) })
	b.Run("validator=enforce", func(b *testing.B) { benchPutEvents(b, eda.WithEventValidator(v)) })
	// A Discoverer: PutEvents pays the copy and the queueing; the inference
	// runs on the discoverer's goroutine (and samples when it falls behind).
	b.Run("validator=discoverer", func(b *testing.B) {
		d, err := NewDiscoverer(NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		benchPutEvents(b, eda.WithEventValidator(d))
		s := d.Stats()
		b.ReportMetric(float64(s.Sampled)/float64(max(s.Seen, 1)), "sampled/event")
	})
}

func benchPutEvents(b *testing.B, opts ...eda.Option) {
	bus, err := eda.NewBus("bench", append([]eda.Option{eda.WithQueueSize(1 << 14)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close(context.Background())
	var handled atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	h := eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		if handled.Add(1) == want.Load() {
			done <- struct{}{}
		}
		return nil
	})
	err = bus.PutRule(eda.Rule{Name: "orders", EventPattern: `{"source":["com.example.orders"],"detail-type":["OrderPlaced"]}`,
		Targets: []eda.Target{eda.HandlerTarget("t", h)}})
	if err != nil {
		b.Fatal(err)
	}
	e := eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Resources: []string{"arn:aws:example:orders"}, Detail: benchOrderDetail()}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	want.Store(int64(b.N))
	for range b.N {
		res, err := bus.PutEvents(ctx, e)
		if err != nil || res.FailedEntryCount != 0 {
			b.Fatal(err, res.Err())
		}
	}
	<-done
}
