package schema_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/edakit/eda"
	"github.com/edakit/eda/schema"
)

const orderSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "properties": {
    "detail": {
      "type": "object",
      "required": ["orderId", "total"],
      "properties": {
        "orderId": {"type": "string"},
        "total": {"type": "number", "minimum": 0}
      }
    }
  }
}`

// A bus that enforces its schemas rejects an invalid entry with the path
// and the keyword that failed, and routes it nowhere.
func ExampleValidator() {
	reg := schema.NewRegistry()
	if _, err := reg.Create(schema.Name("com.example.orders", "OrderPlaced"), schema.FormatJSONSchemaDraft4, []byte(orderSchema)); err != nil {
		panic(err)
	}
	v, err := schema.NewValidator(reg, schema.WithMode(schema.ModeEnforce))
	if err != nil {
		panic(err)
	}
	bus, err := eda.NewBus("orders", eda.WithEventValidator(v))
	if err != nil {
		panic(err)
	}
	defer bus.Close(context.Background())

	res, err := bus.PutEvents(context.Background(),
		eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"orderId":"o-1","total":10}`)},
		eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"orderId":"o-2","total":-1}`)})
	if err != nil {
		panic(err)
	}
	for i, e := range res.Entries {
		if e.ErrorCode != "" {
			fmt.Printf("entry %d: %s: %s\n", i, e.ErrorCode, e.ErrorMessage)
		} else {
			fmt.Printf("entry %d: accepted\n", i)
		}
	}
	fmt.Printf("%+v\n", v.Stats())
	// Output:
	// entry 0: accepted
	// entry 1: EventValidationFailed: detail.total: must be >= 0 (minimum) [schema com.example.orders@OrderPlaced version 1]
	// {Validated:2 Valid:1 Warned:0 Rejected:1 NoSchema:0 Off:0}
}

// A discoverer infers the schema of the events a bus carries and records
// a new version when their shape changes.
func ExampleDiscoverer() {
	d, err := schema.NewDiscoverer(schema.NewRegistry())
	if err != nil {
		panic(err)
	}
	defer d.Close()
	bus, err := eda.NewBus("orders", eda.WithEventValidator(d))
	if err != nil {
		panic(err)
	}
	defer bus.Close(context.Background())
	name := schema.Name("com.example.orders", "OrderPlaced")
	for _, detail := range []string{`{"orderId":"o-1"}`, `{"orderId":"o-2"}`, `{"orderId":"o-3","coupon":"XMAS"}`} {
		if _, err := bus.PutEvents(context.Background(), eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(detail)}); err != nil {
			panic(err)
		}
		if err := d.Flush(context.Background()); err != nil {
			panic(err)
		}
		fmt.Println(detail, "→ versions", d.Registry().Versions(name))
	}
	// Output:
	// {"orderId":"o-1"} → versions [1]
	// {"orderId":"o-2"} → versions [1]
	// {"orderId":"o-3","coupon":"XMAS"} → versions [1 2]
}

// Export writes a schema in another format: here a JSON Schema as OpenAPI
// 3, EventBridge's format.
func ExampleRegistry_Export() {
	reg := schema.NewRegistry()
	if _, err := reg.Create("com.example@Ping", "", []byte(`{"properties":{"detail":{"type":"object"}}}`)); err != nil {
		panic(err)
	}
	out, err := reg.Export("com.example@Ping", "", schema.FormatOpenAPI3)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// {
	//   "components": {
	//     "schemas": {
	//       "AWSEvent": {
	//         "properties": {
	//           "detail": {
	//             "type": "object"
	//           }
	//         }
	//       }
	//     }
	//   },
	//   "info": {
	//     "title": "com.example@Ping",
	//     "version": "1.0.0"
	//   },
	//   "openapi": "3.0.0",
	//   "paths": {}
	// }
}

// Shipment is the detail of a producer's events.
type Shipment struct {
	OrderID string `json:"orderId"`
	Carrier string `json:"carrier,omitempty"`
}

// TypeSchema writes the schema of a Go type's events; RegisterProducer
// puts it in a registry for a producer's source and detail-type.
func ExampleRegisterProducer() {
	reg := schema.NewRegistry()
	p, err := eda.NewProducer[Shipment](eda.ProducerFunc(func(ctx context.Context, entries ...eda.Event) (eda.PutEventsResult, error) {
		return eda.PutEventsResult{}, nil
	}), "com.example.shipping", "OrderShipped")
	if err != nil {
		panic(err)
	}
	v, err := schema.RegisterProducer(reg, p)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Name, v.Version, v.Format)
	err = reg.Validate(v.Name, "", []byte(`{"version":"0","id":"1","detail-type":"OrderShipped","source":"com.example.shipping",`+
		`"account":"1","time":"2026-12-06T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"carrier":"DHL"}}`))
	fmt.Println(err)
	// Output:
	// com.example.shipping@OrderShipped 1 JSONSchema2020-12
	// detail.orderId: is required (required) [schema com.example.shipping@OrderShipped version 1]
}

// GenerateGo writes Go types from a schema, as the edagen command does.
func ExampleGenerateGo() {
	content, err := os.ReadFile("predefined/aws.ec2@EC2InstanceStateChangeNotification.json")
	if err != nil {
		panic(err)
	}
	src, err := schema.GenerateGo("aws.ec2@EC2InstanceStateChangeNotification", "", content, "ec2events")
	if err != nil {
		panic(err)
	}
	for l := range strings.SplitSeq(string(src), "\n") {
		if strings.HasPrefix(l, "type ") || strings.Contains(l, "`json:") {
			fmt.Println(strings.TrimSpace(l))
		}
	}
	// Output:
	// type EC2InstanceStateChangeNotification struct {
	// InstanceID string `json:"instance-id"`
	// State string `json:"state"`
}

// PredefinedSchemas validate the events AWS documents.
func ExamplePredefinedSchemas() {
	reg := schema.NewRegistry()
	loaded, err := reg.LoadFS(schema.PredefinedSchemas())
	if err != nil {
		panic(err)
	}
	for _, v := range loaded {
		fmt.Println(v.Name, "for", v.Source, v.DetailType)
	}
	// Output:
	// aws.ec2@EC2InstanceStateChangeNotification for aws.ec2 EC2 Instance State-change Notification
	// aws.events@ScheduledEvent for aws.events Scheduled Event
	// aws.s3@ObjectCreated for aws.s3 Object Created
}
