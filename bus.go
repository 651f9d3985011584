package eda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/edakit/eda/internal/delivery"
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
	// DefaultMaxEntriesPerCall is EventBridge's limit on the entries of one
	// PutEvents call: 10. [WithMaxEntriesPerCall] changes or lifts it.
	DefaultMaxEntriesPerCall = 10
)

// EventBridge's limits on an entry (PutEvents API reference,
// PutEventsRequestEntry; "PutEvents will only process nested JSON up to
// 1100 levels deep"), in characters (Unicode code points) for strings.
const (
	maxSourceLength     = 256
	maxDetailTypeLength = 128
	maxResourceLength   = 2048
	maxDetailDepth      = 1100
)

// ErrorCode is the error code of a failed entry of [Bus.PutEvents] or
// [Topic.PublishBatch]: EventBridge's and SNS's vocabulary.
type ErrorCode string

// Error codes of [PutEventsResultEntry], EventBridge's vocabulary.
const (
	// ErrorCodeInvalidArgument: a field of the entry is missing or not valid.
	ErrorCodeInvalidArgument ErrorCode = "InvalidArgument"
	// ErrorCodeMalformedDetail: the detail is not a JSON object, or not
	// one EventBridge accepts (see [Bus.PutEvents]).
	ErrorCodeMalformedDetail ErrorCode = "MalformedDetail"
	// ErrorCodeNotAuthorizedForSource: the source begins with "aws.",
	// which EventBridge reserves for AWS services (see [WithAWSSources]).
	ErrorCodeNotAuthorizedForSource ErrorCode = "NotAuthorizedForSourceException"
	// ErrorCodeThrottling: a target's queue stayed full until the caller's
	// context ended. Retryable.
	ErrorCodeThrottling ErrorCode = "ThrottlingException"
	// ErrorCodeInternalFailure: the bus did not route the entry because it
	// is closed or closed during the call, or because the call's context
	// had ended before it began. Retryable (on another bus, once closed).
	ErrorCodeInternalFailure ErrorCode = "InternalFailure"
)

// ErrInvalidRequest is wrapped by the error of a [Bus.PutEvents] call that
// fails as a whole, as EventBridge answers a ValidationException: a nil
// context, no entries or more than the bus's maximum, or no entry with a
// source, a detail-type and a detail.
var ErrInvalidRequest = errors.New("eda: invalid PutEvents request")

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

	// routes holds the rules: an immutable table with their compiled
	// patterns, replaced on every change (routes.go). Its mutex serializes
	// rule changes and guards counters.
	routes   routeTables[*ruleState]
	counters map[string]*ruleCounters

	closed atomic.Bool
	// marks caches the contexts handed to this bus's handlers (see mark):
	// one per context of the engine.
	marks [delivery.HandlerContexts]atomic.Pointer[markedContext]
	stats busCounters
	ids   idSource
	// trackers holds the trackers of the events the bus tracks, by id; nil
	// unless the bus was created WithEventTracking (see track.go).
	trackers *trackers
	// idsPool holds *[]string scratch space for matched rule names.
	idsPool sync.Pool
}

// NewBus returns an empty bus with the given name, which appears in
// deliveries ([Delivery.Router]), rule ARNs and [Bus.Describe].
func NewBus(name string, opts ...Option) (*Bus, error) {
	if !validBusName(name) {
		return nil, fmt.Errorf("%w: bus name %q: use 1 to 256 of [/.-_A-Za-z0-9]", ErrInvalidBusName, name)
	}
	cfg := busConfig{
		routerConfig:   defaultRouterConfig(),
		entrySizeLimit: DefaultEntrySizeLimit,
		maxEntries:     DefaultMaxEntriesPerCall,
	}
	s := settings{delivery: &cfg.delivery, router: &cfg.routerConfig, bus: &cfg}
	if err := s.apply(opts); err != nil {
		return nil, err
	}
	b := &Bus{
		name:     name,
		cfg:      cfg,
		counters: make(map[string]*ruleCounters),
	}
	b.routes.init()
	b.trackers = newTrackers(&cfg.routerConfig)
	b.idsPool.New = func() any { s := make([]string, 0, 8); return &s }
	b.engine = newRouterEngine(&cfg.routerConfig)
	return b, nil
}

// Name returns the bus's name.
func (b *Bus) Name() string { return b.name }

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
	ErrorCode    ErrorCode
	ErrorMessage string
}

