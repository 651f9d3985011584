package eda

import (
	"time"

	"github.com/edakit/eda/internal/delivery"
)

// SystemClock returns the [Clock] of the real time: time.Now and
// time.AfterFunc.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// engineClockOf returns c as the delivery engine's clock; nil stays nil,
// which the engine takes as the system clock. No adapter is needed: [Timer]
// and the engine's Timer are the same type.
func engineClockOf(c Clock) delivery.Clock {
	if c == nil {
		return nil
	}
	return c
}
