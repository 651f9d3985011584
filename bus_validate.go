package eda

import "context"

// EventValidator checks an event that [Bus.PutEvents] has accepted, before
// the bus routes it: the seam a schema registry plugs into (the module
// github.com/edakit/eda/schema has one, with modes off, warn and enforce,
// and a schema discoverer that never rejects). Give it to a bus with
// [WithEventValidator].
//
// ValidateEvent is called once per entry that passed EventBridge's own
// checks, after the entry was stamped (ID, time, account, region), with
// the entry and its envelope: the event's JSON form as targets receive it
// (see [Event]). It is called on the goroutine of PutEvents, concurrently
// for concurrent calls. e is a copy of the entry: changing it changes
// nothing. envelope is what the targets receive: it must not be modified;
// the bus never changes it either, so a validator may keep it (to inspect
// it later, off the PutEvents path). ctx is the context of the PutEvents
// call.
//
// A non-nil error rejects the entry: it fails with
// [ErrorCodeValidationFailed] and the error's text as its message, and is
// routed to no target. A validator that only observes (logs, counts,
// samples) returns nil.
type EventValidator interface {
	ValidateEvent(ctx context.Context, e *Event, envelope []byte) error
}

// EventValidatorFunc adapts a function to an [EventValidator].
type EventValidatorFunc func(ctx context.Context, e *Event, envelope []byte) error

// ValidateEvent calls f(ctx, e, envelope).
func (f EventValidatorFunc) ValidateEvent(ctx context.Context, e *Event, envelope []byte) error {
	return f(ctx, e, envelope)
}

// ErrorCodeValidationFailed: the bus's [EventValidator] rejected the entry
// (for a schema validator, the event does not conform to the schema of its
// source and detail-type); the message says why. Not retryable. eda's own
// code: EventBridge does not validate events against schemas.
const ErrorCodeValidationFailed ErrorCode = "EventValidationFailed"

// WithEventValidator makes a bus check each entry with v before routing it
// (see [EventValidator]). Given more than once, the last one counts. A nil
// v is an error. Without this option a bus validates only as EventBridge
// does, at no cost for the seam.
func WithEventValidator(v EventValidator) Option {
	return busOption("WithEventValidator", func(c *busConfig) error {
		if v == nil {
			return optionError("WithEventValidator", "nil validator")
		}
		c.validator = v
		return nil
	})
}

// checkEvent runs the bus's validator, if it has one, on the stamped entry
// e whose JSON form is envelope; it returns the entry's error code and
// message, or "" when the entry may be routed. It is small enough to be
// inlined, and does not let e escape, so that a bus without a validator
// pays one nil check.
func (b *Bus) checkEvent(ctx context.Context, e *Event, envelope []byte) (ErrorCode, string) {
	if b.cfg.validator == nil {
		return "", ""
	}
	return b.validateEvent(ctx, *e, envelope)
}

// validateEvent calls the validator with a copy of the entry: the only
// copy that escapes to the heap.
func (b *Bus) validateEvent(ctx context.Context, e Event, envelope []byte) (ErrorCode, string) {
	if err := b.cfg.validator.ValidateEvent(ctx, &e, envelope); err != nil {
		return ErrorCodeValidationFailed, err.Error()
	}
	return "", ""
}
