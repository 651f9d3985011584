package delivery

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"time"
)

// Policy is a destination's retry policy. Zero fields take defaults.
type Policy struct {
	MaxAttempts int           // attempts in all, including the first; default 185
	MaxAge      time.Duration // default 24h, measured from Enqueue on the engine's Clock
	MinBackoff  time.Duration // first backoff ceiling; default 1s (may be tiny in tests)
	MaxBackoff  time.Duration // default 3m
}

// Policy defaults: EventBridge's retry policy.
const (
	DefaultMaxAttempts = 185
	DefaultMaxAge      = 24 * time.Hour
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 3 * time.Minute
)

// WithDefaults returns p with zero (or negative) fields set to the defaults.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxAge <= 0 {
		p.MaxAge = DefaultMaxAge
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	return p
}

// Ceiling returns the upper bound of the wait after failed attempt number
// attempt (1 for the first): min(MaxBackoff, MinBackoff·2^(attempt-1)),
// without overflowing. p must have its defaults applied.
func (p Policy) Ceiling(attempt int) time.Duration {
	ceiling := p.MaxBackoff
	shift := max(attempt-1, 0)
	if shift < 62 {
		if c := p.MinBackoff << shift; c>>shift == p.MinBackoff && c > 0 && c < ceiling {
			ceiling = c
		}
	}
	return ceiling
}

// Backoff returns the wait before the attempt that follows failed attempt
// number attempt (1 for the first): a uniformly random duration between 0
// and [Policy.Ceiling] ("full jitter"). p must have its defaults applied.
func (p Policy) Backoff(attempt int) time.Duration {
	c := int64(p.Ceiling(attempt))
	if c < math.MaxInt64 {
		c++ // the ceiling itself may be drawn
	}
	return time.Duration(rand.Int64N(c))
}

// Reason says why an item was dead-lettered.
type Reason string

// The reasons for dead-lettering.
const (
	ReasonPermanent   Reason = "permanent-error" // Deliver returned a Permanent error
	ReasonMaxAttempts Reason = "max-attempts"    // MaxAttempts attempts failed
	ReasonMaxAge      Reason = "max-age"         // still failing MaxAge after Enqueue
	ReasonShutdown    Reason = "shutdown"        // Close gave up before delivery
)

// Failure describes why an item ends in the dead-letter path.
type Failure struct {
	Reason   Reason // the exhausted condition
	Err      error  // the last error; ErrClosed for a shutdown before any attempt
	Attempts int    // attempts made
}

// Options configure one destination.
type Options[T any] struct {
	Name      string // used in logs
	QueueSize int    // bound of the queue; default 1024
	// MaxConcurrency bounds the workers (concurrent Deliver calls); default
	// 4×GOMAXPROCS. An item that finds every worker busy starts another, up
	// to this bound; while deliveries take under 10µs each, only up to
	// GOMAXPROCS, and only while the engine runs fewer workers than that
	// (more would only contend). 1 delivers in order of
	// acceptance (retries excepted; see Ordered).
	MaxConcurrency int
	// IdleTimeout is how long a worker without work waits before it exits;
	// default 2s.
	IdleTimeout time.Duration
	Retry       Policy
	// Ordered makes the destination strictly first in, first out, as a FIFO
	// queue's message group is: one worker (MaxConcurrency is taken as 1),
	// and a failed item is retried in place, its backoff holding up the
	// items behind it, until it is delivered or dead-lettered. (Cascades
	// that find the queue full still go ahead of it, through the overflow
	// list.) Without Ordered, a waiting retry holds up nothing.
	Ordered bool
	// Deliver performs one attempt (attempt starts at 1). It may be called
	// concurrently up to MaxConcurrency. Panics are recovered into a
	// *PanicError and treated as failures; so is runtime.Goexit (the
	// worker's goroutine ends, another takes its place).
	Deliver func(ctx context.Context, item T, attempt int) error
	// DeadLetter receives items that will not be delivered. It is called with
	// a context that is never cancelled, on a goroutine of its own; if it
	// panics or calls runtime.Goexit, the dead letter counts as failed
	// (Stats.DeadLetterFailed) and is logged. Nil means the engine's
	// default.
	DeadLetter func(ctx context.Context, item T, f Failure)
}

// Option defaults.
const (
	DefaultQueueSize   = 1024
	DefaultIdleTimeout = 2 * time.Second
)

// DefaultMaxConcurrency returns the default maximum concurrency of a
// destination: four workers per usable CPU, as handlers often wait on I/O.
func DefaultMaxConcurrency() int { return 4 * runtime.GOMAXPROCS(0) }
