// Package eda gives a Go program Amazon EventBridge and SNS semantics in
// one process: producers publish events, routers direct them — a Bus with
// rules, JSON event patterns and targets, like EventBridge, and a Topic
// with subscriptions and filter policies, like SNS, both on one delivery
// engine — and consumers react, and may publish more events in turn.
//
// # Tour
//
// Events. An [Event] is EventBridge's envelope — version, id, detail-type,
// source, account, time, region, resources, detail — and its JSON form is
// byte-compatible with EventBridge's, so patterns written for AWS match
// unchanged. [EntrySize] counts an entry's size as PutEvents does.
//
// The Bus. [NewBus] creates an in-process event bus, configured with
// [Option] values ([WithClock], [WithEntrySizeLimit], …). [Bus.PutRule]
// adds or replaces a [Rule]: a name, an event pattern, a state and its
// [Target]s — or, put without targets, keeps the ones it has, as
// EventBridge's PutRule does; [Bus.PutTargets], [Bus.RemoveTargets] and
// [Bus.ListTargetsByRule] manage a rule's targets, and [Bus.Rules] lists
// rules, by name prefix if asked. [HandlerTarget] sends matching events to
// a [Handler], [BusTarget] to another bus (with loop protection); per
// target, [WithInput], [WithInputPath] or [WithInputTransformer] reshape
// what is delivered, exactly as EventBridge's target input does. The
// settings of delivery — [WithRetryPolicy], [WithDeadLetter],
// [WithMiddleware], [WithMaxConcurrency], [WithQueueSize],
// [WithIdleTimeout] — are the same options wherever they are given: to
// NewBus as the defaults of its targets, to a target to override them.
// [Bus.PutEvents] makes EventBridge's checks — on the request as a whole
// (1 to 10 entries, see [WithMaxEntriesPerCall]) and on every entry on its
// own (sizes, lengths, the detail's JSON, sources beginning with "aws.",
// see [WithAWSSources]) — routes the good entries with one match over all rules, and answers per
// entry in EventBridge's vocabulary ([PutEventsResult]).
// [Bus.Drain] waits for delivery, [Bus.Close] shuts down, [Bus.Stats]
// reports EventBridge's metrics, and [Bus.Describe] returns the topology as
// data and as a Mermaid diagram, naming each handler by its function or
// type, or by its own Name method ([Named]).
//
// The Topic. [NewTopic] creates an in-process SNS topic; a name ending in
// ".fifo" makes a FIFO topic. [Topic.Subscribe] adds a [Subscription]: a
// named [Handler] with an optional filter policy ([WithFilterPolicy], on
// the message attributes or on the JSON body, in SNS's dialect and with
// its limits, see [MatchFilterPolicy] and [WithFilterPolicyLimits]),
// receiving SNS's JSON notification ([PayloadNotification]) or, with
// [WithRawDelivery], the body itself ([PayloadMessage]); the delivery
// settings given to NewTopic are the defaults of its subscriptions, and
// given to Subscribe override them. [Subscription.SetFilterPolicy]
// changes a policy while messages flow, and [Subscription.Unsubscribe]
// removes a subscription. [Topic.Publish] validates a [Message] as SNS
// does (a *[MessageError] names what is wrong; [WithMaxMessageSize]) and
// delivers it to every subscription whose policy it passes;
// [Topic.PublishBatch] takes up to ten and answers per message. A FIFO
// topic delivers the messages of a group in order, one at a time, and
// drops a message whose de-duplication id it saw within the window
// ([WithContentBasedDeduplication], [WithDeduplicationWindow]).
// [TopicTarget] makes a topic the target of a Bus rule. [Topic.Stats]
// reports SNS's metrics ([TopicStats]), and [Topic.Describe] the
// subscriptions. Where eda's Topic differs from SNS: subscribers are
// handlers, not endpoints — the JSON notification has the shape of what
// SQS and Lambda subscribers receive, unsigned (Signature, SigningCertURL
// and UnsubscribeURL are empty); subscriptions are named, not ARNs, and
// confirmed at once; de-duplication is topic-wide, across message groups;
// a FIFO topic publishes one message at a time, so that sequence numbers
// and delivery order agree; NumberOfNotificationsFilteredOutInvalidAttributes
// is always zero, since Publish refuses such attributes; a filter policy may
// use wildcard, as an event pattern does (SNS's guide lists no wildcard).
//
// Producers. [Producer] is anything that puts events — a *Bus, or a fake in
// a test ([ProducerFunc]). [NewProducer] binds a Go type to a source and
// detail-type: Put marshals the value as the event's detail. For a topic,
// [Publisher] is anything that publishes messages — a *Topic, or a
// [PublisherFunc] — and [NewPublisher] returns a [TypedPublisher], whose
// Publish marshals the value as the message body.
//
// Patterns. The pattern language is EventBridge's: exact values, prefix,
// suffix, equals-ignore-case, wildcard, anything-but, numeric, exists,
// cidr and $or, across nested objects and arrays. [ParsePattern] compiles
// one pattern and reports an invalid one as a *[PatternError] naming where
// and why; [MatchPattern] is EventBridge's TestEventPattern; a [Matcher]
// compiles many patterns into one structure so that matching an event
// costs what the event's named fields cost, not what the number of
// patterns does. The Bus uses one Matcher for all its rules. A pattern or
// filter policy is a []byte where a function takes one, as the events it
// matches are ([ParsePattern], [MatchPattern], [Matcher.Add], [Explain],
// [WithFilterPolicy], [MatchFilterPolicy]), and a string where a struct
// field holds one, as in EventBridge's and SNS's APIs ([Rule].EventPattern,
// [SubscriptionDescription].FilterPolicy); edatest's assertions, written
// inline in tests like a Rule's EventPattern, take a string.
//
// Consumers. A consumer is a [Handler]: one method, Handle(ctx,
// [Delivery]), with the [HandlerFunc] adapter, shared by both routers.
// [HandlerOf] decodes the payload (for an event, its detail; for a message,
// its body, from a raw delivery or a notification alike) into a Go
// type, and [HandlerOfDelivery] also passes the Delivery (its ID is an
// idempotency key); [Batch] turns a [BatchHandler] into a Handler that receives
// deliveries in batches and retries only the failed items of a
// [BatchError]. An error marked [Permanent] is not retried. What cannot be
// delivered goes to a [DeadLetterHandler] as a [DeadLetter]; a
// [RetryPolicy] says how hard to try first — its zero value is
// EventBridge's default of 185 attempts, and [NoRetries] is a single one.
//
// Middleware. A [Middleware] wraps a Handler; [Chain] composes them, first
// listed outermost. Built in, all of the same shape: [Recover], [Timeout],
// [Retry], [Logging], [Deduplicate], [RateLimit] and [CircuitBreaker]. Set
// them with [WithMiddleware] on a bus or on a target; the bus's run
// outside the target's.
//
// Time. Retries, windows and timestamps read a [Clock]; [SystemClock] is
// the real one, and tests can pass their own to run retries instantly.
//
// Testing. Package github.com/edakit/eda/edatest tests event flows
// in-process, without sleeps: NewBus and NewTopic close the router when
// the test ends and fail it on events left in flight or leaked goroutines,
// a Recorder records deliveries and dead letters, Settle waits until
// everything in flight is delivered or dead-lettered, SettleEvent waits
// for one event and everything it caused but not for other traffic (the
// bus tracks its events, [WithEventTracking], and [Bus.WaitEvent] waits
// for one), SettleMessage does the same for one message published to a
// topic ([Topic.WaitMessage]), a fake Clock runs retries without waiting,
// and AssertDelivered explains a miss with
// [Explain], which says field by field why an event does or does not
// match a pattern. A bubble of testing/synctest, on the real clock, works
// too.
//
// # Delivery contract
//
// Every Bus target and Topic subscription is a destination of one delivery
// engine, with its own bounded queue and its own workers. The rules below
// hold for both routers.
//
// At least once. An accepted event is delivered to each destination until
// its handler returns nil, or it is dead-lettered. A handler that returns
// an error, panics, or calls runtime.Goexit (as t.FailNow does) has failed
// the attempt; the attempt is retried after an exponential backoff with
// full jitter, within the [RetryPolicy]'s attempts and age (by default
// EventBridge's: 185 attempts, 24 hours). The age counts from the event's
// acceptance, on the bus's [Clock], for every event: an attempt that would
// start after it is not made, the event is dead-lettered at once. Duplicates therefore happen only around failures —
// a handler that did its work and then failed, or was cancelled at
// shutdown — never after a success. [Delivery].ID is the same across
// attempts and serves as an idempotency key.
//
// Ordering. None by default: a destination runs up to its maximum
// concurrency of handlers at once (4×GOMAXPROCS unless configured), and a
// retry comes after the deliveries behind it. With a maximum concurrency
// of 1, a destination delivers in the order it accepted events; only a
// retried delivery falls behind the ones accepted after it, since a
// waiting retry does not hold up the queue. A FIFO topic keeps order per
// message group strictly: there a failed delivery is retried before the
// ones behind it in its group, which wait for it.
//
// What blocks, and when. Publishing blocks only while a destination's
// queue is full: the call waits for room until its context ends, then that
// entry fails as throttled (wrapping [ErrFull]). Nothing is dropped
// silently and memory stays bounded by the queue sizes. An entry is queued
// for its destinations one after another, not all or nothing: a throttled
// entry, or one that failed because the router closed during the call, may
// already be queued for some destinations, which deliver it — putting it
// again delivers it there twice, with the same [Delivery].ID when the
// entry was given its ID (see [Bus.PutEvents]). Queues and workers
// are per destination, so a slow or failing consumer never delays another.
// Producers that find a queue full are served in the order they came.
// Workers start on demand, like serverless concurrency, up to the
// destination's maximum concurrency, and stop after an idle period (at
// once when their destination is removed: a deleted rule's targets, an
// unsubscribed subscription, an ended FIFO message group); how
// the engine batches and hands over work is its own business (see
// internal/delivery), bounded by one promise: an event is never held up
// for more than a few milliseconds by a handler that is stuck on another
// event, as long as the destination may run more than one worker.
// A retry waits on a timer of the [Clock], not in a worker.
//
// Re-entrancy. A handler may publish — to the same router or another —
// with the context it was given, or one derived from it. Such a publish
// (a cascade) never waits for room: the engine recognises its handlers'
// contexts and lets their publishes past the bound, into an overflow list
// that workers serve first. So cascades cannot deadlock, even when every
// queue is full; the memory used beyond the bound is limited by what the
// running handlers publish. A handler that publishes with an unrelated
// context, such as context.Background(), gives this up and may block like
// any producer. Dead-letter handlers get the same kind of context.
//
// Context values. A handler's context carries the values of the context
// its event or message was published with — a trace id started at an HTTP
// request, a request-scoped logger — through every hop of a cascade, but
// not that context's cancellation or deadline: the request may end before
// the event is handled, as with context.WithoutCancel. The handler's own
// context is cancelled only when its router shuts down (or by middleware
// such as [Timeout]).
//
// Panics. A panic in a handler is recovered, turned into a *[PanicError]
// carrying the panic value and the stack, and treated like any other
// failure: retried, then dead-lettered. It crashes neither the process
// nor the worker. runtime.Goexit in a handler (or its middleware, or a
// [Batch] handler, which then fails its whole batch) fails the attempt
// the same way; the worker's goroutine ends and another takes its place. A
// dead-letter handler runs on a goroutine of its own: if it panics or calls
// runtime.Goexit, it has failed to take the dead letter, which may then be
// lost — that is logged at Error level and counted
// ([TargetStats].InvocationsFailedToBeSentToDlq, as EventBridge names it;
// [DeliveryStats].DeadLetterFailed), and the event counts as
// dead-lettered all the same.
//
// Failures are logged. A destination logs its first failed attempt ("eda:
// delivery attempt failed", with the destination, the attempt and the
// error), then at most one record every five seconds of its [Clock], which
// counts the failures not logged since; at Warn level unless
// [WithFailureLogLevel] says otherwise. So a handler that keeps failing —
// which, under the default policy, holds its events for a day — is never
// silent.
//
// Dead letters. An event goes to its destination's [DeadLetterHandler]
// when the handler's error was marked [Permanent] ([ReasonPermanent]; a
// [HandlerOf] payload that does not decode is such an error), when every
// attempt failed ([ReasonMaxAttempts]), when it was still failing at the
// policy's maximum age or its next attempt would start after it
// ([ReasonMaxAge]), or at shutdown ([ReasonShutdown]).
// The [DeadLetter] names the router, rule, destination and event, the
// reason, the last error and the number of attempts, and it carries the
// event as the router accepted it ([DeadLetter].Event) — not a target's
// transformed input — as EventBridge's dead-letter queues do. The dead-letter
// handler is called with a context that is never cancelled, even when
// everything else was. Without a dead-letter handler, dead letters are
// logged at Warn level; either way they are counted in the destination's
// [DeliveryStats].
//
// Drain. Drain(ctx) waits for the events accepted before the call — their
// retries, and the events their handlers published with their contexts
// (cascades, transitively) included — to be delivered or dead-lettered.
// Events published later from outside do not hold it up, so it returns
// under continuous load too. If ctx ends first, it returns a *[DrainError]
// that names the destinations still holding those events, how many each,
// and each one's last error.
//
// Shutdown. Close(ctx) stops intake — from the moment it begins, publishes
// fail with [ErrClosed] (a Bus's result then reports every entry failed)
// — and waits until every accepted event, retries and cascades included,
// is delivered or dead-lettered. Cascades of the router's own handlers and
// dead-letter handlers (publishes with the context they were given) are
// still accepted until the last of them has returned, so that what
// accepted events cause is delivered too. Another router's handlers,
// including a [BusTarget] forwarding to a closing bus, are outside
// producers there: refused with ErrClosed, which a BusTarget retries — so
// close the routers upstream first. If ctx ends first, Close cancels the
// handlers' contexts, dead-letters every event still queued or waiting to
// retry with [ReasonShutdown], waits for the running handlers to return
// and for the dead-letter handlers, and returns a *[ShutdownError] that
// counts the dead-lettered events and names the destinations that still
// held events (as a DrainError does). It waits past ctx's end only while
// events keep finishing: after a short grace (100 ms) without progress it
// returns, and the handlers that ignore their context are left running —
// the ShutdownError counts their events as Abandoned, and each is
// delivered or dead-lettered, and its worker exits, when its handler
// returns. Otherwise, when Close returns, every accepted event has been
// delivered or dead-lettered and every worker has stopped. Close is
// idempotent.
//
// Drain and Close from a handler. Called with the context a handler was
// given, or one derived from it, Drain and Close return an error wrapping
// [ErrInHandler] at once — they would wait for that handler itself — and
// Close does not close. The engine recognises a handler only by its
// context: a handler that calls Close with an unrelated context, such as
// context.Background(), waits for itself; with a deadline, Close returns
// at the deadline and the grace, the calling handler counted as
// Abandoned, and without one it never returns.
//
// Why a Delivery is passed by value. The engine builds a [Delivery] for
// every attempt on the worker's stack — the destination's constant fields,
// the attempt number, and the event's fields from the queued item — and
// passes it by value to Handle. A pointer would escape to the heap through
// the interface call and cost an allocation per delivery; a value costs a
// copy of a dozen words and nothing else. The one struct serves both
// routers: Kind says whether Payload holds an EventBridge envelope, a
// target's input, an SNS message or its JSON notification, and the fields
// a router does not use stay empty — so middleware and handlers work
// unchanged on a Bus and a Topic, with no conversion on the hot path. A
// handler may keep the Delivery; it must not modify Payload or
// Attributes, which are shared by all destinations of an event.
package eda
