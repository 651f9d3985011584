package eda

import (
	"errors"

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
//
// It is an alias of the delivery engine's type, so that every router's
// dead letters carry the same type.
type PanicError = delivery.PanicError

// ShutdownError is returned by Close when its context ended before every
// accepted event was delivered. DeadLettered counts the events that went to
// their dead-letter handler with reason [ReasonShutdown] instead; Err (and
// Unwrap) is the context's error.
type ShutdownError = delivery.ShutdownError
