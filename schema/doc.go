// Package schema gives an eda bus what EventBridge's schema registry gives
// its event buses: schemas of the events by source and detail-type,
// validation at PutEvents, schema discovery from live traffic, and Go
// types both ways. It is a module of its own, github.com/edakit/eda/schema,
// so that importing eda alone never brings in its JSON Schema
// implementation (github.com/santhosh-tekuri/jsonschema/v6).
//
// # Registry
//
// A [Registry] holds schemas by name — EventBridge's source@DetailType,
// see [Name] — each with numbered versions, in JSON Schema draft 4 (the
// JSON Schema EventBridge accepts), JSON Schema 2020-12, or OpenAPI 3
// (EventBridge's format for AWS and discovered schemas, the event under
// components/schemas). A schema describes the whole envelope, its detail
// under properties.detail. Create, Update (a new version), Put, Describe,
// Versions, List, Delete, DeleteVersion and Export (to any of the three
// formats) manage them; LoadDir and LoadFS load a directory of
// name.json files. [PredefinedSchemas] holds schemas for AWS events a
// program meets: the Scheduled Event, S3's Object Created and EC2's
// instance state-change notification.
//
//	reg := schema.NewRegistry()
//	reg.LoadFS(schema.PredefinedSchemas())
//	reg.LoadDir("schemas") // com.example.orders@OrderPlaced.json, …
//
// # Validation at the bus
//
// A [Validator] is an eda.EventValidator: given to a bus with
// eda.WithEventValidator, it checks every event put on the bus, after
// EventBridge's own checks, against the latest version of the schema named
// after the event's source and detail-type. Its mode — for the bus
// ([WithMode]) or per schema ([WithSchemaMode]) — says what an invalid
// event does: [ModeEnforce] (the default) rejects it, its entry failing
// with eda.ErrorCodeValidationFailed and a message naming the path and the
// keyword that failed, "detail.total: must be >= 0 (minimum) [schema
// com.example.orders@OrderPlaced version 1]", and routes it nowhere;
// [ModeWarn] logs it and delivers it; [ModeOff] does not look. Events
// without a schema pass, or with [WithStrict] count as invalid.
// [Validator.Stats] counts validated, valid, warned, rejected, schemaless
// and unchecked events. Schemas are compiled once, when added.
//
//	v, _ := schema.NewValidator(reg, schema.WithMode(schema.ModeEnforce))
//	bus, _ := eda.NewBus("orders", eda.WithEventValidator(v))
//
// Validation costs more than routing: for a 1 KB order event, tens of
// microseconds against a few for PutEvents alone (BENCHMARKS.md). Turn it
// off for the hottest event types with WithSchemaMode, or use it in tests
// and staging.
//
// # Discovery
//
// A [Discoverer], given to a bus with eda.WithEventValidator too, never
// rejects: it infers a schema per source and detail-type from the events
// it sees — types, nested objects, arrays and their items, the fields
// every event had as required, date-time strings — and records a new
// version in its registry, in OpenAPI 3, only when that shape changes. It
// works off the hot path on its own goroutine behind a bounded queue; when
// the queue is full it samples, and [DiscovererStats].Sampled says how
// many events it left out. [Registry.Export] gives the discovered schemas
// as JSON Schema or OpenAPI 3. A bus takes one validator: [Chain] runs a
// Discoverer and a Validator on the same bus.
//
// # Go types both ways
//
// [TypeSchema] writes the schema of the events whose detail is a Go type,
// as encoding/json marshals it; [RegisterType] and [RegisterProducer] put
// it in a registry for a producer's source and detail-type, so that the
// bus checks what eda.NewProducer[T] puts. [GenerateGo], and the command
// edagen built on it, go the other way — EventBridge's code bindings:
//
//	go run github.com/edakit/eda/schema/cmd/edagen -schema FILE -package P
//
// writes gofmt'd Go structs with JSON tags and doc comments for the
// detail, ready for eda.HandlerOf and eda.NewProducer.
//
// The example in examples/schemas (cd schema && go run ./examples/schemas)
// shows all of it together.
package schema
