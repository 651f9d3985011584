package eda

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/edakit/eda/internal/delivery"
)

// This file connects the public consumer side (Handler, RetryPolicy,
// DeadLetterHandler, Clock) to the delivery engine, for the routers.

// newEngine returns a delivery engine using clock (nil: the system clock)
// and logger (nil: slog.Default()), logging failed attempts at Warn level.
func newEngine(clock Clock, logger *slog.Logger) *delivery.Engine {
	return newEngineLevel(clock, logger, nil)
}

// newRouterEngine returns the delivery engine of a Bus or Topic configured
// by cfg.
func newRouterEngine(cfg *routerConfig) *delivery.Engine {
	return newEngineLevel(cfg.clock, cfg.logger, cfg.failureLogLevel)
}

// newEngineLevel is newEngine logging failed attempts at failureLevel
// (nil: Warn).
func newEngineLevel(clock Clock, logger *slog.Logger, failureLevel slog.Leveler) *delivery.Engine {
	// A nil Clock converts to a nil delivery.Clock, which the engine takes
	// as the system clock; so does this package's system clock, so that the
	// engine can read the cheaper monotonic clock. Any other Clock is a
	// delivery.Clock as it is, because both name the same Timer type.
	if _, ok := clock.(systemClock); ok {
		clock = nil
	}
	return delivery.New(delivery.Config{Clock: clock, Logger: logger, FailureLogLevel: failureLevel})
}

// engineDrain is e.Drain with the engine's errors converted to this
// package's (see publicError).
func engineDrain(ctx context.Context, e *delivery.Engine) error {
	return publicError(e.Drain(ctx))
}

// engineClose calls stop, the router's own switch that stops intake, and
// e.Close, and converts the engine's errors to this package's (see
// publicError). With a context of one of e's handlers, Close returns an
// error wrapping ErrInHandler at once, and stop is not called: the router
// stays open.
func engineClose(ctx context.Context, e *delivery.Engine, stop func()) error {
	if !e.InHandler(ctx) && stop != nil {
		stop()
	}
	return publicError(e.Close(ctx))
}

// publicError converts the engine's *DrainError and *ShutdownError to this
// package's types, which show their fields in the documentation; other
// errors are returned as they are.
func publicError(err error) error {
	switch e := err.(type) {
	case *delivery.DrainError:
		return &DrainError{Destinations: publicBacklogs(e.Destinations), Err: e.Err}
	case *delivery.ShutdownError:
		return &ShutdownError{DeadLettered: e.DeadLettered, Abandoned: e.Abandoned,
			Destinations: publicBacklogs(e.Destinations), Err: e.Err}
	}
	return err
}

func publicBacklogs(list []delivery.Backlog) []DestinationBacklog {
	if list == nil {
		return nil
	}
	out := make([]DestinationBacklog, len(list))
	for i, b := range list {
		out[i] = DestinationBacklog(b)
	}
	return out
}

func engineBacklogs(list []DestinationBacklog) []delivery.Backlog {
	if list == nil {
		return nil
	}
	out := make([]delivery.Backlog, len(list))
	for i, b := range list {
		out[i] = delivery.Backlog(b)
	}
	return out
}

// policy converts a RetryPolicy to the engine's; zero fields stay zero and
// take the engine's defaults, which are the same.
func (p RetryPolicy) policy() delivery.Policy {
	return delivery.Policy{
		MaxAttempts: p.MaxAttempts,
		MaxAge:      p.MaxAge,
		MinBackoff:  p.MinBackoff,
		MaxBackoff:  p.MaxBackoff,
	}
}

// destinationConfig configures newDestination. T is the item a router
// enqueues per destination: it is copied by value into the destination's
// queue, so a small struct of strings, slices and pointers costs no
// allocation.
type destinationConfig[T any] struct {
	// Router, Rule and Name fill Delivery.Router, .Rule and .Destination.
	Router, Rule, Name string
	// Handler handles each delivery (with its middleware already applied).
	Handler Handler
	// Fill returns d with the item's fields set — ID, Time, Kind, Payload,
	// Attributes, GroupID — and the context to hand to the handler (ctx
	// itself, or one derived from it). An error fails the attempt (mark it
	// Permanent if retrying cannot help). Fill is also called for a dead
	// letter, whose Delivery it fills the same way; there its error is
	// ignored and the Delivery it returned is used as it is, so Fill sets
	// the fields that cannot fail (ID, Time, Kind) before the payload and
	// returns d with them even with an error (and, when it has one, the
	// derived context). The Delivery goes in and out by value, not by
	// pointer, so that it stays on the stack.
	Fill func(ctx context.Context, item T, d Delivery) (context.Context, Delivery, error)
	// Event returns the item's event as the router accepted it, for
	// DeadLetter.Event; it is called only on the dead-letter path, never
	// per delivery. Nil: the dead letter's Delivery.Payload, which is right
	// when the destination delivers the event or message itself (a Topic
	// subscription that wraps messages in an SNS JSON envelope sets Event
	// to return the message body).
	Event func(item T) []byte
	// Ended is called once for each copy that ends: after its handler
	// returned nil, or after its dead-letter handler returned (or
	// panicked). Routers count copies in flight with it: the tracker of
	// the item's event (see WithEventTracking), a FIFO message group's
	// pending copies. Nil: nothing to count.
	Ended func(item T)
	// Retry is the retry policy; zero fields take EventBridge's defaults.
	Retry RetryPolicy
	// DeadLetter receives what cannot be delivered. Nil: it is logged at
	// Warn level on Logger (and counted in the destination's stats).
	DeadLetter DeadLetterHandler
	// Logger logs dead letters when DeadLetter is nil; nil: slog.Default().
	Logger *slog.Logger
	// QueueSize, MaxConcurrency and IdleTimeout size the destination; zero
	// takes the engine's defaults (1024, 4×GOMAXPROCS, 2 s).
	QueueSize, MaxConcurrency int
	IdleTimeout               time.Duration
	// Ordered makes the destination strictly FIFO, for a FIFO topic's
	// message group: one worker, and a failed delivery is retried before
	// the ones behind it (its backoff holds them up).
	Ordered bool
}

