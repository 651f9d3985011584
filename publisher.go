package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Publisher publishes messages. *Topic satisfies it; application code that
// depends on a Publisher rather than a *Topic can be tested with a fake,
// such as a [PublisherFunc].
type Publisher interface {
	Publish(ctx context.Context, m Message) (PublishResult, error)
}

// PublisherFunc adapts a function to a [Publisher].
type PublisherFunc func(ctx context.Context, m Message) (PublishResult, error)

// Publish calls f(ctx, m).
func (f PublisherFunc) Publish(ctx context.Context, m Message) (PublishResult, error) {
	return f(ctx, m)
}

var _ Publisher = (*Topic)(nil)

// TypedPublisher publishes messages whose body is a T, marshalled as JSON:
// the Topic's counterpart of [TypedProducer]. It is safe for concurrent
// use.
type TypedPublisher[T any] struct {
	p Publisher
}

// NewPublisher returns a publisher of T values to p.
func NewPublisher[T any](p Publisher) (*TypedPublisher[T], error) {
	if p == nil {
		return nil, errors.New("eda: NewPublisher: nil Publisher")
	}
	return &TypedPublisher[T]{p: p}, nil
}

// Publish publishes v, as JSON, as the body of a message.
func (tp *TypedPublisher[T]) Publish(ctx context.Context, v T) (PublishResult, error) {
	return tp.PublishWith(ctx, v, Message{})
}

// PublishWith publishes v, as JSON, as the body of m, which supplies the
// rest of the message: subject, attributes, and a FIFO topic's group and
// de-duplication ids. m's own Body must be empty.
func (tp *TypedPublisher[T]) PublishWith(ctx context.Context, v T, m Message) (PublishResult, error) {
	if len(m.Body) > 0 {
		return PublishResult{}, errors.New("eda: PublishWith: the message's Body is set from the value; leave it empty")
	}
	body, err := json.Marshal(v)
	if err != nil {
		return PublishResult{}, fmt.Errorf("eda: publish %T: %w", v, err)
	}
	m.Body = body
	return tp.p.Publish(ctx, m)
}
