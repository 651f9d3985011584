// Package delivery is eda's delivery engine: one bounded queue per
// destination, workers that scale with demand, retries with backoff, dead
// letters, drain and close. Bus targets and Topic subscriptions both use it.
//
// CONTRACT STUB: the signatures below are what the routers code against.
// The delivery-engine work replaces the bodies (and may add to the API, but
// keeps these names and shapes).
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ErrClosed is returned by Enqueue after the engine or destination closed.
var ErrClosed = errors.New("delivery: closed")

// ErrFull is returned (wrapped with the context's error) by Enqueue when
// the destination's queue stayed full until ctx ended.
var ErrFull = errors.New("delivery: queue full")

// Timer is a pending AfterFunc call.
type Timer interface{ Stop() bool }

// Clock is the engine's source of time.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Policy is a destination's retry policy. Zero fields take defaults.
type Policy struct {
	MaxAttempts int           // attempts in all, including the first; default 185
	MaxAge      time.Duration // default 24h, measured from Enqueue
	MinBackoff  time.Duration // first backoff ceiling; default 1s (may be tiny in tests)
	MaxBackoff  time.Duration // default 3m
}

// Reason says why an item was dead-lettered.
type Reason string

const (
	ReasonPermanent   Reason = "permanent-error"
	ReasonMaxAttempts Reason = "max-attempts"
	ReasonMaxAge      Reason = "max-age"
	ReasonShutdown    Reason = "shutdown"
)

// Failure describes why an item ends in the dead-letter path.
type Failure struct {
	Reason   Reason
	Err      error // the last error
	Attempts int
}

// Options configure one destination.
type Options[T any] struct {
	Name           string
	QueueSize      int           // default 1024
	MaxConcurrency int           // default runtime.GOMAXPROCS(0)*? ; 1 = in-order
	IdleTimeout    time.Duration // workers above zero exit after this idle period
	Retry          Policy
	// Deliver performs one attempt (attempt starts at 1). Panics are recovered.
	Deliver func(ctx context.Context, item T, attempt int) error
	// DeadLetter receives items that will not be delivered. It is called with
	// a context that is never cancelled. Nil means the engine's default.
	DeadLetter func(ctx context.Context, item T, f Failure)
}

// Config configures an Engine.
type Config struct {
	Clock  Clock        // nil: the system clock
	Logger *slog.Logger // nil: slog.Default()
}

// Engine owns destinations and tracks every accepted item until it is
// delivered or dead-lettered.
type Engine struct{}

// New returns an Engine.
func New(cfg Config) *Engine { return &Engine{} }

// Drain waits until every accepted item (including retries and cascades)
// is delivered or dead-lettered, or ctx ends.
func (e *Engine) Drain(ctx context.Context) error { return nil }

// Close stops intake (ErrClosed), drains, stops workers. If ctx ends first,
// remaining items are dead-lettered with ReasonShutdown and the returned
// error counts them. Idempotent.
func (e *Engine) Close(ctx context.Context) error { return nil }

// Destination is one bounded queue with its workers.
type Destination[T any] struct{}

// NewDestination adds a destination to e.
func NewDestination[T any](e *Engine, opts Options[T]) *Destination[T] { return &Destination[T]{} }

// Enqueue accepts item. When the queue is full it waits until there is room
// or ctx ends (then it returns an error wrapping ErrFull). When ctx was
// derived from a context that the engine passed to Deliver (a cascade), the
// bound is bypassed so handlers that publish never deadlock.
func (d *Destination[T]) Enqueue(ctx context.Context, item T) error { return nil }

// Retire stops intake for this destination; queued items and retries are
// still delivered, then its workers exit. Used when a rule or subscription
// is removed.
func (d *Destination[T]) Retire() {}

// Stats is a snapshot of one destination's counters.
type Stats struct {
	Enqueued     uint64
	Delivered    uint64
	Failed       uint64 // failed attempts
	Retries      uint64 // attempts after the first
	DeadLettered uint64
	InFlight     int64 // accepted, not yet delivered or dead-lettered
	QueueDepth   int64
	Workers      int64
	HandlerTime  time.Duration // total time spent in Deliver
	LatencyP50   time.Duration // enqueue to successful delivery
	LatencyP90   time.Duration
	LatencyP99   time.Duration
	LatencyMax   time.Duration
}

// Stats returns a snapshot.
func (d *Destination[T]) Stats() Stats { return Stats{} }
