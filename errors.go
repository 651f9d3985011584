package eda

import (
	"errors"
	"fmt"

	"github.com/edakit/eda/internal/delivery"
)

// ErrClosed is returned by calls on a Bus or Topic after Close. It is the
// same error the delivery engine returns, so errors.Is matches either.
var ErrClosed = delivery.ErrClosed

// ErrFull is wrapped (together with the context's error) in the error of a
// publish whose destination queue stayed full until the context ended: the
// event was throttled, not silently dropped.
var ErrFull = delivery.ErrFull

// ErrDecode is wrapped in the error of [Delivery.Decode] (and so of a
// [HandlerOf] handler) when a payload does not decode into the wanted type.
var ErrDecode = errors.New("eda: cannot decode delivery")

// Permanent marks err as permanent: the delivery is not retried but goes
// straight to the dead-letter handler. Permanent(nil) returns nil.
func Permanent(err error) error { return delivery.Permanent(err) }

// IsPermanent reports whether err, or an error it wraps, was marked with [Permanent].
func IsPermanent(err error) bool { return delivery.IsPermanent(err) }

// PanicError is the error of a delivery attempt whose handler panicked
// (Value, the value passed to panic, and Stack, the goroutine's stack). The
// panic is recovered — it crashes neither the process nor the worker — and
// the attempt counts as failed: it is retried or dead-lettered like any
// other failure, and a dead letter's Err is then a *PanicError. Unwrap
// returns Value if it is an error.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as runtime/debug.Stack
	// formats it.
	Stack []byte
}

// Error says that the handler panicked, and with what.
func (e *PanicError) Error() string { return fmt.Sprintf("eda: handler panicked: %v", e.Value) }

// Unwrap returns Value if it is an error, else nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ErrInHandler is wrapped in the error that Drain and Close return when
// they are called with the context a handler was given, or one derived
// from it: they would wait for that handler's own delivery, so they return
// at once instead (and Close does not close).
var ErrInHandler = delivery.ErrInHandler

// ShutdownError is returned by Close when its context ended before every
// accepted event was delivered.
type ShutdownError struct {
	// DeadLettered counts the events that went to their dead-letter handler
	// with reason [ReasonShutdown] instead.
	DeadLettered int
	// Abandoned counts the events still held by handlers (or dead-letter
	// handlers) that had not returned when Close did: Close waits for them
	// a short grace after its context ended, then returns and leaves them
	// running. Each such event is delivered or dead-lettered when its
	// handler returns.
	Abandoned int
	// Destinations lists the destinations that still held events when the
	// context ended: how many each, and each one's last error.
	Destinations []DestinationBacklog
	// Err is the context's error (Unwrap returns it).
	Err error
}

// Error describes the shutdown, naming the first few destinations.
func (e *ShutdownError) Error() string {
	return (&delivery.ShutdownError{DeadLettered: e.DeadLettered, Abandoned: e.Abandoned,
		Destinations: engineBacklogs(e.Destinations), Err: e.Err}).Error()
}

// Unwrap returns the context's error.
func (e *ShutdownError) Unwrap() error { return e.Err }

// DrainError is returned by Drain when its context ended before the events
// it waits for were delivered or dead-lettered.
type DrainError struct {
	// Destinations lists the destinations still holding events that Drain
	// waited for: how many each, and each one's last error.
	Destinations []DestinationBacklog
	// Err is the context's error (Unwrap returns it).
	Err error
}

// Error describes what is still in flight, naming the first few
// destinations.
func (e *DrainError) Error() string {
	return (&delivery.DrainError{Destinations: engineBacklogs(e.Destinations), Err: e.Err}).Error()
}

// Unwrap returns the context's error.
func (e *DrainError) Unwrap() error { return e.Err }

// DestinationBacklog is what one destination still held when Drain or
// Close gave up.
type DestinationBacklog struct {
	// Destination names the destination: for a Bus target,
	// "bus/rule/target".
	Destination string
	// InFlight counts its events not yet delivered or dead-lettered.
	InFlight int64
	// LastErr is the error of its last failed attempt; nil when no attempt
	// failed.
	LastErr error
}
