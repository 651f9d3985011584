package eda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/edakit/eda/internal/delivery"
	"github.com/edakit/eda/internal/pattern"
)

// Defaults of a [Topic].
const (
	// DefaultDeduplicationWindow is how long a FIFO topic remembers a
	// message's de-duplication id: SNS's five minutes.
	DefaultDeduplicationWindow = 5 * time.Minute
	// MaxPublishBatchEntries is SNS's limit on the messages of one
	// PublishBatch call.
	MaxPublishBatchEntries = 10
)

// Error codes of [PublishResultEntry], SNS's vocabulary.
const (
	// ErrorCodeInvalidParameter: the message is not valid (see [Message]),
	// or would be a cascade past the topic's maximum hops.
	ErrorCodeInvalidParameter ErrorCode = "InvalidParameter"
	// ErrorCodeThrottled: a subscription's queue stayed full until the
	// caller's context ended. Retryable.
	ErrorCodeThrottled ErrorCode = "Throttled"
	// ErrorCodeInternalError: the topic closed during the call. Retryable
	// on another topic.
	ErrorCodeInternalError ErrorCode = "InternalError"
)

// ErrInvalidTopicName is returned by [NewTopic] for a name SNS would
// refuse: 1 to 256 of [A-Za-z0-9_-], ending in ".fifo" for a FIFO topic.
var ErrInvalidTopicName = errors.New("eda: invalid topic name")

// ErrInvalidSubscription is wrapped by the errors of [Topic.Subscribe] and
// [Subscription.SetFilterPolicy]: an invalid name, handler, option or
// filter policy (whose *[PatternError] is wrapped too).
var ErrInvalidSubscription = errors.New("eda: invalid subscription")

// ErrSubscriptionNotFound is returned for a subscription the topic does
// not hold, like SNS's NotFoundException.
var ErrSubscriptionNotFound = errors.New("eda: subscription not found")

// Topic is an in-process topic with Amazon SNS's semantics: every message
// published to it is delivered to each of its subscriptions whose filter
// policy it passes (all of them, for a subscription without one), through
// the delivery engine, with retries and dead letters.
//
// A Topic is safe for concurrent use. Subscription changes apply to
// messages published after the change returns; a message being published
// sees the subscriptions, and their filter policies, either wholly before
// or wholly after a change. The filter policies of all subscriptions are
// compiled into one matcher per scope: filtering a message costs what its
// attributes or body cost, not what the number of subscriptions does.
//
// Each subscription is a destination of the delivery engine, with its own
// queue and workers, so a slow, failing or panicking subscriber never
// delays another; the delivery contract is the Bus's (see the package
// documentation). A message is stored once and shared by all its copies.
//
// A FIFO topic (its name ends in ".fifo") keeps order per message group:
// each subscription delivers the messages of one group one at a time, in
// the order they were published, and retries a failed one before the
// ones behind it, which wait for it; different groups are delivered in
// parallel, and a failing message holds up only its own group. Messages
// with the de-duplication id of a message published within the
// de-duplication window are not delivered again (see [Topic.Publish]).
type Topic struct {
	name   string
	arn    string
	fifo   bool
	cfg    topicConfig
	engine *delivery.Engine
	// routes holds the subscriptions (routes.go); its mutex serializes
	// subscription changes.
	routes routeTables[*Subscription]
	// sums are the running sums of the messages routed with the settled
	// route tables (topic_stats.go); under routes.retireMu.
	sums   filterSums
	closed atomic.Bool
	stats  topicCounters
	ids    idSource
	dedup  dedupWindow // FIFO topics
	gone   goneSubscriptions
	fifoMu sync.Mutex // FIFO topics publish one message at a time
	// trackers holds the trackers of the messages the topic tracks, by
	// id; nil unless it was created WithEventTracking (see track.go).
	trackers *trackers
}

// topicConfig is a Topic's configuration, set by [Option] values.
type topicConfig struct {
	routerConfig
	delivery       deliverySettings // the defaults of its subscriptions
	maxMessageSize int
	contentDedup   bool
	dedupWindow    time.Duration
	dedupWindowSet bool
	policyLimits   FilterPolicyLimits
}

