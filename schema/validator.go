package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/edakit/eda"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Mode says what a [Validator] does with an event that does not conform
// to its schema.
type Mode string

// The modes of a [Validator], for a bus or one schema.
const (
	// ModeOff: the event is not validated.
	ModeOff Mode = "off"
	// ModeWarn: an invalid event is logged at Warn level and counted
	// ([ValidatorStats].Warned), and delivered anyway.
	ModeWarn Mode = "warn"
	// ModeEnforce: an invalid event is rejected: its PutEvents entry fails
	// with [eda.ErrorCodeValidationFailed] and a message naming the path
	// and keyword that failed, and it reaches no target.
	ModeEnforce Mode = "enforce"
)

func (m Mode) valid() bool { return m == ModeOff || m == ModeWarn || m == ModeEnforce }

// Problem is one way an event fails its schema.
type Problem struct {
	// Path locates the failing value in the event, dotted from the
	// envelope ("detail.items[0].qty"); "" for the envelope itself.
	Path string
	// Keyword is the schema keyword that failed ("minimum", "required",
	// "type", …).
	Keyword string
	// Message says what the value must be ("must be >= 0").
	Message string
}

// String returns "path: message (keyword)".
func (p Problem) String() string {
	where := p.Path
	if where == "" {
		where = "(event)"
	}
	return where + ": " + p.Message + " (" + p.Keyword + ")"
}

// ValidationError is the error of an event that does not conform to its
// schema: which schema, and the problems found.
type ValidationError struct {
	// Schema and Version name the schema version the event was checked
	// against.
	Schema, Version string
	// Problems lists what failed, by path.
	Problems []Problem
}

// maxProblems bounds the problems an error message names.
const maxProblems = 5

// Error returns the problems, "; "-separated (the first five, then how
// many more), and the schema: "detail.total: must be >= 0 (minimum)
// [schema com.example.orders@OrderPlaced version 1]".
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxProblems {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-maxProblems)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	fmt.Fprintf(&b, " [schema %s version %s]", e.Schema, e.Version)
	return b.String()
}

// ErrNoSchema is wrapped by the error of an event without a schema under
// a strict [Validator] ([WithStrict]).
var ErrNoSchema = errors.New("schema: no schema for the event")

// validate checks the event JSON against version v of a schema.
func (v *version) validate(event []byte) error {
	inst, err := decodeJSON(event)
	if err != nil {
		return &ValidationError{Schema: v.info.Name, Version: v.info.Version,
			Problems: []Problem{{Keyword: "json", Message: err.Error()}}}
	}
	err = v.compiled.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("schema %s version %s: %w", v.info.Name, v.info.Version, err)
	}
	out := &ValidationError{Schema: v.info.Name, Version: v.info.Version}
	collectProblems(ve, inst, &out.Problems)
	slices.SortStableFunc(out.Problems, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
	out.Problems = slices.Compact(out.Problems)
	return out
}

// Validate checks the event JSON (an envelope, as [eda.Event] marshals)
// against version ver ("": the latest) of the schema name. It returns nil
// when the event conforms, a *[ValidationError] when it does not, and an
// error wrapping [ErrNotFound] when there is no such schema.
func (r *Registry) Validate(name, ver string, event []byte) error {
	v, err := r.find(name, ver)
	if err != nil {
		return err
	}
	return v.validate(event)
}

var printer = message.NewPrinter(language.English)

