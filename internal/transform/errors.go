package transform

import "errors"

// ErrInvalid is the sentinel every compile error wraps: errors.Is(err,
// ErrInvalid) reports that an InputPath or InputTransformer was rejected.
// Use errors.As with *Error to learn what and where.
var ErrInvalid = errors.New("transform: invalid input transformation")

// ErrEventNotObject is returned by Apply when the event bytes are not a JSON
// object. The Bus only routes JSON objects, so seeing it means a caller bug.
var ErrEventNotObject = errors.New("transform: event is not a JSON object")

// ErrPathAbsent is for callers to report that an InputPath selects nothing
// in an event (Extract returned ok == false). EventBridge does not document
// this case; its JSONPath evaluation has no value to send, so eda's
// recommendation is to treat it as a permanent invocation failure (no
// retries; dead-letter it), wrapping this error.
var ErrPathAbsent = errors.New("transform: InputPath selects nothing in the event")

// Error is a compile error. Field names the offending part as EventBridge's
// API names it ("InputPath", "InputTemplate", "InputPathsMap" or
// `InputPathsMap["key"]`); Reason says what is wrong with it.
type Error struct {
	Field  string
	Reason string
}

// Error formats the error as "Field: Reason".
func (e *Error) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalid so that errors.Is(err, ErrInvalid) holds.
func (e *Error) Unwrap() error { return ErrInvalid }

func newError(field, reason string) *Error { return &Error{Field: field, Reason: reason} }