// topicCounters are a Topic's own counters (SNS's CloudWatch metrics).
type topicCounters struct {
	published            atomic.Uint64
	publishSize          atomic.Uint64
	filteredOut          atomic.Uint64
	filteredOutNoAttrs   atomic.Uint64
	duplicates           atomic.Uint64
	failedPublishEntries atomic.Uint64
	refused              atomic.Uint64 // valid messages a subscription refused
	refusedCopies        atomic.Uint64
}

// NewTopic returns a topic with no subscriptions. A name that ends in
// ".fifo" makes a FIFO topic, as in SNS. Delivery settings given here
// ([WithRetryPolicy], [WithDeadLetter], [WithMiddleware], …) are the
// defaults of its subscriptions.
func NewTopic(name string, opts ...Option) (*Topic, error) {
	fifo := strings.HasSuffix(name, ".fifo")
	if !validTopicName(strings.TrimSuffix(name, ".fifo")) || len(name) > 256 {
		return nil, fmt.Errorf("%w: %q: use 1 to 256 of [A-Za-z0-9_-], and the suffix .fifo for a FIFO topic", ErrInvalidTopicName, name)
	}
	cfg := topicConfig{routerConfig: defaultRouterConfig(), dedupWindow: DefaultDeduplicationWindow}
	s := settings{delivery: &cfg.delivery, router: &cfg.routerConfig, topic: &cfg}
	if err := s.apply(opts); err != nil {
		return nil, err
	}
	if cfg.contentDedup && !fifo {
		return nil, optionError("WithContentBasedDeduplication", "applies to a FIFO topic (a name ending in .fifo), not to %q", name)
	}
	if cfg.dedupWindowSet && !fifo {
		return nil, optionError("WithDeduplicationWindow", "applies to a FIFO topic (a name ending in .fifo), not to %q", name)
	}
	t := &Topic{
		name: name,
		arn:  "arn:aws:sns:" + cfg.region + ":" + cfg.account + ":" + name,
		fifo: fifo,
		cfg:  cfg,
	}
	t.trackers = newTrackers(&cfg.routerConfig)
	t.engine = newRouterEngine(&cfg.routerConfig)
	t.routes.init()
	t.routes.settle = t.settleTable
	t.dedup.init()
	return t, nil
}

