package eda

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edakit/eda/internal/delivery"
	"github.com/tidwall/gjson"
)

// Defaults of a [Bus].
const (
	// DefaultEntrySizeLimit is EventBridge's limit on a PutEvents entry:
	// 256 KB, counted as [EntrySize] counts.
	DefaultEntrySizeLimit = 256 * 1024
	// DefaultMaxHops bounds how often an event may be put again by the
	// handlers and bus targets it reaches (a cascade), so that a loop ends.
	DefaultMaxHops = 16
	// DefaultAccount and DefaultRegion are stamped on events put without an
	// account or region, unless the Bus was given others.
	DefaultAccount = "000000000000"
	DefaultRegion  = "us-east-1"
	// maxDetailDepth is eda's limit on the nesting of a detail object.
	maxDetailDepth = 100
)

// Error codes of [PutEventsResultEntry], EventBridge's vocabulary.
const (
	// ErrorCodeInvalidArgument: a field of the entry is missing or not valid.
	ErrorCodeInvalidArgument = "InvalidArgument"
	// ErrorCodeMalformedDetail: the detail is not a JSON object.
	ErrorCodeMalformedDetail = "MalformedDetail"
	// ErrorCodeThrottling: a target's queue stayed full until the caller's
	// context ended. Retryable.
	ErrorCodeThrottling = "ThrottlingException"
	// ErrorCodeInternalFailure: the bus failed to route the entry, e.g.
	// because it closed during the call. Retryable on another bus.
	ErrorCodeInternalFailure = "InternalFailure"
)

// ErrInvalidBusName is returned by [NewBus] for a name EventBridge would
// refuse: it must be 1 to 256 of [/.-_A-Za-z0-9].
var ErrInvalidBusName = errors.New("eda: invalid bus name")

// validBusName reports whether s is a valid event bus name.
func validBusName(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '/' && !validNameByte(s[i]) {
			return false
		}
	}
	return true
}

// Bus is an in-process event bus with EventBridge's semantics: events put
// on it are matched against the event patterns of its rules, and each
// matching rule's targets receive the event through the delivery engine,
// with retries and dead letters.
//
// A Bus is safe for concurrent use. Rule changes apply to events put after
// the change returns; an event being routed sees the rules either wholly
// before or wholly after a change. All rules share one compiled [Matcher]:
// routing an event costs one match, however many rules there are.
//
// Delivery is at least once, each target with its own queue, workers,
// retry policy and dead-letter handler (see the delivery contract in the
// package documentation); targets are independent, so a slow or failing
// one never delays another. Handlers may put events back on the bus (or on
// another bus) with the context they were given: such cascades never
// block on full queues, and a hop count carried in that context stops
// loops ([WithMaxHops]). The bus never calls user code while holding a
// lock of its own.
type Bus struct {
	name   string
	cfg    busConfig
	engine *delivery.Engine

	// matcher holds the pattern of every enabled rule, by rule name.
	matcher *Matcher
	// table is the routing table; replaced, never modified.
	table atomic.Pointer[routeTable]
	// seq is odd while a writer changes matcher and table (a seqlock).
	seq atomic.Uint64
	// mu serializes writers and owns counters.
	mu       sync.Mutex
	counters map[string]*ruleCounters
	// retiring lists replaced tables whose dropped targets await retirement.
	retireMu sync.Mutex
	retiring []retirement

	closed atomic.Bool
	stats  busCounters
	ids    idSource
	// idsPool holds *[]string scratch space for matched rule names.
	idsPool sync.Pool
}