// collectProblems appends the leaf errors of ve as problems.
func collectProblems(ve *jsonschema.ValidationError, inst any, out *[]Problem) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectProblems(c, inst, out)
		}
		return
	}
	at := renderPath(ve.InstanceLocation, inst)
	keyword := "schema"
	if kp := ve.ErrorKind.KeywordPath(); len(kp) > 0 {
		keyword = kp[0]
	}
	add := func(path, msg string) { *out = append(*out, Problem{Path: path, Keyword: keyword, Message: msg}) }
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			add(joinPath(at, m), "is required")
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			add(joinPath(at, p), "is not allowed")
		}
	case *kind.Type:
		add(at, "must be "+strings.Join(k.Want, " or ")+", not "+k.Got)
	case *kind.Minimum:
		add(at, "must be >= "+ratString(k.Want))
	case *kind.Maximum:
		add(at, "must be <= "+ratString(k.Want))
	case *kind.ExclusiveMinimum:
		add(at, "must be > "+ratString(k.Want))
	case *kind.ExclusiveMaximum:
		add(at, "must be < "+ratString(k.Want))
	case *kind.MultipleOf:
		add(at, "must be a multiple of "+ratString(k.Want))
	case *kind.MinLength:
		add(at, fmt.Sprintf("must have at least %d characters", k.Want))
	case *kind.MaxLength:
		add(at, fmt.Sprintf("must have at most %d characters", k.Want))
	case *kind.MinItems:
		add(at, fmt.Sprintf("must have at least %d items", k.Want))
	case *kind.MaxItems:
		add(at, fmt.Sprintf("must have at most %d items", k.Want))
	case *kind.Pattern:
		add(at, "must match the pattern "+strconv.Quote(k.Want))
	case *kind.Format:
		add(at, "must be a valid "+k.Want)
	default:
		add(at, strings.TrimPrefix(ve.ErrorKind.LocalizedString(printer), "value "))
	}
}

