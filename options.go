package eda

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Option configures a router — a [Bus] ([NewBus]) or a [Topic]
// ([NewTopic]) — or one of its destinations — a Bus target
// ([HandlerTarget], [BusTarget], [TopicTarget]) or a Topic subscription
// ([Topic.Subscribe]). One type serves all, so that the settings of
// delivery read the same wherever they are given:
//
//   - Delivery settings — [WithRetryPolicy], [WithDeadLetter],
//     [WithMiddleware], [WithMaxConcurrency], [WithQueueSize] and
//     [WithIdleTimeout] — apply to both. Given to a router they are the
//     defaults of its destinations; given to a destination they override
//     them (middleware adds: the router's wraps the destination's).
//   - Router settings ([WithClock], [WithLogger], [WithFailureLogLevel],
//     [WithMaxHops], [WithAccount], [WithRegion], [WithEventTracking])
//     apply to a Bus or a Topic; a Bus's intake settings
//     ([WithEntrySizeLimit], [WithMaxEntriesPerCall], [WithAWSSources],
//     [WithEventValidator]) to a Bus only; a Topic's ([WithMaxMessageSize],
//     [WithContentBasedDeduplication], [WithDeduplicationWindow],
//     [WithFilterPolicyLimits]) to a Topic only.
//   - A target's input settings ([WithInput], [WithInputPath],
//     [WithInputTransformer]) apply to a target only; a subscription's
//     ([WithFilterPolicy], [WithRawDelivery]) to a subscription only.
//
// An invalid value, or an option given where it does not apply, is an
// error wrapping [ErrInvalidOption]: [NewBus] returns it, and for a target
// [Bus.PutRule] does (wrapping [ErrInvalidRule] too). A nil Option is
// ignored.
type Option func(*settings) error

// ErrInvalidOption is wrapped by the error of an [Option] given an invalid
// value, or given where it does not apply.
var ErrInvalidOption = errors.New("eda: invalid option")

// settings is what an Option configures: the delivery settings of a router
// or destination, and the router's or target's own configuration (the one
// being configured is not nil).
type settings struct {
	delivery *deliverySettings
	router   *routerConfig // a Bus's or a Topic's
	bus      *busConfig
	target   *targetConfig
	topic    *topicConfig
	sub      *subscriptionConfig
}

// what names what s configures, for errors.
func (s *settings) what() string {
	switch {
	case s.bus != nil:
		return "a bus"
	case s.topic != nil:
		return "a topic"
	case s.target != nil:
		return "a target"
	case s.sub != nil:
		return "a subscription"
	}
	return "this"
}

// apply applies opts to s and returns the first error.
func (s *settings) apply(opts []Option) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return err
		}
	}
	return nil
}

// optionError returns the error of option name for reason.
func optionError(name, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOption, name, fmt.Sprintf(format, args...))
}

// deliverySettings are the settings of delivery that a router sets as
// defaults and a destination overrides. Zero values are unset.
type deliverySettings struct {
	retry          *RetryPolicy
	deadLetter     DeadLetterHandler
	middleware     []Middleware
	maxConcurrency int
	queueSize      int
	idleTimeout    time.Duration
}

// over returns the settings of a destination whose own settings are d and
// whose router's are r: d's where set, r's otherwise; middleware r's then
// d's (the router's outermost).
func (d deliverySettings) over(r deliverySettings) deliverySettings {
	out := r
	if d.retry != nil {
		out.retry = d.retry
	}
	if d.deadLetter != nil {
		out.deadLetter = d.deadLetter
	}
	if d.maxConcurrency > 0 {
		out.maxConcurrency = d.maxConcurrency
	}
	if d.queueSize > 0 {
		out.queueSize = d.queueSize
	}
	if d.idleTimeout > 0 {
		out.idleTimeout = d.idleTimeout
	}
	out.middleware = make([]Middleware, 0, len(r.middleware)+len(d.middleware))
	out.middleware = append(append(out.middleware, r.middleware...), d.middleware...)
	return out
}

// deliveryOption returns an Option that changes the delivery settings.
func deliveryOption(set func(*deliverySettings) error) Option {
	return func(s *settings) error { return set(s.delivery) }
}

// routerConfig is what a Bus and a Topic share of their configuration.
type routerConfig struct {
	clock   Clock
	logger  *slog.Logger
	maxHops int
	account string
	region  string
	// failureLogLevel is set by WithFailureLogLevel; nil: Warn.
	failureLogLevel slog.Leveler
	eventTracking   bool // see WithEventTracking
}

// now returns the router's current time, on its Clock.
func (c *routerConfig) now() time.Time {
	if c.clock != nil {
		return c.clock.Now()
	}
	return time.Now()
}

// defaultRouterConfig returns a router's defaults.
func defaultRouterConfig() routerConfig {
	return routerConfig{maxHops: DefaultMaxHops, account: DefaultAccount, region: DefaultRegion, logger: slog.Default()}
}

// routerOption returns an Option, named name, that applies to a router (a
// Bus or a Topic) only.
func routerOption(name string, set func(*routerConfig) error) Option {
	return func(s *settings) error {
		if s.router == nil {
			return optionError(name, "applies to a Bus or a Topic, not to %s", s.what())
		}
		return set(s.router)
	}
}