// NewBus returns an empty bus with the given name, which appears in
// deliveries ([Delivery.Router]), rule ARNs and [Bus.Describe].
func NewBus(name string, opts ...BusOption) (*Bus, error) {
	if !validBusName(name) {
		return nil, fmt.Errorf("%w: bus name %q: use 1 to 256 of [/.-_A-Za-z0-9]", ErrInvalidBusName, name)
	}
	cfg := busConfig{
		entrySizeLimit: DefaultEntrySizeLimit,
		maxHops:        DefaultMaxHops,
		account:        DefaultAccount,
		region:         DefaultRegion,
		logger:         slog.Default(),
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	b := &Bus{
		name:     name,
		cfg:      cfg,
		matcher:  NewMatcher(),
		counters: make(map[string]*ruleCounters),
	}
	b.idsPool.New = func() any { s := make([]string, 0, 8); return &s }
	b.engine = newBusEngine(&cfg)
	b.table.Store(&routeTable{rules: map[string]*ruleState{}})
	return b, nil
}

// Name returns the bus's name.
func (b *Bus) Name() string { return b.name }

// now returns the bus's current time.
func (b *Bus) now() time.Time {
	if b.cfg.clock != nil {
		return b.cfg.clock.Now()
	}
	return time.Now()
}

// PutEventsResult reports the outcome of [Bus.PutEvents], entry by entry.
type PutEventsResult struct {
	// FailedEntryCount is the number of entries that were not accepted.
	FailedEntryCount int
	// Entries holds one result per entry, in request order.
	Entries []PutEventsResultEntry
}

// PutEventsResultEntry is the outcome of one entry: an EventID when it was
// accepted, an ErrorCode and ErrorMessage when not.
type PutEventsResultEntry struct {
	EventID      string
	ErrorCode    string
	ErrorMessage string
}

// Err returns nil when every entry was accepted, and otherwise an error
// joining one [*EntryError] per failed entry.
func (r PutEventsResult) Err() error {
	if r.FailedEntryCount == 0 {
		return nil
	}
	var errs []error
	for i, e := range r.Entries {
		if e.ErrorCode != "" {
			errs = append(errs, &EntryError{Index: i, Code: e.ErrorCode, Message: e.ErrorMessage})
		}
	}
	return errors.Join(errs...)
}

// EntryError is a failed PutEvents entry as an error.
type EntryError struct {
	// Index is the entry's position in the request.
	Index int
	// Code is EventBridge's error code, e.g. [ErrorCodeMalformedDetail].
	Code string
	// Message says what is wrong.
	Message string
}

// Error returns the entry's index, code and message.
func (e *EntryError) Error() string {
	return fmt.Sprintf("eda: entry %d: %s: %s", e.Index, e.Code, e.Message)
}

// Retryable reports whether putting the entry again may succeed.
func (e *EntryError) Retryable() bool {
	return e.Code == ErrorCodeThrottling || e.Code == ErrorCodeInternalFailure
}

// EntrySize returns the size of e as EventBridge counts it against the
// entry size limit: 14 bytes for a set Time, plus the UTF-8 bytes of
// Source, DetailType, Detail and each resource.
func EntrySize(e *Event) int {
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if !e.Time.IsZero() {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// routed is one accepted event as it travels to its targets. All targets
// share it; it is never modified after PutEvents.
type routed struct {
	id       string
	accepted time.Time
	raw      []byte // the event's JSON form
	hops     int
}

// PutEvents validates, stamps and routes each entry on its own: one bad
// entry never stops the others. It returns when the accepted events are
// queued for their targets, not when the targets have handled them.
//
// Results come per entry in request order. An entry fails with
// [ErrorCodeInvalidArgument] (missing source, detail-type or detail, entry
// too large, too many hops), [ErrorCodeMalformedDetail] (detail not a JSON
// object), [ErrorCodeThrottling] (a target's queue stayed full until ctx
// ended; targets other than the named ones may have received the event) or
// [ErrorCodeInternalFailure] (the bus closed during the call).
//
// An accepted event is stamped with an ID (a UUID) and Time (now) when they
// are empty, Version "0", and the bus's account and region when empty.
//
// When ctx is the context of a delivery (a handler putting events back,
// or a bus target), the new events count one hop more than the delivered
// one; beyond the bus's maximum hops they are refused, which stops loops.
//
// After Close, PutEvents returns [ErrClosed].
func (b *Bus) PutEvents(ctx context.Context, entries ...Event) (PutEventsResult, error) {
	if b.closed.Load() {
		return PutEventsResult{}, ErrClosed
	}
	if ctx == nil {
		ctx = context.Background()
	}
	b.stats.requests.Add(1)
	// Counted before routing, so that a handler's effects never show in
	// the stats before the entries that caused them.
	b.stats.entries.Add(uint64(len(entries)))
	res := PutEventsResult{Entries: make([]PutEventsResultEntry, len(entries))}
	hops := hopsFrom(ctx) + 1 // 0 for an event put from outside any delivery
	idsp := b.idsPool.Get().(*[]string)
	ids := (*idsp)[:0]
	defer func() {
		clear(ids)
		*idsp = ids[:0]
		b.idsPool.Put(idsp)
	}()
	var buf []byte
	for i := range entries {
		e := entries[i] // a copy: stamping never changes the caller's entries
		r := &res.Entries[i]
		if code, msg := b.validate(&e, hops); code != "" {
			r.ErrorCode, r.ErrorMessage = code, msg
			res.FailedEntryCount++
			continue
		}
		now := b.now()
		b.stamp(&e, now)
		// Each event's JSON gets its own buffer, shared by its targets.
		buf = e.AppendJSON(make([]byte, 0, e.jsonSizeHint()))
		ev := &routed{id: e.ID, accepted: now, raw: buf, hops: hops}
		var code, msg string
		ids, code, msg = b.route(ctx, ev, ids)
		if code != "" {
			r.ErrorCode, r.ErrorMessage = code, msg
			res.FailedEntryCount++
			continue
		}
		r.EventID = e.ID
	}
	if res.FailedEntryCount > 0 {
		b.stats.failedEntries.Add(uint64(res.FailedEntryCount))
	}
	return res, nil
}

// validate checks one entry as EventBridge does; it returns an error code
// and message, or "" when the entry is valid.
func (b *Bus) validate(e *Event, hops int) (code, msg string) {
	switch {
	case e.Source == "":
		return ErrorCodeInvalidArgument, "Parameter Source is not valid. Reason: Source is a required argument."
	case e.DetailType == "":
		return ErrorCodeInvalidArgument, "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case len(e.Detail) == 0:
		return ErrorCodeInvalidArgument, "Parameter Detail is not valid. Reason: Detail is a required argument."
	}
	if n := EntrySize(e); n > b.cfg.entrySizeLimit {
		return ErrorCodeInvalidArgument, fmt.Sprintf("Entry size %d bytes exceeds the limit of %d bytes.", n, b.cfg.entrySizeLimit)
	}
	if e.Version != "" && e.Version != "0" {
		return ErrorCodeInvalidArgument, fmt.Sprintf("Parameter Version is not valid: %q; EventBridge events have version \"0\".", e.Version)
	}
	for i, r := range e.Resources {
		if r == "" {
			return ErrorCodeInvalidArgument, fmt.Sprintf("Parameter Resources[%d] is not valid: empty.", i)
		}
	}
	if reason := checkDetail(e.Detail); reason != "" {
		return ErrorCodeMalformedDetail, "Detail is malformed: " + reason
	}
	if hops > b.cfg.maxHops {
		return ErrorCodeInvalidArgument, fmt.Sprintf("Event refused: it would be hop %d of a cascade, over the bus's limit of %d (a loop?).", hops, b.cfg.maxHops)
	}
	return "", ""
}

// checkDetail returns why detail is not an acceptable JSON object, or "".
func checkDetail(detail []byte) string {
	i := 0
	for i < len(detail) && isJSONSpace(detail[i]) {
		i++
	}
	if i == len(detail) || detail[i] != '{' {
		return "not a JSON object"
	}
	if !gjson.ValidBytes(detail) {
		return "not valid JSON"
	}
	// Nesting deeper than the limit needs more brackets than the limit:
	// count them first (fast), walk only when there are that many.
	if bytes.Count(detail, []byte{'{'})+bytes.Count(detail, []byte{'['}) <= maxDetailDepth {
		return ""
	}
	if depth := jsonDepth(detail); depth > maxDetailDepth {
		return fmt.Sprintf("nested %d levels deep, over the limit of %d", depth, maxDetailDepth)
	}
	return ""
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonDepth returns the deepest nesting of objects and arrays in valid JSON.
func jsonDepth(b []byte) int {
	depth, maxDepth := 0, 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxDepth {
				maxDepth = depth
			}
		case '}', ']':
			depth--
		}
	}
	return maxDepth
}

// stamp fills the fields EventBridge sets on an accepted entry.
func (b *Bus) stamp(e *Event, now time.Time) {
	e.Version = "0"
	if e.ID == "" {
		e.ID = b.ids.newID()
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC().Truncate(time.Second)
	if e.Account == "" {
		e.Account = b.cfg.account
	}
	if e.Region == "" {
		e.Region = b.cfg.region
	}
}

// Drain waits until every event accepted before the call — including its
// retries and the events its handlers put with their contexts — has been
// delivered or dead-lettered; events put later from outside do not hold it
// up. If ctx ends first, it returns a *[DrainError] naming the targets
// still holding events. With a handler's context it returns an error
// wrapping [ErrInHandler] at once.
func (b *Bus) Drain(ctx context.Context) error {
	return engineDrain(ctx, b.engine)
}

// Close stops intake (PutEvents then returns [ErrClosed]), drains, and
// stops every worker. If ctx ends first, events still queued or waiting to
// retry go to their dead-letter handlers with reason "shutdown", and Close
// returns a *[ShutdownError] that counts them (see "Shutdown" in the
// package documentation for handlers that do not return). With a handler's
// context it returns an error wrapping [ErrInHandler] at once and leaves
// the bus open. Close is idempotent.
func (b *Bus) Close(ctx context.Context) error {
	return engineClose(ctx, b.engine, func() { b.closed.Store(true) })
}