// newDestination adds a destination for cfg.Handler to the engine e, for a
// Bus target or a Topic subscription. The router enqueues one T per
// accepted event; for each attempt, the destination builds the Delivery
// on the worker's stack — the constant fields from cfg, the attempt number
// from the engine, the rest from cfg.Fill — and passes it by value to the
// handler: no allocation per delivery. Retries, backoff, panics, dead
// letters and statistics are the engine's (see the delivery contract in
// the package documentation); a dead letter's Failure becomes a public
// [DeadLetter] with the last attempted Delivery and the original event
// (cfg.Event). Without cfg.DeadLetter, dead letters are logged on
// cfg.Logger, naming the event, and counted.
//
// A Topic can enqueue a [message], which carries everything a Delivery
// needs, with fillMessage as Fill. A Bus enqueues its routed event and
// builds the target's payload (input path or transformer) in Fill.
func newDestination[T any](e *delivery.Engine, cfg destinationConfig[T]) *delivery.Destination[T] {
	if cfg.Handler == nil {
		panic("eda: newDestination: nil Handler")
	}
	if cfg.Fill == nil {
		panic("eda: newDestination: nil Fill")
	}
	base := Delivery{Router: cfg.Router, Rule: cfg.Rule, Destination: cfg.Name}
	h, fill, event, ended := cfg.Handler, cfg.Fill, cfg.Event, cfg.Ended
	dl := cfg.DeadLetter
	if dl == nil {
		dl = logDeadLetters(cfg.Logger)
	}
	name := cfg.Name
	if cfg.Rule != "" {
		name = cfg.Rule + "/" + name
	}
	if cfg.Router != "" {
		name = cfg.Router + "/" + name
	}
	return delivery.NewDestination(e, delivery.Options[T]{
		Name:           name,
		QueueSize:      cfg.QueueSize,
		MaxConcurrency: cfg.MaxConcurrency,
		IdleTimeout:    cfg.IdleTimeout,
		Ordered:        cfg.Ordered,
		Retry:          cfg.Retry.policy(),
		Deliver: func(ctx context.Context, item T, attempt int) (err error) {
			d := base
			d.Attempt = attempt
			hctx, d, err := fill(ctx, item, d)
			if err != nil {
				return err
			}
			// Recovered here, rather than by the engine, so that the error
			// is this package's *PanicError.
			defer func() {
				if v := recover(); v != nil {
					err = &PanicError{Value: v, Stack: debug.Stack()}
				}
				if err == nil && ended != nil {
					ended(item) // delivered: the copy ended
				}
			}()
			return h.Handle(hctx, d)
		},
		DeadLetter: func(ctx context.Context, item T, f delivery.Failure) {
			if ended != nil {
				// Dead-lettered: the copy ends once the handler returned
				// (or panicked), after the events it put were counted.
				defer ended(item)
			}
			d := base
			d.Attempt = f.Attempts
			// Even when Fill fails (the input could not be computed), the
			// Delivery it returns names the event; the constant fields are
			// set again in case it dropped them.
			hctx, d, _ := fill(ctx, item, d)
			d.Router, d.Rule, d.Destination, d.Attempt = base.Router, base.Rule, base.Destination, f.Attempts
			if hctx != nil {
				ctx = hctx
			}
			out := DeadLetter{Delivery: d, Event: d.Payload, Reason: DeadLetterReason(f.Reason), Err: f.Err, Attempts: f.Attempts}
			if event != nil {
				out.Event = event(item)
			}
			dl.HandleDeadLetter(ctx, out)
		},
	})
}

// message is an item that carries everything a Delivery needs besides the
// destination's constants: a Topic's message, or any ready-made payload.
// It is copied by value into each destination's queue (the Payload bytes
// and Attributes map are shared, not copied).
type message struct {
	ID         string
	Time       time.Time
	Kind       PayloadKind
	Payload    []byte
	Attributes map[string]Attribute
	GroupID    string
}

// fillMessage is the Fill function of destinations of messages.
func fillMessage(ctx context.Context, m message, d Delivery) (context.Context, Delivery, error) {
	d.ID, d.Time, d.Kind, d.Payload, d.Attributes, d.GroupID = m.ID, m.Time, m.Kind, m.Payload, m.Attributes, m.GroupID
	return ctx, d, nil
}

// logDeadLetters returns the default dead-letter handler: it logs each
// dead letter at Warn level on logger (nil: slog.Default()).
func logDeadLetters(logger *slog.Logger) DeadLetterHandler {
	return DeadLetterFunc(func(ctx context.Context, dl DeadLetter) {
		l := logger
		if l == nil {
			l = slog.Default()
		}
		l.LogAttrs(ctx, slog.LevelWarn, "eda: dead letter",
			slog.String("id", dl.Delivery.ID),
			slog.String("router", dl.Delivery.Router),
			slog.String("rule", dl.Delivery.Rule),
			slog.String("destination", dl.Delivery.Destination),
			slog.String("reason", string(dl.Reason)),
			slog.Int("attempts", dl.Attempts),
			slog.Any("error", dl.Err))
	})
}