// ratString writes r as a decimal without trailing zeros.
func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// renderPath writes an instance location as a dotted path, array indexes
// in brackets (it looks at inst to tell an index from a key).
func renderPath(tokens []string, inst any) string {
	var b strings.Builder
	cur := inst
	for _, t := range tokens {
		switch c := cur.(type) {
		case []any:
			b.WriteString("[" + t + "]")
			if i, err := strconv.Atoi(t); err == nil && i >= 0 && i < len(c) {
				cur = c[i]
			}
			continue
		case map[string]any:
			cur = c[t]
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

func joinPath(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// Option configures a [Validator].
type Option func(*Validator) error

// WithMode sets the validator's mode for schemas without a mode of their
// own ([WithSchemaMode]). Default [ModeEnforce].
func WithMode(m Mode) Option {
	return func(v *Validator) error {
		if !m.valid() {
			return fmt.Errorf("schema: WithMode: unknown mode %q", m)
		}
		v.mode = m
		return nil
	}
}

// WithSchemaMode sets the mode for the events of one schema, by name (see
// [Name]); it overrides [WithMode].
func WithSchemaMode(name string, m Mode) Option {
	return func(v *Validator) error {
		if !m.valid() {
			return fmt.Errorf("schema: WithSchemaMode(%q): unknown mode %q", name, m)
		}
		if err := checkName(name); err != nil {
			return err
		}
		v.schemaModes[name] = m
		return nil
	}
}

// WithStrict makes an event without a schema in the registry invalid: in
// enforce mode it is rejected (the error wraps [ErrNoSchema]), in warn
// mode logged and counted. Without it such events pass, counted in
// [ValidatorStats].NoSchema.
func WithStrict() Option {
	return func(v *Validator) error { v.strict = true; return nil }
}

// WithLogger sets the logger of warn mode. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(v *Validator) error {
		if l == nil {
			return errors.New("schema: WithLogger: nil logger")
		}
		v.logger = l
		return nil
	}
}

// Validator is an [eda.EventValidator] that checks each event put on a bus
// against the latest version of the schema named after its source and
// detail-type ([Name]) in a [Registry], in the mode of that schema or of
// the validator. Give it to a bus with eda.WithEventValidator; one
// validator may serve several buses. It is safe for concurrent use.
type Validator struct {
	reg         *Registry
	mode        Mode
	schemaModes map[string]Mode
	strict      bool
	logger      *slog.Logger
	names       sync.Map // eventType → string: names already computed
	cached      atomic.Int64
	stats       struct {
		validated, valid, warned, rejected, noSchema, off atomic.Uint64
	}
}

// eventType is a source and detail-type.
type eventType struct{ source, detailType string }

var _ eda.EventValidator = (*Validator)(nil)

// NewValidator returns a validator of the events of a bus against the
// schemas of reg.
func NewValidator(reg *Registry, opts ...Option) (*Validator, error) {
	if reg == nil {
		return nil, errors.New("schema: NewValidator: nil registry")
	}
	v := &Validator{reg: reg, mode: ModeEnforce, schemaModes: map[string]Mode{}, logger: slog.Default()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// maxCachedNames bounds the names a Validator keeps, however many event
// types it sees.
const maxCachedNames = 4096

// nameOf returns Name(source, detailType), computed once per pair (for the
// first maxCachedNames pairs).
func (v *Validator) nameOf(source, detailType string) string {
	k := eventType{source, detailType}
	if n, ok := v.names.Load(k); ok {
		return n.(string)
	}
	n := Name(source, detailType)
	if v.cached.Add(1) <= maxCachedNames {
		v.names.Store(k, n)
	}
	return n
}

// ValidateEvent checks the envelope of e as the validator's mode says
// (see [Mode]): it returns a *[ValidationError] for an invalid event in
// enforce mode, and nil otherwise.
func (v *Validator) ValidateEvent(ctx context.Context, e *eda.Event, envelope []byte) error {
	name := v.nameOf(e.Source, e.DetailType)
	mode := v.mode
	if m, ok := v.schemaModes[name]; ok {
		mode = m
	}
	if mode == ModeOff {
		v.stats.off.Add(1)
		return nil
	}
	var err error
	if ver := v.reg.latest(name); ver != nil {
		v.stats.validated.Add(1)
		if err = ver.validate(envelope); err == nil {
			v.stats.valid.Add(1)
			return nil
		}
	} else {
		v.stats.noSchema.Add(1)
		if !v.strict {
			return nil
		}
		err = fmt.Errorf("%w: no schema %s for source %q, detail-type %q", ErrNoSchema, name, e.Source, e.DetailType)
	}
	if mode == ModeWarn {
		v.stats.warned.Add(1)
		v.logger.LogAttrs(ctx, slog.LevelWarn, "schema: invalid event delivered (warn mode)",
			slog.String("id", e.ID), slog.String("schema", name), slog.String("error", err.Error()))
		return nil
	}
	v.stats.rejected.Add(1)
	return err
}

// ValidatorStats counts what a [Validator] did, since it was created.
type ValidatorStats struct {
	// Validated counts the events checked against a schema; Valid those
	// that conformed.
	Validated, Valid uint64
	// Warned counts the invalid events delivered in warn mode (strict mode's
	// events without a schema included).
	Warned uint64
	// Rejected counts the events rejected in enforce mode.
	Rejected uint64
	// NoSchema counts the events whose schema the registry did not hold.
	NoSchema uint64
	// Off counts the events not validated because their mode was off.
	Off uint64
}

// Stats returns a snapshot of the validator's counters.
func (v *Validator) Stats() ValidatorStats {
	return ValidatorStats{
		Validated: v.stats.validated.Load(), Valid: v.stats.valid.Load(),
		Warned: v.stats.warned.Load(), Rejected: v.stats.rejected.Load(),
		NoSchema: v.stats.noSchema.Load(), Off: v.stats.off.Load(),
	}
}

// Chain returns an eda.EventValidator that runs validators in order and
// returns the first error, so that one bus can have several — a
// [Validator] and a [Discoverer], say (eda.WithEventValidator keeps only
// the last it is given). Put the Discoverer first to discover what the
// Validator rejects too. Nil validators are skipped.
func Chain(validators ...eda.EventValidator) eda.EventValidator {
	vs := slices.DeleteFunc(slices.Clone(validators), func(v eda.EventValidator) bool { return v == nil })
	return eda.EventValidatorFunc(func(ctx context.Context, e *eda.Event, envelope []byte) error {
		for _, v := range vs {
			if err := v.ValidateEvent(ctx, e, envelope); err != nil {
				return err
			}
		}
		return nil
	})
}
