package eda

import (
	"errors"

	"github.com/edakit/eda/internal/delivery"
)

// ErrClosed is returned by calls on a Bus or Topic after Close.
var ErrClosed = errors.New("eda: closed")

// Permanent marks err as permanent: the delivery is not retried but goes
// straight to the dead-letter handler. Permanent(nil) returns nil.
func Permanent(err error) error { return delivery.Permanent(err) }

// IsPermanent reports whether err, or an error it wraps, was marked with [Permanent].
func IsPermanent(err error) bool { return delivery.IsPermanent(err) }
