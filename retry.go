package eda

import (
	"context"
	"time"
)

// RetryPolicy says how often and for how long a destination retries a
// failed delivery. The zero value means EventBridge's defaults: 185
// attempts within 24 hours, with exponential backoff from 1 second to 3
// minutes. It does not mean "no retries": for a single attempt, use
// [NoRetries].
//
// MaxAttempts counts attempts, the first included, where EventBridge's
// MaximumRetryAttempts counts retries: EventBridge's MaximumRetryAttempts
// n is MaxAttempts n+1 here, and its MaximumRetryAttempts 0 is
// MaxAttempts 1, [NoRetries]. Zero fields take the defaults, so that a
// policy that sets only MaxAge keeps the default attempts.
//
// Between attempts a delivery waits a random time between zero and
// min(MaxBackoff, MinBackoff·2^(attempt-1)) ("full jitter"). A waiting
// retry holds no worker and does not delay the deliveries behind it.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, including the first:
	// 1 means no retries (see [NoRetries]), 3 means two retries. 0 means
	// the default, 185 — not zero retries.
	MaxAttempts int
	// MaxAge is how long after acceptance an event may still be tried,
	// on the bus's [Clock]: a failure after it, or a backoff reaching past
	// it, dead-letters the event with reason [ReasonMaxAge] at once. 0
	// means 24 hours.
	MaxAge time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff with full
	// jitter between attempts. 0 means 1 second and 3 minutes.
	MinBackoff, MaxBackoff time.Duration
}

// NoRetries returns the policy of a single attempt: a delivery that fails
// goes to the dead-letter handler at once, with reason
// [ReasonMaxAttempts] and Attempts 1. It is EventBridge's
// MaximumRetryAttempts: 0, written RetryPolicy{MaxAttempts: 1} here
// (RetryPolicy{}, whose MaxAttempts is 0, is the default of 185 attempts).
// Use it with [WithRetryPolicy] (on a router or a destination) or [Retry].
func NoRetries() RetryPolicy { return RetryPolicy{MaxAttempts: 1} }

// DeadLetterReason says why an event or message was dead-lettered.
type DeadLetterReason string

// The reasons a [DeadLetter] gives.
const (
	// ReasonPermanent: the handler returned an error marked [Permanent]
	// (a [HandlerOf] handler does so when the payload does not decode).
	ReasonPermanent DeadLetterReason = "permanent-error"
	// ReasonMaxAttempts: every attempt the [RetryPolicy] allows failed.
	ReasonMaxAttempts DeadLetterReason = "max-attempts"
	// ReasonMaxAge: the event was still failing at the policy's MaxAge.
	ReasonMaxAge DeadLetterReason = "max-age"
	// ReasonShutdown: Close's context ended before the event was delivered.
	ReasonShutdown DeadLetterReason = "shutdown"
)

// DeadLetter is an event that could not be delivered, and why.
type DeadLetter struct {
	// Delivery is the last attempted delivery: its ID, Router, Rule and
	// Destination say what was going where, and its Payload is what the
	// destination was to receive (for a Bus target with an input
	// transformation, the transformed input). When the input could not be
	// computed, Delivery still names the event and its destination, and
	// its Payload is nil.
	Delivery Delivery
	// Event is the event as the router accepted it: for a [Bus] the event
	// envelope JSON, for a Topic the message body. It is the same as
	// Delivery.Payload when the destination has no input transformation.
	// Like an EventBridge dead-letter queue, which receives the event that
	// failed, not the target's input, it lets the event be inspected and
	// put again. It must not be modified: it is shared with the other
	// destinations of the event.
	Event []byte
	// Reason is the exhausted condition: [ReasonPermanent],
	// [ReasonMaxAttempts], [ReasonMaxAge] or [ReasonShutdown].
	Reason DeadLetterReason
	// Err is the last error ([ErrClosed] for an event dead-lettered at
	// shutdown before any attempt; a *[PanicError] for a panic).
	Err error
	// Attempts is how many attempts were made.
	Attempts int
}

// DeadLetterHandler receives what could not be delivered. It is called
// with a context that is not cancelled, even when the delivery's was (for
// instance at shutdown), and that lets it publish without waiting for
// room in full queues. It may be called concurrently, each call on a
// goroutine of its own. A handler that panics or calls runtime.Goexit has
// failed to take the dead letter: that is logged at Error level and
// counted in [TargetStats].InvocationsFailedToBeSentToDlq.
type DeadLetterHandler interface {
	HandleDeadLetter(ctx context.Context, dl DeadLetter)
}

// DeadLetterFunc adapts a function to a [DeadLetterHandler].
type DeadLetterFunc func(ctx context.Context, dl DeadLetter)

// HandleDeadLetter calls f(ctx, dl).
func (f DeadLetterFunc) HandleDeadLetter(ctx context.Context, dl DeadLetter) { f(ctx, dl) }
