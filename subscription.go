package eda

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/edakit/eda/internal/delivery"
)

// Subscription is one subscriber of a [Topic]: a handler, an optional
// filter policy, and its own queue and workers. It is safe for concurrent
// use.
type Subscription struct {
	name  string
	arn   string
	topic *Topic
	cfg   subscriptionConfig
	h     Handler // with the topic's and the subscription's middleware
	// handlerName names the handler in Describe (see Named).
	handlerName string
	// filter is the current filter policy (nil: none) and its scope, as
	// set; under the topic's routes mutex.
	filter      []byte
	filterScope FilterPolicyScope
	ds          deliverySettings
	raw         bool

	// dest delivers the messages of a standard topic.
	dest *delivery.Destination[*published]
	// A FIFO topic's subscription delivers each message group through a
	// destination of its own, strictly in order, made on the group's first
	// message and retired once the group is idle (see groupDone). Under mu.
	mu     sync.Mutex
	groups map[string]*fifoGroup
	// idle holds the destinations of groups retired while the engine may
	// not have counted their last copy yet; groupsGone sums the counts of
	// those it has (see foldIdle).
	idle       []*delivery.Destination[*published]
	groupsGone delivery.Stats
	retired    bool

	// The counts behind the filtered-out figures (topic_stats.go), under
	// the topic's routes.retireMu: over the settled route tables, the
	// messages routed while the subscription was on the topic (a span
	// from seen.base, open while in) and those of them without attributes
	// while its policy was in attribute scope (noAttrs); refused counts
	// the copies it refused.
	seen, noAttrs filterSpan
	refused       atomic.Uint64
}

// subscriptionConfig is a subscription's settings, set by [Option] values.
type subscriptionConfig struct {
	delivery deliverySettings // overrides of the topic's
	policy   []byte
	scope    FilterPolicyScope
	raw      bool
}

// WithFilterPolicy sets a subscription's filter policy (SNS's FilterPolicy
// and FilterPolicyScope): only the messages that pass it are delivered.
// See [MatchFilterPolicy] for the rules. An invalid policy makes
// [Topic.Subscribe] fail with an error wrapping the *[PatternError]. It
// applies to a subscription only.
func WithFilterPolicy(policy []byte, scope FilterPolicyScope) Option {
	return func(s *settings) error {
		if s.sub == nil {
			return optionError("WithFilterPolicy", "applies to a subscription, not to %s", s.what())
		}
		s.sub.policy, s.sub.scope = append([]byte(nil), policy...), scope
		return nil
	}
}

// WithRawDelivery makes a subscription receive the message body itself
// ([PayloadMessage]), as SNS's RawMessageDelivery does, instead of SNS's
// JSON notification that wraps it ([PayloadNotification]), the default.
// Either way the Delivery carries the message's attributes. It applies to
// a subscription only.
func WithRawDelivery() Option {
	return func(s *settings) error {
		if s.sub == nil {
			return optionError("WithRawDelivery", "applies to a subscription, not to %s", s.what())
		}
		s.sub.raw = true
		return nil
	}
}

// Subscribe adds a subscription named name that delivers the topic's
// messages to h, after the topic's middleware and the subscription's own.
// Options: a filter policy ([WithFilterPolicy]), raw delivery
// ([WithRawDelivery]), and delivery settings that override the topic's
// ([WithRetryPolicy], [WithDeadLetter] — SNS's redrive policy —,
// [WithMaxConcurrency], [WithQueueSize], [WithIdleTimeout],
// [WithMiddleware]). The name is 1 to 64 of [.-_A-Za-z0-9] and unique in
// the topic. The subscription receives the messages published after
// Subscribe returns.
func (t *Topic) Subscribe(name string, h Handler, opts ...Option) (*Subscription, error) {
	if !validName(name) {
		return nil, fmt.Errorf("%w: name %q: use 1 to 64 of [.-_A-Za-z0-9]", ErrInvalidSubscription, name)
	}
	if isNilHandler(h) {
		return nil, fmt.Errorf("%w: %q: nil handler", ErrInvalidSubscription, name)
	}
	s := &Subscription{name: name, topic: t, arn: t.arn + ":" + name, handlerName: handlerName(h)}
	set := settings{delivery: &s.cfg.delivery, sub: &s.cfg}
	if err := set.apply(opts); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalidSubscription, name, err)
	}
	var fp filterPolicy
	if len(s.cfg.policy) > 0 {
		var err error
		if fp, err = compileFilterPolicy(s.cfg.policy, s.cfg.scope, t.cfg.policyLimits); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrInvalidSubscription, name, err)
		}
	}
	s.raw = s.cfg.raw
	s.ds = s.cfg.delivery.over(t.cfg.delivery)
	var err error
	if s.h, err = chainHandler(s.ds.middleware, h); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalidSubscription, name, err)
	}
	if !t.fifo {
		s.dest = s.newDestination(nil)
	}

	t.routes.mu.Lock()
	defer t.routes.mu.Unlock()
	if t.closed.Load() {
		s.retire()
		return nil, ErrClosed
	}
	if t.routes.load().routes.At(name) != nil {
		s.retire()
		return nil, fmt.Errorf("%w: %q: the topic already has a subscription of that name", ErrInvalidSubscription, name)
	}
	s.filter, s.filterScope = s.cfg.policy, s.cfg.scope
	t.routes.apply(routeChange[*Subscription]{id: name, route: s, on: true, p: fp.parsed, scope: policyScope(fp)})
	return s, nil
}