// validTopicName reports whether s is 1 to 256 of [A-Za-z0-9_-].
func validTopicName(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// ARN returns the ARN SNS would give the topic.
func (t *Topic) ARN() string { return t.arn }

// FIFO reports whether the topic is a FIFO topic.
func (t *Topic) FIFO() bool { return t.fifo }

// PublishResult is the outcome of [Topic.Publish].
type PublishResult struct {
	// MessageID identifies the message; a FIFO duplicate answers with the
	// id of the message it duplicates. The id shares the message's memory
	// (one allocation holds both), so holding it keeps the message's copy
	// alive: a caller that keeps many ids long after the messages were
	// handled should keep strings.Clone(MessageID) instead.
	MessageID string
	// SequenceNumber is a FIFO topic's number for the message, increasing
	// within its message group; empty for a standard topic.
	SequenceNumber string
}

// Publish publishes m to every subscription whose filter policy it passes,
// and returns when it is queued for them, not when they have handled it.
//
// An invalid message fails with a *[MessageError] (see [Message] for SNS's
// rules). When a subscription's queue stays full until ctx ends, Publish
// fails with an error wrapping [ErrFull]; subscriptions other than the one
// named may have received the message then, and publishing it again
// delivers it to them twice (on a FIFO topic, the de-duplication id
// prevents that within the window). After [Topic.Close], Publish returns
// [ErrClosed] — except to the cascades of the topic's own handlers, which
// are accepted until the last handler has returned. A nil ctx is an error.
//
// On a FIFO topic, a message whose de-duplication id — its
// DeduplicationID, or, with [WithContentBasedDeduplication], the SHA-256
// of its body — was published within the de-duplication window is not
// delivered again: Publish answers with the original message id and
// sequence number. A message without either is refused, as SNS refuses
// it.
//
// When ctx is the context of a delivery, the message counts one hop more
// than the delivered one; beyond the topic's maximum hops it is refused
// ([WithMaxHops]), which stops loops.
func (t *Topic) Publish(ctx context.Context, m Message) (PublishResult, error) {
	if ctx == nil {
		return PublishResult{}, errors.New("eda: Publish: nil context")
	}
	if err := t.intake(ctx); err != nil {
		return PublishResult{}, err
	}
	res, _, err := t.publish(ctx, &m)
	return res, err
}

// intake returns why the topic refuses a publish with ctx as a whole, or nil.
func (t *Topic) intake(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.closed.Load() && !t.engine.InHandler(ctx) {
		return ErrClosed
	}
	return nil
}

// publish validates, stamps and routes one message; it returns the result,
// or an SNS error code and the error.
func (t *Topic) publish(ctx context.Context, m *Message) (PublishResult, ErrorCode, error) {
	// The attributes are converted for the filter policies as they are
	// validated: one pass over the map, not two.
	var stack [16]pattern.Attr
	size, attrs, err := validateMessageAttrs(m, messageLimits{MaxSize: t.cfg.maxMessageSize}, t.fifo, stack[:0])
	if err != nil {
		return PublishResult{}, ErrorCodeInvalidParameter, err
	}
	if t.fifo && m.DeduplicationID == "" && !t.cfg.contentDedup {
		return PublishResult{}, ErrorCodeInvalidParameter, &MessageError{Field: "DeduplicationID",
			Reason: "required: the topic has no content-based de-duplication (WithContentBasedDeduplication)"}
	}
	hops, parent := cascadeFrom(ctx)
	hops++
	if msg := overHops(hops, t.cfg.maxHops); msg != "" {
		return PublishResult{}, ErrorCodeInvalidParameter, fmt.Errorf("%w: %s", ErrInvalidMessage, msg)
	}
	// Matched first, against the caller's message (it is not kept): a
	// message that no subscription takes is never copied, nor stamped with
	// the time (nothing reads it).
	tb := t.routes.acquire()
	defer t.routes.release(tb)
	var buf [16]string
	ids, err := t.match(tb, buf[:0], m, attrs)
	if err != nil {
		return PublishResult{}, ErrorCodeInvalidParameter, err
	}
	var p *published
	var id string
	var now time.Time
	if t.fifo || tb.always.len()+len(ids) > 0 {
		now = t.cfg.now()
		p = newPublished(m, now, hops, producerValues(ctx), t.fifo)
		t.ids.appendID(p.idText[:0])
		id = p.id()
	} else {
		var text [uuidTextLen]byte
		id = string(t.ids.appendID(text[:0]))
	}
	var release func(bool)
	if t.fifo {
		// One message at a time, so that the queues of every group receive
		// messages in the order of their sequence numbers.
		t.fifoMu.Lock()
		defer t.fifoMu.Unlock()
		// (The window keeps a copy of the id, not the message it shares.)
		res, dup, rel := t.dedup.claim(dedupKey(m, t.cfg.contentDedup), strings.Clone(id), now, t.cfg.dedupWindow)
		if dup {
			t.stats.duplicates.Add(1)
			return res, "", nil
		}
		p.x.seq, release = res.SequenceNumber, rel
	}
	var track *eventTracker
	if parent != nil || t.trackers != nil {
		// A cascade of a tracked event, or tracked on its own (see
		// WithEventTracking); a message that no subscription takes
		// settles when it has been routed.
		track = t.trackers.track(parent, id)
		if p != nil {
			p.hctx.track = track
		}
	}
	code, err := t.route(ctx, tb, p, ids, len(m.Attributes) == 0)
	track.release() // routed: only its copies count now
	if release != nil {
		release(err == nil) // a message that was not accepted may be sent again
	}
	if err != nil {
		return PublishResult{}, code, err
	}
	t.stats.published.Add(1)
	t.stats.publishSize.Add(uint64(size))
	res := PublishResult{MessageID: id}
	if p != nil {
		res.SequenceNumber = p.seq()
	}
	return res, "", nil
}

// published is one accepted message as it travels to its subscriptions.
// All copies share it; it is never modified after Publish, except that the
// notification JSON is written once, before any copy that needs it is
// queued, and that the first delivery sets up the handlers' context. It is
// one allocation with its id, its extra (when it needs one) and, up to
// maxInlineBody bytes, its body (newPublished).
//
// The record holds what most messages use; the subject, the message group
// and the sequence number, which many messages do not have, are in an
// extra that only the messages with one of them carry: every byte
// allocated per message costs collector time (see inlineBodies).
type published struct {
	time  time.Time
	body  []byte
	attrs map[string]Attribute
	// envelope is the SNS JSON notification of the message, for the
	// subscriptions without raw delivery (nil until one needs it).
	envelope []byte
	// hctx is the handlers' context, shared by the deliveries of every
	// copy (they all run with one engine context: the message has one
	// origin). Its hop count, the values of the context the message was
	// published with (producer, nil: none) and its tracker (track, set
	// when the message is a cascade of a tracked event, see
	// WithEventTracking) are set by Publish; its engine context by the
	// first delivery (see handlerContext): hctxState is 0 until a delivery
	// claims it, 1 while that one sets it, 2 once it is set.
	hctx      cascadeContext
	hctxState atomic.Uint32
	idText    [uuidTextLen]byte // the message id (id)
	// x holds the subject, the message group and the sequence number of a
	// message that has any of them; nil for others (see needsExtra).
	x *publishedExtra
}

// publishedExtra is the part of a published message that only some
// messages use (see published.x).
type publishedExtra struct {
	subject string
	group   string
	seq     string
}

// id returns the message id.
func (p *published) id() string { return unsafe.String(&p.idText[0], len(p.idText)) }

// track returns the message's tracker (nil: not tracked).
func (p *published) track() *eventTracker { return p.hctx.track }

// subject returns the message's subject ("" if it has none).
func (p *published) subject() string {
	if p.x == nil {
		return ""
	}
	return p.x.subject
}

// group returns the message group of a FIFO message ("" for others).
func (p *published) group() string {
	if p.x == nil {
		return ""
	}
	return p.x.group
}

// seq returns the sequence number of a FIFO message ("" for others).
func (p *published) seq() string {
	if p.x == nil {
		return ""
	}
	return p.x.seq
}

// maxInlineBody is the largest body newPublished stores in the message's
// own allocation; a larger one takes one more.
const maxInlineBody = 4096

// needsExtra reports whether m, published to a FIFO topic when fifo is
// set, needs a publishedExtra.
func needsExtra(m *Message, fifo bool) bool { return fifo || m.Subject != "" || m.GroupID != "" }

// newPublished returns m as a message published at now, hops deep, with
// the publisher's context values (nil: none), to a FIFO topic when fifo is
// set, without its id: the record, its extra when it needs one (see
// needsExtra) and a copy of the body in one allocation (the caller may
// reuse its buffer), and a copy of the attributes.
func newPublished(m *Message, now time.Time, hops int, values context.Context, fifo bool) *published {
	withExtra := needsExtra(m, fifo)
	n := len(m.Body)
	var p *published
	var body []byte
	if n <= maxInlineBody {
		i := inlineIndex[(n+inlineStep-1)/inlineStep]
		if withExtra {
			p, body = inlineBodies[i].allocExtra(n)
		} else {
			p, body = inlineBodies[i].alloc(n)
		}
	} else {
		if withExtra {
			p, _ = withExtraInlineBody[[0]byte](0)
		} else {
			p = new(published)
		}
		body = make([]byte, n)
	}
	copy(body, m.Body)
	p.time, p.body = now, body
	if p.x != nil {
		p.x.subject, p.x.group = m.Subject, m.GroupID
	}
	// (Fields that stay zero are not written: a pointer written while the
	// collector marks costs a write barrier.)
	p.hctx.hops = hops
	if values != nil {
		p.hctx.producer = values
	}
	if len(m.Attributes) > 0 {
		p.attrs = copyAttributes(m.Attributes)
	}
	return p
}

// inlineBody is one buffer size newPublished allocates with a record
// (size bytes), with its allocation functions: without and with a
// publishedExtra.
type inlineBody struct {
	size       int
	alloc      func(n int) (*published, []byte)
	allocExtra func(n int) (*published, []byte)
}

// publishedSize is the size of a published record; plusHeader is the size
// of the header the allocator puts before an object with pointers larger
// than 512 bytes (Go's malloc header).
const (
	publishedSize = int(unsafe.Sizeof(published{}))
	plusHeader    = 8
)

// inline returns the inlineBody whose record and buffer (of type B, a byte
// array) make one object.
func inline[B any]() inlineBody {
	var b B
	return inlineBody{size: int(unsafe.Sizeof(b)), alloc: withInlineBody[B], allocExtra: withExtraInlineBody[B]}
}

// inlineBodies are the buffer sizes newPublished allocates with a record,
// smallest first: a body takes the first one that fits. Each fills one of
// Go's allocation size classes exactly (a record without extra, and with
// the malloc header beyond 512 bytes), so that the bytes allocated per
// message are the bytes it uses rounded up to the next size class, not to
// a power of two. (Other Go versions may have other classes: then a record
// wastes a little more, nothing else.)
var inlineBodies = [...]inlineBody{
	inline[[192 - publishedSize]byte](),
	inline[[208 - publishedSize]byte](),
	inline[[224 - publishedSize]byte](),
	inline[[240 - publishedSize]byte](),
	inline[[256 - publishedSize]byte](),
	inline[[288 - publishedSize]byte](),
	inline[[320 - publishedSize]byte](),
	inline[[352 - publishedSize]byte](),
	inline[[384 - publishedSize]byte](),
	inline[[416 - publishedSize]byte](),
	inline[[448 - publishedSize]byte](),
	inline[[480 - publishedSize]byte](),
	inline[[512 - publishedSize]byte](),
	inline[[576 - plusHeader - publishedSize]byte](),
	inline[[640 - plusHeader - publishedSize]byte](),
	inline[[704 - plusHeader - publishedSize]byte](),
	inline[[768 - plusHeader - publishedSize]byte](),
	inline[[896 - plusHeader - publishedSize]byte](),
	inline[[1024 - plusHeader - publishedSize]byte](),
	inline[[1152 - plusHeader - publishedSize]byte](),
	inline[[1280 - plusHeader - publishedSize]byte](),
	inline[[1408 - plusHeader - publishedSize]byte](),
	inline[[1536 - plusHeader - publishedSize]byte](),
	inline[[1792 - plusHeader - publishedSize]byte](),
	inline[[2048 - plusHeader - publishedSize]byte](),
	inline[[2304 - plusHeader - publishedSize]byte](),
	inline[[2688 - plusHeader - publishedSize]byte](),
	inline[[3072 - plusHeader - publishedSize]byte](),
	inline[[3200 - plusHeader - publishedSize]byte](),
	inline[[3456 - plusHeader - publishedSize]byte](),
	inline[[4096 - plusHeader - publishedSize]byte](),
	inline[[maxInlineBody]byte](),
}

// inlineStep is the granularity of inlineIndex.
const inlineStep = 8

// inlineIndex maps ⌈n/inlineStep⌉ to the index in inlineBodies of the
// first size that holds n bytes: every size is a multiple of inlineStep
// (so are the size classes, publishedSize and plusHeader), so the first
// size that holds the multiple of inlineStep above n is the first that
// holds n.
var inlineIndex = func() (index [maxInlineBody/inlineStep + 1]uint8) {
	i := 0
	for k := range index {
		for inlineBodies[i].size < k*inlineStep {
			i++
		}
		index[k] = uint8(i)
	}
	return index
}()

// withInlineBody allocates a published record followed by a buffer of
// type B (a byte array), and returns the record and the first n bytes of
// the buffer. The buffer lives as long as the record.
func withInlineBody[B any](n int) (*published, []byte) {
	x := new(struct {
		published
		buf B
	})
	return &x.published, unsafe.Slice((*byte)(unsafe.Pointer(&x.buf)), n)
}

// withExtraInlineBody is withInlineBody with the record's extra in the
// same allocation.
func withExtraInlineBody[B any](n int) (*published, []byte) {
	x := new(struct {
		published
		extra publishedExtra
		buf   B
	})
	x.x = &x.extra
	return &x.published, unsafe.Slice((*byte)(unsafe.Pointer(&x.buf)), n)
}

// handlerContext returns the context for a handler of p (see the
// package's handlerContext), given ctx, the engine's: the one p holds
// when it was made for ctx, so that the copies of a message share one.
func (p *published) handlerContext(ctx context.Context) context.Context {
	c := &p.hctx
	if c.hops == 0 && c.producer == nil && c.track == nil {
		return ctx
	}
	switch p.hctxState.Load() {
	case 0:
		if p.hctxState.CompareAndSwap(0, 1) {
			c.Context = ctx
			p.hctxState.Store(2)
			return c
		}
	case 2:
		if c.Context == ctx {
			return c
		}
	}
	// Another engine context (a dead letter's), or the shared one is
	// being made right now.
	return handlerContext(ctx, c.hops, c.producer, c.track)
}

// copyAttributes returns a copy of attrs (nil for none).
func copyAttributes(attrs map[string]Attribute) map[string]Attribute {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]Attribute, len(attrs))
	for k, v := range attrs {
		out[k] = v
	}
	return out
}

