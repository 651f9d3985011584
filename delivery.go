package eda

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// This file holds what a consumer receives: a Delivery, what its payload
// is, and how to read it.

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
