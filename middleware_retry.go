package eda

import (
	"context"
	"fmt"
	"time"
)

// Retry returns middleware that retries the handlers it wraps within one
// delivery, for when a consumer wants quick retries of its own before the
// engine's (a Retry that gives up returns an error, which the engine then
// retries or dead-letters according to the destination's policy).
//
// Between attempts it waits with exponential backoff and full jitter: after
// the n-th failed attempt, a random time in [0, min(MaxBackoff,
// MinBackoff·2ⁿ⁻¹)] — the same draw the delivery engine makes between its
// own attempts. It stops and returns:
//   - nil as soon as an attempt succeeds;
//   - a [Permanent] error as it is, without retrying;
//   - a [*RetryError] with Reason [ReasonMaxAttempts] after
//     policy.MaxAttempts attempts;
//   - a [*RetryError] with Reason [ReasonMaxAge] when the next attempt
//     would not start within policy.MaxAge of the delivery's Time (or, if
//     Time is zero, of the start of the first attempt);
//   - a [*RetryError] with Reason "context" when ctx has ended after a
//     failed attempt or ends during the wait; it wraps ctx's error as well
//     as the handler's.
//
// Zero (or negative) fields of policy take the defaults of [RetryPolicy]:
// 185 attempts, 24 hours, 1 second, 3 minutes; a MaxBackoff below
// MinBackoff is raised to it. Every attempt receives the same Delivery, so
// d.Attempt stays the engine's attempt number. A panic is not retried
// unless [Recover] is inside Retry.
//
// Options: [WithMiddlewareClock]; since MaxAge is measured against the
// delivery's Time, give Retry the clock the router stamps deliveries with
// when that is not the system clock. Retry keeps no state between calls and
// may be used concurrently; the jitter comes from math/rand/v2's top-level
// functions, which are safe for concurrent use.
func Retry(policy RetryPolicy, opts ...MiddlewareOption) Middleware {
	cfg, err := configure("Retry", opts)
	if err != nil {
		return invalid(err)
	}
	p := normalizedRetryPolicy(policy)
	clock := cfg.clock
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			start := d.Time
			if start.IsZero() {
				start = clock.Now()
			}
			expiry := start.Add(p.MaxAge)
			for attempt := 1; ; attempt++ {
				err := next.Handle(ctx, d)
				if err == nil || IsPermanent(err) {
					return err
				}
				if attempt >= p.MaxAttempts {
					return &RetryError{Attempts: attempt, Reason: string(ReasonMaxAttempts), Err: err}
				}
				if cerr := ctx.Err(); cerr != nil {
					return &RetryError{Attempts: attempt, Reason: "context", Err: err, ctxErr: cerr}
				}
				wait := jitteredBackoff(p, attempt)
				if !clock.Now().Add(wait).Before(expiry) {
					return &RetryError{Attempts: attempt, Reason: string(ReasonMaxAge), Err: err}
				}
				if cerr := clockSleep(ctx, clock, wait); cerr != nil {
					return &RetryError{Attempts: attempt, Reason: "context", Err: err, ctxErr: cerr}
				}
			}
		})
	}
}

// normalizedRetryPolicy fills in the defaults of a RetryPolicy: the delivery
// engine's, so that Retry and the engine read a policy alike.
func normalizedRetryPolicy(p RetryPolicy) RetryPolicy {
	q := p.policy().WithDefaults()
	return RetryPolicy{MaxAttempts: q.MaxAttempts, MaxAge: q.MaxAge, MinBackoff: q.MinBackoff, MaxBackoff: q.MaxBackoff}
}

// backoffCeiling is the upper bound of the wait after the attempt-th
// failed attempt (see delivery.Policy.Ceiling). p must be normalized.
func backoffCeiling(p RetryPolicy, attempt int) time.Duration {
	return p.policy().Ceiling(attempt)
}

// jitteredBackoff draws the full-jitter wait after the attempt-th failed attempt,
// as the engine does between its own attempts.
func jitteredBackoff(p RetryPolicy, attempt int) time.Duration {
	return p.policy().Backoff(attempt)
}

// RetryError reports that [Retry] gave up on a delivery. The handler's last
// error is reachable through it with errors.Is and errors.As; when Reason
// is "context", so is the context's error.
type RetryError struct {
	// Attempts is how many attempts Retry made.
	Attempts int
	// Reason is why it stopped: [ReasonMaxAttempts], [ReasonMaxAge], or
	// "context" when the context ended.
	Reason string
	// Err is the handler's last error.
	Err error

	ctxErr error
}

// Error describes why Retry stopped and the handler's last error.
func (e *RetryError) Error() string {
	if e.ctxErr != nil {
		return fmt.Sprintf("eda: retry stopped after %d attempts (%v): %v", e.Attempts, e.ctxErr, e.Err)
	}
	return fmt.Sprintf("eda: retry gave up after %d attempts (%s): %v", e.Attempts, e.Reason, e.Err)
}

// Unwrap returns the handler's last error and, when the context ended, the
// context's error.
func (e *RetryError) Unwrap() []error {
	if e.ctxErr != nil {
		return []error{e.Err, e.ctxErr}
	}
	return []error{e.Err}
}
