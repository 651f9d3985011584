package eda

import (
	"context"
	"reflect"
)

// HandlerOf returns a Handler that decodes each delivery's body into a T
// with [Delivery.Decode] — an event's detail, an SNS notification's
// message, an input or a raw message — and calls fn with it. A delivery
// that does not decode is not retried: its error is marked [Permanent] and
// it goes to the dead-letter handler. fn's own errors are retried as usual.
// When fn needs the delivery's ID (an idempotency key), its attempt number
// or where it comes from, use [HandlerOfDelivery].
func HandlerOf[T any](fn func(ctx context.Context, v T) error) Handler {
	return decodingHandler[T]{fn: reflect.ValueOf(fn).Pointer(),
		call: func(ctx context.Context, v T, _ Delivery) error { return fn(ctx, v) }}
}

// HandlerOfDelivery is [HandlerOf] for functions that also need the
// [Delivery] itself: fn receives the decoded T and the delivery it came
// from, whose ID stays the same across retries (an idempotency key), whose
// Attempt counts the attempts, and whose Router, Rule and Destination say
// where it comes from. Decoding and errors are as for HandlerOf.
func HandlerOfDelivery[T any](fn func(ctx context.Context, v T, d Delivery) error) Handler {
	return decodingHandler[T]{fn: reflect.ValueOf(fn).Pointer(), call: fn}
}

// decodingHandler is the Handler of HandlerOf and HandlerOfDelivery. It is
// [Named] after the caller's function, for Describe.
type decodingHandler[T any] struct {
	call func(ctx context.Context, v T, d Delivery) error
	fn   uintptr // the caller's function
}

// Handle decodes the delivery into a T and calls the function with it.
func (h decodingHandler[T]) Handle(ctx context.Context, d Delivery) error {
	var v T
	if err := d.Decode(&v); err != nil {
		return Permanent(err)
	}
	return h.call(ctx, v, d)
}

// Name returns the name of the caller's function.
func (h decodingHandler[T]) Name() string { return funcName(h.fn) }