// busOption returns an Option, named name, that applies to a Bus only.
func busOption(name string, set func(*busConfig) error) Option {
	return func(s *settings) error {
		if s.bus == nil {
			return optionError(name, "applies to a Bus, not to %s", s.what())
		}
		return set(s.bus)
	}
}

// positive returns an error for option name unless n is positive.
func positive(name string, n int) error {
	if n <= 0 {
		return optionError(name, "must be positive, got %d", n)
	}
	return nil
}

// WithRetryPolicy sets the retry policy: of a destination, or, given to a
// router, of its destinations that set none. See [RetryPolicy] for what
// its zero fields mean, and [NoRetries].
func WithRetryPolicy(p RetryPolicy) Option {
	return deliveryOption(func(d *deliverySettings) error {
		if p.MaxAttempts < 0 || p.MaxAge < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
			return optionError("WithRetryPolicy", "fields must not be negative, got %+v", p)
		}
		d.retry = &p
		return nil
	})
}

// WithDeadLetter sets the handler of what cannot be delivered: a
// destination's, or, given to a router, that of its destinations that set
// none. Without one, each dead letter is logged at Warn level on the
// router's logger ([WithLogger]) — "eda: dead letter" with the event id,
// router, rule, destination, reason, attempts and error — and counted in
// the destination's DeadLetterInvocations, never silently dropped. A nil
// handler is an error.
func WithDeadLetter(h DeadLetterHandler) Option {
	return deliveryOption(func(d *deliverySettings) error {
		if h == nil || isNilFunc(h) {
			return optionError("WithDeadLetter", "nil dead-letter handler")
		}
		d.deadLetter = h
		return nil
	})
}

// WithMiddleware wraps the handler: of a destination, or, given to a
// router, of every destination of it, outside the destination's own
// middleware. The first listed is outermost. Nil middleware is skipped.
func WithMiddleware(mw ...Middleware) Option {
	return deliveryOption(func(d *deliverySettings) error {
		d.middleware = append(d.middleware, mw...)
		return nil
	})
}

// WithMaxConcurrency sets how many deliveries a destination runs at once
// (given to a router: each of its destinations that sets none). 1 delivers
// in order. Default 4×GOMAXPROCS.
func WithMaxConcurrency(n int) Option {
	return positiveDelivery("WithMaxConcurrency", n, func(d *deliverySettings) { d.maxConcurrency = n })
}

// positiveDelivery returns a delivery Option, named name, that applies set
// when n is positive and fails otherwise.
func positiveDelivery(name string, n int, set func(*deliverySettings)) Option {
	return deliveryOption(func(d *deliverySettings) error {
		set(d)
		return positive(name, n)
	})
}

// WithQueueSize sets the capacity of a destination's queue (given to a
// router: of each of its destinations that sets none). When a queue is
// full, a publish waits for room until its context ends. Default 1,024.
func WithQueueSize(n int) Option {
	return positiveDelivery("WithQueueSize", n, func(d *deliverySettings) { d.queueSize = n })
}

// WithIdleTimeout sets how long a destination's idle worker waits for work
// before it exits (workers scale from zero with demand, like serverless
// concurrency); given to a router, of each of its destinations that sets
// none. Default 2 s. A destination that is removed — a deleted rule's or
// removed target, an unsubscribed subscription, an ended FIFO message
// group — does not wait for it: its workers exit as soon as it has nothing
// left to deliver.
func WithIdleTimeout(t time.Duration) Option {
	return deliveryOption(func(d *deliverySettings) error {
		if t <= 0 {
			return optionError("WithIdleTimeout", "must be positive, got %v", t)
		}
		d.idleTimeout = t
		return nil
	})
}

// WithClock sets the router's source of time: timestamps, retry timing,
// maximum event age and latency.
func WithClock(clk Clock) Option {
	return routerOption("WithClock", func(c *routerConfig) error {
		if clk == nil {
			return optionError("WithClock", "nil clock")
		}
		c.clock = clk
		return nil
	})
}

// WithLogger sets the logger of the router and its delivery engine.
// Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return routerOption("WithLogger", func(c *routerConfig) error {
		if l == nil {
			return optionError("WithLogger", "nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithFailureLogLevel sets the level at which the router logs failed
// delivery attempts on its logger ([WithLogger]); the default is Warn. Each
// destination logs its first failed attempt ("eda: delivery attempt
// failed", with the destination, attempt and error), then at most one
// record every five seconds on the router's Clock, which counts the
// failures not logged since (failures_not_logged).
func WithFailureLogLevel(level slog.Level) Option {
	return routerOption("WithFailureLogLevel", func(c *routerConfig) error {
		c.failureLogLevel = level
		return nil
	})
}

// WithMaxHops sets how many times an event may be put again from the
// handlers and bus targets it reaches before it is refused as a loop.
// Default [DefaultMaxHops].
func WithMaxHops(n int) Option {
	return routerOption("WithMaxHops", func(c *routerConfig) error { c.maxHops = n; return positive("WithMaxHops", n) })
}

// WithAccount sets the account of the router's ARNs, and, on a Bus, the
// account stamped on events put without one. Default [DefaultAccount].
func WithAccount(account string) Option {
	return routerOption("WithAccount", func(c *routerConfig) error { c.account = account; return nil })
}

// WithRegion sets the region of the router's ARNs, and, on a Bus, the
// region stamped on events put without one. Default [DefaultRegion].
func WithRegion(region string) Option {
	return routerOption("WithRegion", func(c *routerConfig) error { c.region = region; return nil })
}
