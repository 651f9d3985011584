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

// BusOption configures a [Bus].
type BusOption func(*busConfig) error

type busConfig struct {
	entrySizeLimit int
	maxHops        int
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
}

// WithEntrySizeLimit sets the largest accepted entry, in bytes as
// [EntrySize] counts them. Default [DefaultEntrySizeLimit].
func WithEntrySizeLimit(n int) BusOption {
	return func(c *busConfig) error {
		if n <= 0 {
			return fmt.Errorf("eda: entry size limit must be positive, got %d", n)
		}
		c.entrySizeLimit = n
		return nil
	}
}

// WithMaxHops sets how many times an event may be put again from the
// handlers and bus targets it reaches before it is refused as a loop.
// Default [DefaultMaxHops].
func WithMaxHops(n int) BusOption {
	return func(c *busConfig) error {
		if n <= 0 {
			return fmt.Errorf("eda: max hops must be positive, got %d", n)
		}
		c.maxHops = n
		return nil
	}
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
// none. Without one, dead letters go to the delivery engine's default,
// which logs and counts them.
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
	return func(c *busConfig) error {
		if n <= 0 {
			return fmt.Errorf("eda: queue size must be positive, got %d", n)
		}
		c.queueSize = n
		return nil
	}
}

// WithMaxConcurrency sets how many deliveries a target runs at once when
// the target sets no maximum itself. 1 delivers in order.
func WithMaxConcurrency(n int) BusOption {
	return func(c *busConfig) error {
		if n <= 0 {
			return fmt.Errorf("eda: max concurrency must be positive, got %d", n)
		}
		c.maxConcurrency = n
		return nil
	}
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
	if !validName(name) {
		return nil, fmt.Errorf("%w: bus name %q: use 1 to 64 of [.-_A-Za-z0-9]", ErrInvalidRule, name)
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
	b.engine = newEngine(cfg.clock, cfg.logger)
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
	b.stats.entries.Add(uint64(len(entries)))
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

// route matches ev against the rules and queues it for every target of
// every matching, enabled rule. ids is scratch space for the matcher.
func (b *Bus) route(ctx context.Context, ev *routed, ids []string) ([]string, string, string) {
	t, ids, err := b.acquire(ids[:0], ev.raw)
	if err != nil {
		return ids, ErrorCodeMalformedDetail, "Event is not a valid JSON object: " + err.Error()
	}
	defer b.release(t)
	if len(ids) > 0 {
		b.stats.matched.Add(1)
	}
	var code, msg string
	for _, id := range ids {
		rs := t.rules[id]
		if rs == nil || !rs.enabled {
			continue
		}
		rs.counters.matched.Add(1)
		if len(rs.targets) == 0 {
			continue
		}
		rs.counters.triggered.Add(1)
		for _, tr := range rs.targets {
			if err := tr.dest.Enqueue(ctx, ev); err != nil {
				if errors.Is(err, delivery.ErrClosed) {
					code, msg = ErrorCodeInternalFailure, "The bus closed while the event was routed."
				} else if code == "" {
					code = ErrorCodeThrottling
					msg = fmt.Sprintf("Target %q of rule %q did not accept the event: %v", tr.id, rs.name, err)
				}
			}
		}
	}
	return ids, code, msg
}

// acquire returns the current routing table, registered as in use until
// release, and the names of the rules whose pattern matches raw — both of
// the same generation of the rules. The matcher and the table change
// together under a seqlock (b.seq is odd while a writer works); a table's
// reader count keeps the targets it names from being retired while an
// event is being queued for them.
func (b *Bus) acquire(dst []string, raw []byte) (*routeTable, []string, error) {
	for {
		v := b.seq.Load()
		if v&1 == 1 {
			// A writer is changing the rules: wait for it.
			b.mu.Lock()
			b.mu.Unlock() // (an empty critical section: it waits for the writer)
			continue
		}
		t := b.table.Load()
		t.readers.Add(1)
		ids, err := dst, error(nil)
		if t.enabled > 0 {
			ids, err = b.matcher.MatchAppend(dst, raw)
		}
		if b.seq.Load() == v {
			if err != nil {
				b.release(t)
				return nil, ids, err
			}
			return t, ids, nil
		}
		b.release(t)
		dst = ids[:0]
	}
}

// release ends a use of t that acquire began.
func (b *Bus) release(t *routeTable) {
	if t.readers.Add(-1) == 0 && t.stale.Load() {
		b.sweep()
	}
}

// Drain waits until every event accepted so far — including retries and
// the events that handlers put while draining — has been delivered or
// dead-lettered, or ctx ends.
func (b *Bus) Drain(ctx context.Context) error {
	return b.engine.Drain(ctx)
}

// Close stops intake (PutEvents then returns [ErrClosed]), drains, and
// stops every worker. If ctx ends first, events still queued or waiting to
// retry go to their dead-letter handlers with reason "shutdown", and Close
// returns an error that counts them. Close is idempotent.
func (b *Bus) Close(ctx context.Context) error {
	b.closed.Store(true)
	return b.engine.Close(ctx)
}

// hopKey is the context key under which a delivery's hop count travels.
type hopKey struct{}

// withHops returns ctx marked as the context of a delivery of an event at
// the given hop of a cascade.
func withHops(ctx context.Context, hops int) context.Context {
	return context.WithValue(ctx, hopKey{}, hops)
}

// hopsFrom returns the hop count of the delivery whose context ctx is, or
// derives from; -1 when ctx is not a delivery's. Deliveries of events at
// hop 0 — most — carry no hop value: the delivery engine's handler marker
// says that ctx is a delivery's, which saves an allocation per delivery.
func hopsFrom(ctx context.Context) int {
	if ctx == nil {
		return -1
	}
	if h, ok := ctx.Value(hopKey{}).(int); ok {
		return h
	}
	if delivery.IsHandlerContext(ctx) {
		return 0
	}
	return -1
}
