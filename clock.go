package eda

import "time"

// SystemClock returns the [Clock] of the real time: time.Now and
// time.AfterFunc.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Clock is the source of time for retries, batching windows and
// timestamps, so tests can run without waiting. Its methods may be called
// concurrently. AfterFunc must call f later, on a goroutine of its own,
// never from within AfterFunc itself. [SystemClock] returns the real one.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call scheduled by a [Clock]; Stop cancels it and
// reports whether it did so before the call started.
//
// Timer is an alias of an unnamed interface type, so that a Clock whose
// AfterFunc returns interface{ Stop() bool } — any Clock of this package,
// of the delivery engine or of a test — satisfies all of them.
type Timer = interface{ Stop() bool }