// Err returns nil when every entry was accepted, and otherwise an error
// joining one [*EntryError] per failed entry.
func (r PutEventsResult) Err() error {
	return joinEntryErrors(r.FailedEntryCount, r.Entries, func(e *PutEventsResultEntry) (ErrorCode, string) { return e.ErrorCode, e.ErrorMessage })
}

// joinEntryErrors returns an error joining one *EntryError per entry that
// failed (codeOf returns its error code and message; no code: accepted),
// or nil when none did.
func joinEntryErrors[E any](failed int, entries []E, codeOf func(*E) (ErrorCode, string)) error {
	if failed == 0 {
		return nil
	}
	var errs []error
	for i := range entries {
		if code, msg := codeOf(&entries[i]); code != "" {
			errs = append(errs, &EntryError{Index: i, Code: code, Message: msg})
		}
	}
	return errors.Join(errs...)
}

// EntryError is a failed entry of PutEvents or PublishBatch as an error.
type EntryError struct {
	// Index is the entry's position in the request.
	Index int
	// Code is EventBridge's error code, e.g. [ErrorCodeMalformedDetail].
	Code ErrorCode
	// Message says what is wrong.
	Message string
}

// Error returns the entry's index, code and message.
func (e *EntryError) Error() string {
	return fmt.Sprintf("eda: entry %d: %s: %s", e.Index, e.Code, e.Message)
}

// Retryable reports whether putting the entry again may succeed.
func (e *EntryError) Retryable() bool {
	switch e.Code {
	case ErrorCodeThrottling, ErrorCodeInternalFailure, ErrorCodeThrottled, ErrorCodeInternalError:
		return true
	}
	return false
}

// routed is one accepted event as it travels to its targets: each target's
// queue holds a copy of this small struct, which shares the event's JSON
// (never modified after PutEvents) with the other copies, so that routing
// allocates no record per event.
type routed struct {
	id       string
	accepted time.Time
	raw      []byte // the event's JSON form
	hops     int
	// values is the context the event was put with, whose values follow
	// it to the handlers (nil: none).
	values context.Context
	// track counts the event's copies in flight (nil: not tracked, see
	// WithEventTracking).
	track *eventTracker
}

