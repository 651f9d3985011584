package pattern

import "errors"

// Error reports a rejected pattern: the dotted path of the offending part
// inside the pattern ("" for the pattern as a whole) and the reason.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "event pattern: " + e.Reason
	}
	return "event pattern: " + e.Path + ": " + e.Reason
}

// ErrNotObject is returned (wrapped) when an event is not a JSON object, or is
// not valid JSON.
var ErrNotObject = errors.New("eda: event is not a JSON object")

// errTooDeep stops the pattern JSON decoder at the nesting limit.
var errTooDeep = errors.New("pattern nests too deeply")

func perr(path, reason string) *Error { return &Error{Path: path, Reason: reason} }
