package eda

import (
	"context"
	"time"
)

// RetryPolicy says how often and for how long a destination retries a
// failed delivery. The zero value means EventBridge's defaults: 185
// attempts within 24 hours. (CONTRACT STUB: the delivery engine work owns
// this file and completes it.)
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, including the first.
	// 0 means 185; 1 means no retries.
	MaxAttempts int
	// MaxAge is how long after acceptance an event may still be tried.
	// 0 means 24 hours.
	MaxAge time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff with full
	// jitter between attempts. 0 means 1 second and 3 minutes.
	MinBackoff, MaxBackoff time.Duration
}

// DeadLetter is an event that could not be delivered, and why.
type DeadLetter struct {
	// Delivery is the last attempted delivery (its Router, Rule and
	// Destination say where it was going).
	Delivery Delivery
	// Reason is the exhausted condition: "permanent-error", "max-attempts",
	// "max-age" or "shutdown".
	Reason string
	// Err is the last error.
	Err error
	// Attempts is how many attempts were made.
	Attempts int
}

// DeadLetterHandler receives what could not be delivered. It is called
// with a context that is not cancelled, even when the delivery's was.
type DeadLetterHandler interface {
	HandleDeadLetter(ctx context.Context, dl DeadLetter)
}

// DeadLetterFunc adapts a function to a [DeadLetterHandler].
type DeadLetterFunc func(ctx context.Context, dl DeadLetter)

// HandleDeadLetter calls f(ctx, dl).
func (f DeadLetterFunc) HandleDeadLetter(ctx context.Context, dl DeadLetter) { f(ctx, dl) }

// Timer is a pending call scheduled by a [Clock].
type Timer interface{ Stop() bool }

// Clock is the source of time for retries, windows and timestamps, so tests
// can run without waiting.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}