// match appends to ids the subscriptions of tb whose filter policy m,
// whose attributes are attrs (converted, see validateMessageAttrs), passes
// (those without one excepted: tb.always).
func (t *Topic) match(tb *routeTable[*Subscription], ids []string, m *Message, attrs []pattern.Attr) ([]string, error) {
	if tb.machine != nil && len(attrs) > 0 {
		var err error
		ids, err = tb.machine.MatchAttrs(ids, attrs)
		if err != nil { // validated at Publish: cannot happen
			return ids, err
		}
	}
	if tb.body != nil {
		var err error
		if ids, err = tb.body.MatchStrict(ids, m.Body); err != nil && !errors.Is(err, pattern.ErrNotObject) {
			return ids, err
		}
	}
	return ids, nil
}

// route counts the message routed with tb, which has no attributes when
// noAttrs is set and passed the filter policies of the subscriptions ids,
// and queues p for those subscriptions and every one without a policy. p
// is nil when there are none.
func (t *Topic) route(ctx context.Context, tb *routeTable[*Subscription], p *published, ids []string, noAttrs bool) (ErrorCode, error) {
	// Counted before any copy is queued: a subscription's filtered-out
	// count (topic_stats.go) never goes below zero.
	tb.routed.Add(1)
	if noAttrs {
		tb.noAttrs.Add(1)
		if n := tb.patterned[0]; n > 0 {
			t.stats.filteredOutNoAttrs.Add(uint64(n))
		}
	}
	if out := tb.patterned[0] + tb.patterned[1] - len(ids); out > 0 {
		t.stats.filteredOut.Add(uint64(out))
	}
	if p == nil {
		return "", nil
	}
	o := t.engine.Origin(ctx, p.time)
	var code ErrorCode
	var firstErr error
	send := func(s *Subscription) {
		if !s.raw && p.envelope == nil {
			p.envelope = t.notification(p)
		}
		if p.hctx.track != nil {
			p.hctx.track.add() // before the copy is queued: it may end at once
		}
		if err := s.enqueue(ctx, p, o); err != nil {
			p.track().release()
			t.stats.refusedCopies.Add(1)
			s.refused.Add(1)
			switch {
			case errors.Is(err, ErrClosed):
				code, firstErr = ErrorCodeInternalError, fmt.Errorf("eda: topic %q closed while the message was published: %w", t.name, err)
			case firstErr == nil:
				code, firstErr = ErrorCodeThrottled, fmt.Errorf("eda: subscription %q did not accept the message: %w", s.name, err)
			}
		}
	}
	for _, chunk := range tb.always.chunks {
		for _, s := range chunk {
			send(s)
		}
	}
	for _, id := range ids {
		if s := tb.routes.At(id); s != nil {
			send(s)
		}
	}
	if firstErr != nil {
		t.stats.refused.Add(1)
	}
	return code, firstErr
}

