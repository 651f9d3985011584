package eda

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/tidwall/gjson"
)

// String returns the kind's name, as in "event" or "notification".
func (k PayloadKind) String() string {
	switch k {
	case PayloadEvent:
		return "event"
	case PayloadInput:
		return "input"
	case PayloadMessage:
		return "message"
	case PayloadNotification:
		return "notification"
	}
	return fmt.Sprintf("PayloadKind(%d)", uint8(k))
}

// Body returns the content of the delivery, without its envelope: the
// "detail" of an event (as JSON), the "Message" of an SNS notification (as
// its text), and the payload itself for an input or a raw message. It
// reports false when an envelope lacks the field. Body does not allocate,
// except for a notification whose message text contains escapes.
func (d Delivery) Body() ([]byte, bool) {
	switch d.Kind {
	case PayloadEvent:
		r := gjson.GetBytes(d.Payload, "detail")
		if !r.Exists() {
			return nil, false
		}
		return payloadSlice(d.Payload, r), true
	case PayloadNotification:
		r := gjson.GetBytes(d.Payload, "Message")
		if !r.Exists() {
			return nil, false
		}
		if r.Type == gjson.String {
			if raw := payloadSlice(d.Payload, r); len(raw) >= 2 && !strings.Contains(r.Raw, `\`) {
				return raw[1 : len(raw)-1], true
			}
			return []byte(r.Str), true
		}
		return payloadSlice(d.Payload, r), true
	}
	return d.Payload, true
}

// payloadSlice returns the bytes of r inside payload, without copying when
// gjson reports where they are.
func payloadSlice(payload []byte, r gjson.Result) []byte {
	if r.Index > 0 && r.Index+len(r.Raw) <= len(payload) {
		return payload[r.Index : r.Index+len(r.Raw) : r.Index+len(r.Raw)]
	}
	return []byte(r.Raw)
}

// Decode decodes the delivery's [Delivery.Body] into v, which must be a
// non-nil pointer. A *[]byte or *json.RawMessage receives a copy of the
// bytes; a *string receives the text (a JSON string is unquoted); anything
// else is decoded with encoding/json. The error wraps [ErrDecode].
func (d Delivery) Decode(v any) error {
	body, ok := d.Body()
	if !ok {
		field := "detail"
		if d.Kind == PayloadNotification {
			field = "Message"
		}
		return fmt.Errorf("%w: %s payload has no %q field", ErrDecode, d.Kind, field)
	}
	switch p := v.(type) {
	case *[]byte:
		*p = append([]byte(nil), body...)
		return nil
	case *json.RawMessage:
		*p = append(json.RawMessage(nil), body...)
		return nil
	case *string:
		if len(body) > 0 && body[0] == '"' {
			break // a JSON string: unquote it below
		}
		*p = string(body)
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s payload into %T: %w", ErrDecode, d.Kind, v, err)
	}
	return nil
}

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
