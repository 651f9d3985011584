package eda

import (
	"context"
	"time"
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

// PayloadKind says what a [Delivery]'s Payload holds.
type PayloadKind uint8

const (
	// PayloadEvent is a whole EventBridge-style event envelope as JSON.
	PayloadEvent PayloadKind = iota
	// PayloadInput is a Bus target's input: a constant Input, the result of
	// an InputPath, or the output of an input transformer (JSON or text).
	PayloadInput
	// PayloadMessage is the raw body of a Topic message.
	PayloadMessage
	// PayloadNotification is a Topic message wrapped in SNS's JSON
	// notification envelope.
	PayloadNotification
)

// Attribute is a typed message attribute, as SNS defines them.
type Attribute struct {
	// DataType is "String", "Number", "Binary" or "String.Array",
	// optionally followed by a custom suffix ("Number.float").
	DataType string
	// StringValue holds the value of String, Number and String.Array
	// attributes (the array as its JSON text).
	StringValue string
	// BinaryValue holds the value of Binary attributes.
	BinaryValue []byte
}

// Delivery is one event or message as it reaches a consumer, together with
// where it comes from and how often delivery was tried.
//
// A Delivery is passed by value; Payload and Attributes are shared between
// the destinations of one event and must not be modified.
type Delivery struct {
	// ID identifies the event (Bus) or message (Topic). It stays the same
	// across retries and destinations, so it can serve as an idempotency key.
	ID string
	// Router is the name of the Bus or Topic that routed the delivery.
	Router string
	// Rule is the name of the Bus rule that matched; empty for a Topic.
	Rule string
	// Destination is the target ID (Bus) or subscription name (Topic).
	Destination string
	// Attempt counts delivery attempts, starting at 1.
	Attempt int
	// Time is when the router accepted the event or message.
	Time time.Time
	// Kind says what Payload holds.
	Kind PayloadKind
	// Payload is the delivered bytes.
	Payload []byte
	// Attributes are a Topic message's attributes; nil for a Bus.
	Attributes map[string]Attribute
	// GroupID is the message group of a FIFO topic; empty otherwise.
	GroupID string
}

// Middleware wraps a Handler to add behaviour around every delivery.
type Middleware func(Handler) Handler

// Chain composes middleware into one. The first listed is outermost: it
// sees the delivery first and the result last.
func Chain(mw ...Middleware) Middleware {
	return func(h Handler) Handler {
		for i := len(mw) - 1; i >= 0; i-- {
			if mw[i] != nil {
				h = mw[i](h)
			}
		}
		return h
	}
}