// notification returns p as SNS's JSON notification.
func (t *Topic) notification(p *published) []byte {
	n := notification{
		MessageID:      p.id(),
		TopicARN:       t.arn,
		Subject:        p.subject(),
		Body:           p.body,
		Time:           p.time,
		Attributes:     p.attrs,
		FIFO:           t.fifo,
		SequenceNumber: p.seq(),
		GroupID:        p.group(),
	}
	return appendNotificationJSON(make([]byte, 0, len(p.body)+256+64*len(p.attrs)), n)
}

// PublishBatchResult reports the outcome of [Topic.PublishBatch], message
// by message, in the shape of [PutEventsResult].
type PublishBatchResult struct {
	// FailedEntryCount is the number of messages that were not accepted.
	FailedEntryCount int
	// Entries holds one result per message, in request order.
	Entries []PublishResultEntry
}

// PublishResultEntry is the outcome of one message of a batch: its
// MessageID (and SequenceNumber on a FIFO topic) when it was accepted, an
// ErrorCode and ErrorMessage when not.
type PublishResultEntry struct {
	MessageID      string
	SequenceNumber string
	ErrorCode      ErrorCode
	ErrorMessage   string
}

// Err returns nil when every message was accepted, and otherwise an error
// joining one [*EntryError] per failed message.
func (r PublishBatchResult) Err() error {
	return joinEntryErrors(r.FailedEntryCount, r.Entries, func(e *PublishResultEntry) (ErrorCode, string) { return e.ErrorCode, e.ErrorMessage })
}

