package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Producer puts events. *Bus satisfies it; application code that depends
// on a Producer rather than a *Bus can be tested with a fake, such as a
// [ProducerFunc].
type Producer interface {
	PutEvents(ctx context.Context, entries ...Event) (PutEventsResult, error)
}

// ProducerFunc adapts a function to a [Producer].
type ProducerFunc func(ctx context.Context, entries ...Event) (PutEventsResult, error)

// PutEvents calls f(ctx, entries...).
func (f ProducerFunc) PutEvents(ctx context.Context, entries ...Event) (PutEventsResult, error) {
	return f(ctx, entries...)
}

var _ Producer = (*Bus)(nil)

// TypedProducer puts events of one source and detail-type whose detail is
// a T, marshalled as JSON. It is safe for concurrent use.
type TypedProducer[T any] struct {
	p          Producer
	source     string
	detailType string
	resources  []string
	marshal    func(T) ([]byte, error)
}

// ProducerOption configures a [TypedProducer].
type ProducerOption func(*producerConfig)

type producerConfig struct {
	resources []string
	marshal   func(any) ([]byte, error)
}

// WithResources sets the resources of every event the producer puts.
func WithResources(resources ...string) ProducerOption {
	return func(c *producerConfig) { c.resources = append(c.resources, resources...) }
}

// WithMarshal replaces json.Marshal for the detail. The result must be a
// JSON object.
func WithMarshal(marshal func(v any) ([]byte, error)) ProducerOption {
	return func(c *producerConfig) { c.marshal = marshal }
}

// NewProducer returns a producer that puts events with the given source
// and detail-type on p, with a T as detail.
func NewProducer[T any](p Producer, source, detailType string, opts ...ProducerOption) (*TypedProducer[T], error) {
	if p == nil {
		return nil, errors.New("eda: NewProducer: nil Producer")
	}
	if source == "" || detailType == "" {
		return nil, errors.New("eda: NewProducer: source and detail-type are required")
	}
	var cfg producerConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	tp := &TypedProducer[T]{p: p, source: source, detailType: detailType, resources: cfg.resources}
	if cfg.marshal != nil {
		m := cfg.marshal
		tp.marshal = func(v T) ([]byte, error) { return m(v) }
	} else {
		tp.marshal = func(v T) ([]byte, error) { return json.Marshal(v) }
	}
	return tp, nil
}

// Put marshals v as the detail of a new event and puts it. It returns the
// event's id. A refused entry is returned as an [*EntryError].
func (tp *TypedProducer[T]) Put(ctx context.Context, v T) (eventID string, err error) {
	detail, err := tp.marshal(v)
	if err != nil {
		return "", fmt.Errorf("eda: %s/%s: marshal detail: %w", tp.source, tp.detailType, err)
	}
	res, err := tp.p.PutEvents(ctx, Event{
		Source:     tp.source,
		DetailType: tp.detailType,
		Resources:  tp.resources,
		Detail:     detail,
	})
	if err != nil {
		return "", err
	}
	if len(res.Entries) != 1 {
		return "", fmt.Errorf("eda: %s/%s: producer returned %d results for 1 entry", tp.source, tp.detailType, len(res.Entries))
	}
	if e := res.Entries[0]; e.ErrorCode != "" {
		return "", &EntryError{Index: 0, Code: e.ErrorCode, Message: e.ErrorMessage}
	}
	return res.Entries[0].EventID, nil
}

// Source returns the source of the producer's events.
func (tp *TypedProducer[T]) Source() string { return tp.source }

// DetailType returns the detail-type of the producer's events.
func (tp *TypedProducer[T]) DetailType() string { return tp.detailType }
