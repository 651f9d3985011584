package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/edakit/eda/internal/delivery"
	"github.com/edakit/eda/internal/transform"
)

// Target is a destination of a rule: where matching events go, and how.
// Build one with [HandlerTarget] or [BusTarget] (or a Topic's adapter) and
// [Option]s; the settings are validated when the rule is put.
//
// A Target value is immutable and may be used in several rules and buses.
// Putting a rule again with the same Target values keeps their queues.
type Target interface {
	// TargetID returns the target's id, unique within its rule.
	TargetID() string
	config() *targetConfig
}

// InputTransformer reshapes the event before a target receives it, as
// EventBridge's input transformer does: InputPathsMap names JSON paths
// into the event, and InputTemplate places their values (<name>) — and the
// predefined <aws.events.rule-arn>, <aws.events.rule-name>,
// <aws.events.event.ingestion-time>, <aws.events.event> and
// <aws.events.event.json> — into JSON or plain text.
type InputTransformer struct {
	// InputPathsMap maps variable names to JSON paths ("$.detail.state").
	InputPathsMap map[string]string
	// InputTemplate is the output, with <variable> placeholders.
	InputTemplate string
}

// targetOption returns an Option, named name, that applies to a target
// only.
func targetOption(name string, set func(*targetConfig)) Option {
	return func(s *settings) error {
		if s.target == nil {
			return optionError(name, "applies to a target, not to %s", s.what())
		}
		set(s.target)
		return nil
	}
}

// WithInput sends the constant JSON text input instead of the event
// (EventBridge's Input): valid JSON of at most 8,192 characters, as
// EventBridge allows, or PutRule fails. It applies to a target only.
func WithInput(input string) Option {
	return targetOption("WithInput", func(c *targetConfig) { c.input, c.hasInput = []byte(input), true })
}

// WithInputPath sends the part of the event that the JSON path selects
// (EventBridge's InputPath), e.g. "$.detail", as JSON text: an object, an
// array, a quoted string, a number, true, false or null. It applies to a
// target only.
//
// When the path selects nothing in an event — a field the event lacks —
// the target still receives the event, with an empty (nil) payload:
// EventBridge documents no behaviour for that case, and an empty payload
// lets the handler tell it from a JSON null. A [HandlerOf] handler whose
// T decodes with encoding/json (not a string or bytes) fails to decode
// it, permanently, so such an event goes to the dead letters. To not
// deliver it at all, make the rule's pattern require the field, e.g.
// {"detail": {"state": [{"exists": true}]}}.
func WithInputPath(path string) Option {
	return targetOption("WithInputPath", func(c *targetConfig) { c.inputPath = path })
}

// WithInputTransformer sends the event reshaped by t. It applies to a
// target only.
func WithInputTransformer(t InputTransformer) Option {
	return targetOption("WithInputTransformer", func(c *targetConfig) { c.transformer = &t })
}

// Target kinds, as [Bus.Describe] reports them.
const (
	TargetKindHandler = "handler"
	TargetKindBus     = "bus"
	TargetKindTopic   = "topic"
)

// targetConfig is a Target's settings; it implements Target.
type targetConfig struct {
	id      string
	kind    string // TargetKind…
	dest    string // the destination's name, for Describe
	handler Handler
	// wholeEvent targets (other buses) receive the event itself, never a
	// transformed input.
	wholeEvent bool
	bus        *Bus // the destination bus of a bus target

	input       []byte
	hasInput    bool
	inputPath   string
	transformer *InputTransformer
	delivery    deliverySettings // overrides of the bus's
	err         error            // of the first invalid option
}

// TargetID returns the target's id.
func (c *targetConfig) TargetID() string { return c.id }

func (c *targetConfig) config() *targetConfig { return c }

// HandlerTarget returns a target that delivers to h. [Bus.Describe] names
// the destination by h's Name method ([Named]), its String method, its
// function's name or its type, as Named describes.
func HandlerTarget(id string, h Handler, opts ...Option) Target {
	return newTarget(id, TargetKindHandler, handlerName(h), h, opts)
}

// newTarget builds a target of the given kind; router adapters (the Topic)
// use it too.
func newTarget(id, kind, dest string, h Handler, opts []Option) *targetConfig {
	c := &targetConfig{id: id, kind: kind, dest: dest, handler: h}
	s := settings{delivery: &c.delivery, target: c}
	c.err = s.apply(opts) // reported by PutRule
	return c
}

