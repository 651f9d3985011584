package eda

import (
	"context"
)

// Handler reacts to one delivery. It is the single consumer interface of eda:
// Bus targets and Topic subscriptions both call it.
//
// Handle may be called concurrently, up to the destination's maximum
// concurrency. A nil error acknowledges the delivery. An error wrapped with
// [Permanent] sends it straight to the dead-letter handler; any other error
// is retried according to the destination's [RetryPolicy]. A panic is
// recovered and treated as an error (a *[PanicError]); so is a call of
// runtime.Goexit.
type Handler interface {
	Handle(ctx context.Context, d Delivery) error
}

// HandlerFunc adapts an ordinary function to a [Handler].
type HandlerFunc func(ctx context.Context, d Delivery) error

// Handle calls f(ctx, d).
func (f HandlerFunc) Handle(ctx context.Context, d Delivery) error { return f(ctx, d) }