// policyScope returns the route scope of fp: 1 for a body policy, else 0.
func policyScope(fp filterPolicy) int {
	if fp.parsed != nil && fp.scope == ScopeMessageBody {
		return 1
	}
	return 0
}

// newDestination returns a destination of the engine for s: unordered for
// a standard topic (g nil), ordered (one worker; a failed delivery is
// retried before the ones behind it) for the message group g of a FIFO
// topic, telling g when each of its copies is delivered or dead-lettered.
func (s *Subscription) newDestination(g *fifoGroup) *delivery.Destination[*published] {
	t := s.topic
	var retry RetryPolicy
	if s.ds.retry != nil {
		retry = *s.ds.retry
	}
	cfg := destinationConfig[*published]{
		Router:         t.name,
		Name:           s.name,
		Handler:        s.h,
		Fill:           s.fill,
		Event:          func(p *published) []byte { return p.body },
		Ended:          publishedEnded,
		Retry:          retry,
		DeadLetter:     s.ds.deadLetter,
		Logger:         t.cfg.logger,
		QueueSize:      s.ds.queueSize,
		MaxConcurrency: s.ds.maxConcurrency,
		IdleTimeout:    s.ds.idleTimeout,
	}
	if g != nil {
		cfg.Ordered, cfg.MaxConcurrency = true, 1
		// A copy is done when it was delivered (an error or a panic
		// retries it) or dead-lettered: then the group counts it too.
		cfg.Ended = func(p *published) {
			publishedEnded(p)
			s.groupDone(g)
		}
	}
	return newDestination(t.engine, cfg)
}

// publishedEnded counts one copy of p as ended, for its tracker (none
// when the message is not tracked).
func publishedEnded(p *published) { p.track().release() }

// fifoGroup is one message group of a FIFO topic's subscription: its
// ordered destination, and the number of its copies queued or being
// queued and not yet delivered or dead-lettered (under the subscription's
// mu).
type fifoGroup struct {
	id      string
	dest    *delivery.Destination[*published]
	pending int
}

// groupDone records that one copy of g was delivered or dead-lettered, or
// refused. A group left with none is retired: its destination takes no
// more copies, and the group's next message makes a new one. Nothing can
// be lost or overtaken: the count went up, under mu, before the copy was
// offered to the destination, so none is on its way in, and every copy
// before has been handled.
func (s *Subscription) groupDone(g *fifoGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.pending--
	if g.pending > 0 || s.retired || s.groups[g.id] != g {
		return
	}
	delete(s.groups, g.id)
	g.dest.Retire()
	s.idle = append(s.idle, g.dest)
	s.foldIdle()
}

// foldIdle adds the counts of the retired groups' destinations that hold
// nothing any more to groupsGone and forgets them. The caller holds mu.
func (s *Subscription) foldIdle() {
	kept := s.idle[:0]
	for _, d := range s.idle {
		if st := d.Stats(); st.InFlight == 0 {
			st.Workers, st.QueueDepth = 0, 0 // a worker may linger, idle, until it exits
			s.groupsGone = addStats(s.groupsGone, st)
		} else {
			kept = append(kept, d)
		}
	}
	clear(s.idle[len(kept):])
	s.idle = kept
}

// retainedGroups returns the number of message groups the subscription
// holds a destination for, live or retired and not yet forgotten.
func (s *Subscription) retainedGroups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.foldIdle()
	return len(s.groups) + len(s.idle)
}

// fill completes the Delivery of one attempt (or dead letter) of p.
func (s *Subscription) fill(ctx context.Context, p *published, d Delivery) (context.Context, Delivery, error) {
	d.ID, d.Time, d.Attributes, d.GroupID = p.id(), p.time, p.attrs, p.group()
	if s.raw {
		d.Kind, d.Payload = PayloadMessage, p.body
	} else {
		d.Kind, d.Payload = PayloadNotification, p.envelope
	}
	return p.handlerContext(ctx), d, nil
}