// BusTarget returns a target that puts the matching events on another bus,
// unchanged (same id and time), as EventBridge's cross-bus targets do. Input
// options are not allowed. Loops are stopped by the hop limit of the
// receiving bus ([WithMaxHops]): a refused event is dead-lettered.
//
// The receiving bus's refusal of an event is permanent (dead-lettered at
// once) unless it is retryable: throttling, or the receiving bus closed or
// closing ([ErrClosed], [ErrorCodeInternalFailure]) — the sending bus's
// handlers are outside producers for the receiving bus, so close the
// sending bus first.
func BusTarget(id string, dst *Bus, opts ...Option) Target {
	name := ""
	if dst != nil {
		name = dst.name
	}
	c := newTarget(id, TargetKindBus, name, nil, opts)
	c.wholeEvent = true
	if dst != nil {
		c.bus = dst
		c.handler = busForwarder{dst}
	}
	return c
}

// busForwarder is the handler of a bus target.
type busForwarder struct{ dst *Bus }

// Handle puts the delivered event on the destination bus.
func (f busForwarder) Handle(ctx context.Context, d Delivery) error {
	var e Event
	if err := json.Unmarshal(d.Payload, &e); err != nil {
		return Permanent(fmt.Errorf("eda: bus target: %w", err))
	}
	res, err := f.dst.PutEvents(ctx, e)
	if err != nil {
		err = fmt.Errorf("eda: bus target %q: %w", f.dst.name, err)
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return err // the bus is closing, or this one is: retryable
		}
		return Permanent(err)
	}
	if err := res.Err(); err != nil {
		var ee *EntryError
		if errors.As(err, &ee) && ee.Retryable() {
			return fmt.Errorf("eda: bus target %q: %w", f.dst.name, err)
		}
		return Permanent(fmt.Errorf("eda: bus target %q: %w", f.dst.name, err))
	}
	return nil
}

// inputFunc computes a target's payload from the event's JSON.
type inputFunc func(ev routed, t *targetRuntime) ([]byte, error)

// validate checks the target's settings and compiles its input; a nil
// inputFunc means the whole event.
func (c *targetConfig) validate() (inputFunc, error) {
	if !validName(c.id) {
		return nil, fmt.Errorf("target id %q: use 1 to 64 of [.-_A-Za-z0-9]", c.id)
	}
	if isNilHandler(c.handler) {
		return nil, fmt.Errorf("target %q: no handler or destination", c.id)
	}
	if c.err != nil {
		return nil, fmt.Errorf("target %q: %w", c.id, c.err)
	}
	modes := 0
	if c.hasInput {
		modes++
	}
	if c.inputPath != "" {
		modes++
	}
	if c.transformer != nil {
		modes++
	}
	if modes > 1 {
		return nil, fmt.Errorf("target %q: Input, InputPath and InputTransformer exclude each other", c.id)
	}
	if modes > 0 && c.wholeEvent {
		return nil, fmt.Errorf("target %q: a %s target receives the whole event; input options are not allowed", c.id, c.kind)
	}
	switch {
	case c.hasInput:
		if !json.Valid(c.input) {
			return nil, fmt.Errorf("target %q: Input is not valid JSON", c.id)
		}
		if n := utf8.RuneCount(c.input); n > maxInputLength {
			return nil, fmt.Errorf("target %q: Input is %d characters long, over EventBridge's limit of %d", c.id, n, maxInputLength)
		}
		in := c.input
		return func(routed, *targetRuntime) ([]byte, error) { return in, nil }, nil
	case c.inputPath != "":
		p, err := transform.CompilePath(c.inputPath)
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", c.id, err)
		}
		return func(ev routed, _ *targetRuntime) ([]byte, error) {
			raw, _ := p.Extract(ev.raw)
			return raw, nil
		}, nil
	case c.transformer != nil:
		return compileTransformer(c.id, c.transformer)
	}
	return nil, nil
}

// maxInputLength is EventBridge's limit on a target's Input (PutTargets
// API reference, Target.Input: "Maximum length of 8192").
const maxInputLength = 8192

// isNilHandler reports whether h is nil or a nil function, such as
// HandlerFunc(nil), which would fail every delivery.
func isNilHandler(h Handler) bool { return h == nil || isNilFunc(h) }

