package eda

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// BusOption configures a [Bus].
type BusOption func(*busConfig) error

type busConfig struct {
	entrySizeLimit int
	maxHops        int
	maxEntries     int
	awsSources     bool
	retry          RetryPolicy
	deadLetter     DeadLetterHandler
	middleware     []Middleware
	clock          Clock
	logger         *slog.Logger
	account        string
	region         string
	queueSize      int
	maxConcurrency int
	idleTimeout    time.Duration
	// failureLogLevel is set by WithFailureLogLevel; nil: Warn.
	failureLogLevel slog.Leveler
}

// WithEntrySizeLimit sets the largest accepted entry, in bytes as
// [EntrySize] counts them. Default [DefaultEntrySizeLimit].
func WithEntrySizeLimit(n int) BusOption {
	return positive("entry size limit", n, func(c *busConfig) { c.entrySizeLimit = n })
}

// positive returns an option that applies set when n, the setting named
// what, is positive, and fails otherwise.
func positive(what string, n int, set func(*busConfig)) BusOption {
	return func(c *busConfig) error {
		if n <= 0 {
			return fmt.Errorf("eda: %s must be positive, got %d", what, n)
		}
		set(c)
		return nil
	}
}

// WithMaxEntriesPerCall sets how many entries one PutEvents call may
// carry; a call with more fails as a whole (see [Bus.PutEvents]). Default
// [DefaultMaxEntriesPerCall], EventBridge's 10. n must be positive; pass
// math.MaxInt for no limit.
func WithMaxEntriesPerCall(n int) BusOption {
	return positive("max entries per call (math.MaxInt for no limit)", n, func(c *busConfig) { c.maxEntries = n })
}

// WithAWSSources makes the bus accept entries whose source begins with
// "aws.", so that a program or test can simulate the events of AWS
// services (aws.s3, aws.ec2, the scheduled events of aws.events). By
// default a bus refuses them with [ErrorCodeNotAuthorizedForSource], as
// EventBridge refuses custom events that claim an AWS service's source.
func WithAWSSources() BusOption {
	return func(c *busConfig) error { c.awsSources = true; return nil }
}

// WithMaxHops sets how many times an event may be put again from the
// handlers and bus targets it reaches before it is refused as a loop.
// Default [DefaultMaxHops].
func WithMaxHops(n int) BusOption {
	return positive("max hops", n, func(c *busConfig) { c.maxHops = n })
}

// WithRetryPolicy sets the retry policy of targets that set none.
func WithRetryPolicy(p RetryPolicy) BusOption {
	return func(c *busConfig) error {
		if p.MaxAttempts < 0 || p.MaxAge < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
			return errors.New("eda: retry policy fields must not be negative")
		}
		c.retry = p
		return nil
	}
}

// WithDeadLetterHandler sets the dead-letter handler of targets that set
// none. Without one, each dead letter is logged at Warn level on the bus's
// logger ([WithLogger]) — "eda: dead letter" with the event id, router
// (the bus), rule, destination (the target id), reason, attempts and
// error — and counted in the target's DeadLetterInvocations, never
// silently dropped.
func WithDeadLetterHandler(h DeadLetterHandler) BusOption {
	return func(c *busConfig) error { c.deadLetter = h; return nil }
}

// WithMiddleware wraps the handler of every target of the bus. Bus
// middleware is outside the target's own; the first listed is outermost.
func WithMiddleware(mw ...Middleware) BusOption {
	return func(c *busConfig) error {
		c.middleware = append(c.middleware, mw...)
		return nil
	}
}

// WithClock sets the source of time for timestamps and retry timing.
func WithClock(clk Clock) BusOption {
	return func(c *busConfig) error {
		if clk == nil {
			return errors.New("eda: nil clock")
		}
		c.clock = clk
		return nil
	}
}

// WithLogger sets the logger of the bus and its delivery engine.
// Default slog.Default().
func WithLogger(l *slog.Logger) BusOption {
	return func(c *busConfig) error {
		if l == nil {
			return errors.New("eda: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithAccount sets the account stamped on events put without one.
// Default [DefaultAccount].
func WithAccount(account string) BusOption {
	return func(c *busConfig) error { c.account = account; return nil }
}

// WithRegion sets the region stamped on events put without one.
// Default [DefaultRegion].
func WithRegion(region string) BusOption {
	return func(c *busConfig) error { c.region = region; return nil }
}

// WithQueueSize sets the capacity of every target's queue. When a queue is
// full, PutEvents waits for room until its context ends.
func WithQueueSize(n int) BusOption {
	return positive("queue size", n, func(c *busConfig) { c.queueSize = n })
}

// WithMaxConcurrency sets how many deliveries a target runs at once when
// the target sets no maximum itself. 1 delivers in order.
func WithMaxConcurrency(n int) BusOption {
	return positive("max concurrency", n, func(c *busConfig) { c.maxConcurrency = n })
}

// WithIdleTimeout sets how long a target's idle worker waits for work
// before it exits (workers scale from zero with demand, like serverless
// concurrency). Zero means the delivery engine's default.
func WithIdleTimeout(d time.Duration) BusOption {
	return func(c *busConfig) error {
		if d < 0 {
			return fmt.Errorf("eda: idle timeout must not be negative, got %v", d)
		}
		c.idleTimeout = d
		return nil
	}
}

// WithFailureLogLevel sets the level at which the bus logs failed delivery
// attempts on its logger ([WithLogger]); the default is Warn. Each target
// logs its first failed attempt ("eda: delivery attempt failed", with the
// destination, attempt and error), then at most one record every five
// seconds on the bus's Clock, which counts the failures not logged since
// (failures_not_logged).
func WithFailureLogLevel(level slog.Level) BusOption {
	return func(c *busConfig) error {
		c.failureLogLevel = level
		return nil
	}
}