// PutEvents validates, stamps and routes each entry on its own: one bad
// entry never stops the others. It returns when the accepted events are
// queued for their targets, not when the targets have handled them.
//
// Results come per entry in request order. An entry fails with:
//   - [ErrorCodeInvalidArgument]: source, detail-type or detail missing;
//     source over 256 or detail-type over 128 characters; an empty
//     resource or one over 2,048 characters; a version other than "0";
//     the entry over the size limit ([WithEntrySizeLimit]); or the entry
//     put by a cascade past the bus's maximum hops ([WithMaxHops]);
//   - [ErrorCodeMalformedDetail]: the detail is not a JSON object, is not
//     valid UTF-8, nests more than 1,100 levels deep, or holds an integer
//     outside the 64-bit range (-2⁶³ to 2⁶³-1), as EventBridge refuses;
//   - [ErrorCodeNotAuthorizedForSource]: the source begins with "aws."
//     (EventBridge reserves it for AWS services), unless the bus was
//     created [WithAWSSources];
//   - [ErrorCodeThrottling]: a target's queue stayed full until ctx ended;
//   - [ErrorCodeInternalFailure]: the bus closed during the call;
//   - [ErrorCodeValidationFailed]: the bus's [EventValidator] rejected
//     the stamped entry ([WithEventValidator]).
//
// A throttled or internal failure may be partial: an entry is queued for
// each of its targets in turn, a refusal by one does not stop the others,
// and the targets that took it deliver it, while the result says the entry
// failed. Putting the entry again then delivers it twice to those targets,
// which the error message does not name (it names a target that refused
// the entry). To make such a
// retry safe, give the entry an ID: an entry put with an ID keeps it, so
// the second delivery has the same [Delivery].ID and a target can drop it
// (e.g. with [Deduplicate]). Entries with any other error reached no
// target.
//
// The call fails as a whole — an error, and a result in which every
// entry failed, so that FailedEntryCount alone tells that nothing was
// accepted — when ctx is nil, or there are no entries or more than the
// bus's maximum per call ([DefaultMaxEntriesPerCall], see
// [WithMaxEntriesPerCall]), or no entry has all of a source, a
// detail-type and a detail (as EventBridge fails such a request; each
// entry says what it lacks): the error wraps [ErrInvalidRequest] and the
// entries fail with [ErrorCodeInvalidArgument]. It also fails as a whole
// when ctx has already ended (the error wraps ctx's error; the entries
// fail with [ErrorCodeInternalFailure]), and when the bus is closed or
// closing (the error is [ErrClosed]; entries fail with
// [ErrorCodeInternalFailure]) — except for a cascade of this bus during
// Close: a handler, dead-letter handler or bus target of this bus that
// puts events with the context it was given is still served until the
// last of them has returned, so that Close delivers everything its
// accepted events cause. Another bus's handlers are outside producers
// here: their puts to a closing bus fail with ErrClosed (a [BusTarget]
// retries them; close the buses upstream first).
//
// An accepted event is stamped with an ID (a UUID) and Time (now) when they
// are empty, Version "0", and the bus's account and region when empty.
//
// When ctx is the context of a delivery (a handler putting events back,
// or a bus target), the new events count one hop more than the delivered
// one; beyond the bus's maximum hops they are refused, which stops loops.
func (b *Bus) PutEvents(ctx context.Context, entries ...Event) (PutEventsResult, error) {
	b.stats.requests.Add(1)
	// Counted before routing, so that a handler's effects never show in
	// the stats before the entries that caused them.
	b.stats.entries.Add(uint64(len(entries)))
	if res, err := b.admit(ctx, entries); err != nil {
		b.stats.failedEntries.Add(uint64(res.FailedEntryCount))
		return res, err
	}
	res := PutEventsResult{Entries: make([]PutEventsResultEntry, len(entries))}
	hops, parent := cascadeFrom(ctx)
	hops++ // 0 for an event put from outside any delivery
	values := producerValues(ctx)
	idsp := b.idsPool.Get().(*[]string)
	ids := (*idsp)[:0]
	defer func() {
		clear(ids)
		*idsp = ids[:0]
		b.idsPool.Put(idsp)
	}()
	for i := range entries {
		e := entries[i] // a copy: stamping never changes the caller's entries
		r := &res.Entries[i]
		if code, msg := b.validate(&e, hops); code != "" {
			r.ErrorCode, r.ErrorMessage = code, msg
			res.FailedEntryCount++
			continue
		}
		now := b.cfg.now()
		var members envelopeMembers
		raw := b.seal(&e, now, &members)
		if code, msg := b.checkEvent(ctx, &e, raw); code != "" {
			r.ErrorCode, r.ErrorMessage = code, msg
			res.FailedEntryCount++
			continue
		}
		ev := routed{id: e.ID, accepted: now, raw: raw, hops: hops, values: values}
		if parent != nil || b.trackers != nil {
			ev.track = b.trackers.track(parent, ev.id)
		}
		var code ErrorCode
		var msg string
		ids, code, msg = b.route(ctx, &ev, &members, ids)
		ev.track.release() // routed: only its copies count now
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

// Messages of entries that failed because of the bus or the call.
const (
	msgBusClosed = "The bus is closed."
	msgNotRouted = "The bus closed while the event was routed."
)

// admit checks the request as a whole. When it is refused, admit returns
// the error and a result in which every entry failed.
func (b *Bus) admit(ctx context.Context, entries []Event) (PutEventsResult, error) {
	if ctx == nil {
		err := fmt.Errorf("%w: nil context", ErrInvalidRequest)
		return refuseAll(entries, ErrorCodeInvalidArgument, "The request has no context."), err
	}
	if b.closed.Load() && !b.ownsContext(ctx) {
		return refuseAll(entries, ErrorCodeInternalFailure, msgBusClosed), ErrClosed
	}
	if n := len(entries); n == 0 || n > b.cfg.maxEntries {
		msg := fmt.Sprintf("The request has %d entries; it must have 1 to %d.", n, b.cfg.maxEntries)
		return refuseAll(entries, ErrorCodeInvalidArgument, msg), fmt.Errorf("%w: %s", ErrInvalidRequest, msg)
	}
	if err := ctx.Err(); err != nil {
		msg := "The request was not processed: " + err.Error() + "."
		return refuseAll(entries, ErrorCodeInternalFailure, msg), fmt.Errorf("eda: PutEvents: %w", err)
	}
	for i := range entries {
		if _, msg := missingField(&entries[i]); msg == "" {
			return PutEventsResult{}, nil
		}
	}
	res := refuseAll(entries, ErrorCodeInvalidArgument, "")
	return res, fmt.Errorf("%w: no entry has a source, a detail-type and a detail", ErrInvalidRequest)
}

// refuseAll returns the result of a request refused as a whole: every
// entry failed with code and msg, or, when msg is empty, with the message
// of the required field the entry lacks.
func refuseAll(entries []Event, code ErrorCode, msg string) PutEventsResult {
	res := PutEventsResult{FailedEntryCount: len(entries), Entries: make([]PutEventsResultEntry, len(entries))}
	for i := range res.Entries {
		m := msg
		if m == "" {
			_, m = missingField(&entries[i])
		}
		res.Entries[i] = PutEventsResultEntry{ErrorCode: code, ErrorMessage: m}
	}
	return res
}

// missingField returns the error of an entry that lacks a source, a
// detail-type or a detail, or "" when it has all three.
func missingField(e *Event) (code ErrorCode, msg string) {
	switch {
	case e.Source == "":
		return ErrorCodeInvalidArgument, "Parameter Source is not valid. Reason: Source is a required argument."
	case e.DetailType == "":
		return ErrorCodeInvalidArgument, "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case len(e.Detail) == 0:
		return ErrorCodeInvalidArgument, "Parameter Detail is not valid. Reason: Detail is a required argument."
	}
	return "", ""
}

// validate checks one entry as EventBridge does; it returns an error code
// and message, or "" when the entry is valid.
func (b *Bus) validate(e *Event, hops int) (code ErrorCode, msg string) {
	if code, msg := missingField(e); code != "" {
		return code, msg
	}
	if tooLong(e.Source, maxSourceLength) {
		return ErrorCodeInvalidArgument, fmt.Sprintf("Parameter Source is not valid. Reason: longer than %d characters.", maxSourceLength)
	}
	if tooLong(e.DetailType, maxDetailTypeLength) {
		return ErrorCodeInvalidArgument, fmt.Sprintf("Parameter DetailType is not valid. Reason: longer than %d characters.", maxDetailTypeLength)
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
		if tooLong(r, maxResourceLength) {
			return ErrorCodeInvalidArgument, fmt.Sprintf("Parameter Resources[%d] is not valid: longer than %d characters.", i, maxResourceLength)
		}
	}
	if !b.cfg.awsSources && strings.HasPrefix(e.Source, "aws.") {
		return ErrorCodeNotAuthorizedForSource, "Not authorized for the source."
	}
	if reason := checkDetail(e.Detail); reason != "" {
		return ErrorCodeMalformedDetail, "Detail is malformed: " + reason
	}
	if msg := overHops(hops, b.cfg.maxHops); msg != "" {
		return ErrorCodeInvalidArgument, msg
	}
	return "", ""
}

// tooLong reports whether s has more than limit characters.
func tooLong(s string, limit int) bool {
	return len(s) > limit && utf8.RuneCountInString(s) > limit
}

// seal stamps an accepted entry (see stamp) and returns its JSON form, in
// a buffer of its own that the event's targets share, and records in at
// where the form's members are.
//
// When the bus stamps the id, one allocation holds both the id's text and,
// after it, the JSON, and e.ID is a string over the id's bytes
// (unsafe.String) rather than a copy of them. That is safe because those
// bytes are written once, before the string exists, and never again: the
// buffer is new for each event and never reused (the garbage collector
// keeps it while the string or the JSON is referenced), and the JSON handed
// to targets is a slice that starts after the id's bytes, so that no code
// can reach them as a []byte.
func (b *Bus) seal(e *Event, now time.Time, at *envelopeMembers) []byte {
	b.stamp(e, now)
	if e.ID != "" {
		return e.appendJSON(make([]byte, 0, e.jsonSizeHint()), at)
	}
	// The id's bytes, then the JSON, whose hint counts the id once more.
	buf := b.ids.appendID(make([]byte, 0, 2*uuidTextLen+e.jsonSizeHint()))
	e.ID = unsafe.String(unsafe.SliceData(buf), uuidTextLen)
	return e.appendJSON(buf[uuidTextLen:uuidTextLen], at)
}

// stamp fills the fields EventBridge sets on an accepted entry, but for an
// empty ID, which seal fills.
func (b *Bus) stamp(e *Event, now time.Time) {
	e.Version = "0"
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

// Close stops intake, drains, and stops every worker. From the moment
// Close begins, PutEvents returns [ErrClosed], except to the cascades of
// this bus's own handlers, which are accepted until the last handler has
// returned (see [Bus.PutEvents]). If ctx ends first, events still queued or
// waiting to retry go to their dead-letter handlers with reason
// "shutdown", and Close returns a *[ShutdownError] that counts them (see
// "Shutdown" in the package documentation for handlers that do not
// return). With a handler's context it returns an error wrapping
// [ErrInHandler] at once and leaves the bus open. Close is idempotent.
func (b *Bus) Close(ctx context.Context) error {
	return engineClose(ctx, b.engine, func() { b.closed.Store(true) })
}