// isNilFunc reports whether v holds a nil function or pointer, such as
// HandlerFunc(nil) or DeadLetterFunc(nil).
func isNilFunc(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Func, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// chainHandler applies mw to h as the target's handler. A middleware
// constructor that panics, or returns a nil handler, makes the target
// invalid: chainHandler returns an error instead.
func chainHandler(mw []Middleware, h Handler) (out Handler, err error) {
	defer func() {
		if v := recover(); v != nil {
			if e, ok := v.(error); ok {
				out, err = nil, fmt.Errorf("a middleware constructor panicked: %w", e)
			} else {
				out, err = nil, fmt.Errorf("a middleware constructor panicked: %v", v)
			}
		}
	}()
	for i := len(mw) - 1; i >= 0; i-- {
		if mw[i] == nil {
			continue
		}
		if h = mw[i](h); isNilHandler(h) {
			return nil, fmt.Errorf("middleware %d returned a nil handler", i)
		}
	}
	return h, nil
}

// targetRuntime is a target as one rule of one bus runs it: its queue,
// workers and compiled input.
type targetRuntime struct {
	bus     *Bus
	rule    string
	ruleARN string
	id      string
	cfg     *targetConfig
	input   inputFunc
	kind    PayloadKind
	dest    *delivery.Destination[routed]
}

// newTargetRuntime builds the runtime of cfg as a target of the rule,
// through the delivery adapter shared with the Topic (newDestination).
func (b *Bus) newTargetRuntime(rule string, cfg *targetConfig) (*targetRuntime, error) {
	in, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	t := &targetRuntime{
		bus:     b,
		rule:    rule,
		ruleARN: b.ruleARN(rule),
		id:      cfg.id,
		cfg:     cfg,
		input:   in,
		kind:    PayloadEvent,
	}
	if in != nil {
		t.kind = PayloadInput
	}
	ds := cfg.delivery.over(b.cfg.delivery)
	h, err := chainHandler(ds.middleware, cfg.handler)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", cfg.id, err)
	}
	var retry RetryPolicy
	if ds.retry != nil {
		retry = *ds.retry
	}
	t.dest = newDestination(b.engine, destinationConfig[routed]{
		Router:         b.name,
		Rule:           rule,
		Name:           cfg.id,
		Handler:        h,
		Fill:           t.fill,
		Event:          routedEvent,
		Ended:          routedEnded,
		Retry:          retry,
		DeadLetter:     ds.deadLetter,
		Logger:         b.cfg.logger,
		QueueSize:      ds.queueSize,
		MaxConcurrency: ds.maxConcurrency,
		IdleTimeout:    ds.idleTimeout,
	})
	return t, nil
}

// ruleARN returns the ARN EventBridge would give the rule.
func (b *Bus) ruleARN(rule string) string {
	if b.name == "default" {
		return "arn:aws:events:" + b.cfg.region + ":" + b.cfg.account + ":rule/" + rule
	}
	return "arn:aws:events:" + b.cfg.region + ":" + b.cfg.account + ":rule/" + b.name + "/" + rule
}

// fill completes the Delivery of one attempt (or dead letter) of ev: the
// event's id and time, and the payload — the event, or the target's input
// computed from it. The handler's context is marked as the bus's (see
// Bus.mark) and carries the event's hop count when it is past the first
// hop (see hopsFrom). When the input cannot be
// computed, fill returns the error (permanent) with the Delivery and
// context complete but for the payload, which is nil: the dead letter
// still names the event.
func (t *targetRuntime) fill(ctx context.Context, ev routed, d Delivery) (context.Context, Delivery, error) {
	d.ID, d.Time, d.Kind, d.Payload = ev.id, ev.accepted, t.kind, ev.raw
	ctx = handlerContext(t.bus.mark(ctx), ev.hops, ev.values, ev.track)
	if t.input != nil {
		p, err := t.input(ev, t)
		if err != nil {
			d.Payload = nil
			return ctx, d, Permanent(fmt.Errorf("eda: target %q: input: %w", t.id, err))
		}
		d.Payload = p
	}
	return ctx, d, nil
}

// routedEvent returns the event's JSON form, for DeadLetter.Event.
func routedEvent(ev routed) []byte { return ev.raw }

// routedEnded counts one copy of the event as ended, for its tracker
// (none when the event is not tracked).
func routedEnded(ev routed) { ev.track.release() }