// PublishBatch publishes each message on its own, as [Topic.Publish] does,
// and answers per message: one bad message never stops the others. As
// SNS's PublishBatch, it takes 1 to [MaxPublishBatchEntries] messages; a
// call with none or more fails as a whole with [ErrInvalidRequest] (and a
// result with every entry failed), as does a call after Close or with a
// nil or ended context.
func (t *Topic) PublishBatch(ctx context.Context, msgs ...Message) (PublishBatchResult, error) {
	res := PublishBatchResult{Entries: make([]PublishResultEntry, len(msgs))}
	failAll := func(code ErrorCode, err error) (PublishBatchResult, error) {
		for i := range res.Entries {
			res.Entries[i] = PublishResultEntry{ErrorCode: code, ErrorMessage: err.Error()}
		}
		res.FailedEntryCount = len(msgs)
		t.stats.failedPublishEntries.Add(uint64(len(msgs)))
		return res, err
	}
	switch {
	case ctx == nil:
		return failAll(ErrorCodeInvalidParameter, fmt.Errorf("%w: nil context", ErrInvalidRequest))
	case len(msgs) == 0:
		return failAll(ErrorCodeInvalidParameter, fmt.Errorf("%w: PublishBatch needs at least one message", ErrInvalidRequest))
	case len(msgs) > MaxPublishBatchEntries:
		return failAll(ErrorCodeInvalidParameter, fmt.Errorf("%w: %d messages in one PublishBatch, over SNS's limit of %d", ErrInvalidRequest, len(msgs), MaxPublishBatchEntries))
	}
	if err := t.intake(ctx); err != nil {
		code := ErrorCodeInternalError
		if !errors.Is(err, ErrClosed) {
			code = ErrorCodeThrottled
		}
		return failAll(code, err)
	}
	for i := range msgs {
		r, code, err := t.publish(ctx, &msgs[i])
		if err != nil {
			res.Entries[i] = PublishResultEntry{ErrorCode: code, ErrorMessage: err.Error()}
			res.FailedEntryCount++
			continue
		}
		res.Entries[i] = PublishResultEntry{MessageID: r.MessageID, SequenceNumber: r.SequenceNumber}
	}
	t.stats.failedPublishEntries.Add(uint64(res.FailedEntryCount))
	return res, nil
}

// Drain waits until every message published before the call — its retries
// and the messages its handlers published with their contexts included —
// has been delivered or dead-lettered; messages published later from
// outside do not hold it up. If ctx ends first, it returns a *[DrainError]
// naming the subscriptions still holding messages. With a handler's
// context it returns an error wrapping [ErrInHandler] at once.
func (t *Topic) Drain(ctx context.Context) error {
	return engineDrain(ctx, t.engine)
}

// Close stops intake, drains, and stops every worker, with the Bus's
// contract (see [Bus.Close] and "Shutdown" in the package documentation):
// from the moment Close begins, Publish returns [ErrClosed] except to the
// cascades of the topic's own handlers; if ctx ends first, messages still
// queued or waiting to retry are dead-lettered with reason "shutdown" and
// Close returns a *[ShutdownError]. Close is idempotent.
func (t *Topic) Close(ctx context.Context) error {
	return engineClose(ctx, t.engine, func() { t.closed.Store(true) })
}