// enqueue queues p for the subscription.
func (s *Subscription) enqueue(ctx context.Context, p *published, o delivery.Origin) error {
	if s.dest != nil {
		return s.dest.EnqueueFrom(ctx, p, o)
	}
	s.mu.Lock()
	if s.retired {
		s.mu.Unlock()
		return ErrClosed
	}
	g := s.groups[p.group()]
	if g == nil {
		if s.groups == nil {
			s.groups = make(map[string]*fifoGroup)
		}
		g = &fifoGroup{id: p.group()}
		g.dest = s.newDestination(g)
		s.groups[p.group()] = g
	}
	g.pending++
	s.mu.Unlock()
	err := g.dest.EnqueueFrom(ctx, p, o)
	if err != nil {
		s.groupDone(g)
	}
	return err
}

// subscriptionRetirer retires a subscription that left its topic (the
// route table's retirer).
type subscriptionRetirer struct{ s *Subscription }

// Retire retires the subscription.
func (r subscriptionRetirer) Retire() { r.s.retire() }

// retire stops the subscription's destinations once their queues are
// empty; it is called when the subscription leaves its topic.
func (s *Subscription) retire() {
	if s.dest != nil {
		s.dest.Retire()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retired = true
	for _, g := range s.groups {
		g.dest.Retire()
	}
}

// policy returns the subscription's filter policy (nil: none) and scope.
func (s *Subscription) policy() ([]byte, FilterPolicyScope) {
	s.topic.routes.mu.Lock()
	defer s.topic.routes.mu.Unlock()
	return s.filter, s.filterScope
}

// isRetired reports whether the subscription was retired.
func (s *Subscription) isRetired() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retired
}

// Name returns the subscription's name.
func (s *Subscription) Name() string { return s.name }

// ARN returns the subscription's ARN: the topic's ARN and its name.
func (s *Subscription) ARN() string { return s.arn }

// Topic returns the subscription's topic.
func (s *Subscription) Topic() *Topic { return s.topic }

// SetFilterPolicy replaces the subscription's filter policy, as SNS's
// SetSubscriptionAttributes does, while messages flow: each message is
// filtered by the old policy or the new one, never by a mix of both. An
// empty policy removes the filter. An invalid policy returns an error
// wrapping [ErrInvalidSubscription] and the *[PatternError], and changes
// nothing.
func (s *Subscription) SetFilterPolicy(policy []byte, scope FilterPolicyScope) error {
	t := s.topic
	var fp filterPolicy
	if len(policy) > 0 {
		var err error
		if fp, err = compileFilterPolicy(policy, scope, t.cfg.policyLimits); err != nil {
			return fmt.Errorf("%w: %q: %w", ErrInvalidSubscription, s.name, err)
		}
	}
	t.routes.mu.Lock()
	defer t.routes.mu.Unlock()
	if t.routes.load().routes.At(s.name) != s {
		return fmt.Errorf("%w: %q", ErrSubscriptionNotFound, s.name)
	}
	s.filter, s.filterScope = append([]byte(nil), policy...), scope
	t.routes.apply(routeChange[*Subscription]{id: s.name, route: s, on: true, p: fp.parsed, scope: policyScope(fp)})
	return nil
}

// Unsubscribe removes the subscription from its topic. Messages already
// queued for it are still delivered (or dead-lettered); then its workers
// stop. It returns [ErrSubscriptionNotFound] if it was removed already.
func (s *Subscription) Unsubscribe() error {
	t := s.topic
	t.routes.mu.Lock()
	defer t.routes.mu.Unlock()
	if t.routes.load().routes.At(s.name) != s {
		return fmt.Errorf("%w: %q", ErrSubscriptionNotFound, s.name)
	}
	t.routes.apply(routeChange[*Subscription]{id: s.name, remove: true, retire: []retirer{subscriptionRetirer{s}}})
	t.gone.add(s)
	return nil
}

// Subscription returns the subscription with the given name, or
// [ErrSubscriptionNotFound].
func (t *Topic) Subscription(name string) (*Subscription, error) {
	s := t.routes.load().routes.At(name)
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrSubscriptionNotFound, name)
	}
	return s, nil
}

// Subscriptions returns the topic's subscriptions, sorted by name.
func (t *Topic) Subscriptions() []*Subscription {
	tb := t.routes.load()
	out := make([]*Subscription, 0, tb.routes.Len())
	for _, s := range tb.routes.All() {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Subscription) int { return strings.Compare(a.name, b.name) })
	return out
}
