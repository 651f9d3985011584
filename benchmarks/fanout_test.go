package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	evbus "github.com/asaskevich/EventBus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edakit/eda"
	"github.com/edakit/eda/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

const (
	// messagesPerOp is how many messages one benchmark op publishes.
	messagesPerOp = 1000
	// payloadSize is the size of every message body, in bytes.
	payloadSize = 200
	// topic is the one topic every implementation publishes to.
	topic = "fanout"
	// queueSize is the buffer of each channel of the channel floor: the
	// capacity of a target's queue in eda (its delivery engine's default).
	queueSize = 1024
)

// payload returns a message body of exactly payloadSize bytes, a JSON
// object (a Bus event's detail must be one) that carries seq so a test can
// tell messages apart: {"seq":"000042","pad":"xx…x"}.
func payload(seq int) []byte {
	head := fmt.Sprintf(`{"seq":"%06d","pad":"`, seq)
	return []byte(head + strings.Repeat("x", payloadSize-len(head)-2) + `"}`)
}

// seqOf returns the sequence number that payload wrote into b, or -1. It
// finds it anywhere in b, so it works on eda's deliveries too, which hand
// the subscriber the whole event with the body as its detail.
func seqOf(b []byte) int {
	const key = `{"seq":"`
	i := strings.Index(string(b), key)
	if i < 0 || len(b) < i+len(key)+6 {
		return -1
	}
	n, err := strconv.Atoi(string(b[i+len(key) : i+len(key)+6]))
	if err != nil {
		return -1
	}
	return n
}

// counter is one subscriber's delivery count, alone on its cache line so
// that subscribers running on different cores do not slow each other down.
type counter struct {
	n atomic.Int64
	_ [56]byte
}

// round is what one op waits for: every subscriber's count at want.
type round struct {
	want int64
	left atomic.Int64 // subscribers whose count has not reached want
	done chan struct{}
}

// tally is the subscribers' side of the harness, shared by every
// implementation: each subscriber is a no-op handler that only counts
// what it receives, and the tally signals when every subscriber has
// received every message of the current round.
type tally struct {
	counts []counter
	round  atomic.Pointer[round]
	// seen, when set (tests only), is called with every delivered copy.
	seen func(sub int, body []byte)
}

func newTally(n int) *tally {
	t := &tally{counts: make([]counter, n)}
	r := &round{done: make(chan struct{})}
	close(r.done)
	t.round.Store(r)
	return t
}

// expect starts a round in which every subscriber receives k messages
// more. Call it before publishing them, when the last round is done.
func (t *tally) expect(k int) {
	r := &round{want: t.round.Load().want + int64(k), done: make(chan struct{})}
	r.left.Store(int64(len(t.counts)))
	t.round.Store(r)
}

// deliver is the subscribers' handler: subscriber sub received body.
func (t *tally) deliver(sub int, body []byte) {
	if t.seen != nil {
		t.seen(sub, body)
	}
	n := t.counts[sub].n.Add(1)
	if r := t.round.Load(); n == r.want && r.left.Add(-1) == 0 {
		close(r.done)
	}
}

// wait returns when every subscriber has received every message of the
// round, or with an error when ctx ends first.
func (t *tally) wait(ctx context.Context) error {
	r := t.round.Load()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d of %d subscribers have all %d messages: %w",
			int64(len(t.counts))-r.left.Load(), len(t.counts), r.want, ctx.Err())
	}
}

// check returns an error unless every subscriber received exactly the
// messages of every round so far.
func (t *tally) check() error {
	want := t.round.Load().want
	for i := range t.counts {
		if got := t.counts[i].n.Load(); got != want {
			return fmt.Errorf("subscriber %d received %d messages, want %d", i, got, want)
		}
	}
	return nil
}

// fanout is one implementation under test, behind the steps the benchmark
// and the test take. Adding an implementation is a type with these methods
// and a line in implementations.
type fanout interface {
	// setup subscribes n subscribers to topic; subscriber i hands every
	// message it receives to t.deliver(i, body).
	setup(n int, t *tally) error
	// publish sends one message with body to topic.
	publish(ctx context.Context, body []byte) error
	// wait returns when every subscriber has every message published so
	// far (t.wait, after the implementation's own wait if it has one).
	wait(ctx context.Context) error
	// close releases everything setup started; no goroutine outlives it.
	close(ctx context.Context) error
}

// implementations lists every fan-out under test, in the order in which
// the benchmark runs them for each number of subscribers.
var implementations = []struct {
	name string
	new  func() fanout
}{
	{"direct", func() fanout { return &direct{} }},
	{"channel", func() fanout { return &channels{} }},
	{"eda-bus", func() fanout { return &edaBus{} }},
	{"eda-topic", func() fanout { return &edaTopic{} }},
	{"watermill", func() fanout { return &watermillGoChannel{} }},
	{"watermill-ack", func() fanout { return &watermillGoChannel{blockUntilAck: true} }},
	{"eventbus", func() fanout { return &eventBus{} }},
	{"eventbus-async", func() fanout { return &eventBus{async: true} }},
}

// direct is the floor: publish calls every subscriber's function in turn,
// on the publisher's goroutine.
type direct struct {
	t    *tally
	subs []func(body []byte)
}

func (d *direct) setup(n int, t *tally) error {
	d.t = t
	d.subs = make([]func([]byte), n)
	for i := range d.subs {
		d.subs[i] = func(body []byte) { t.deliver(i, body) }
	}
	return nil
}

func (d *direct) publish(_ context.Context, body []byte) error {
	for _, sub := range d.subs {
		sub(body)
	}
	return nil
}

func (d *direct) wait(ctx context.Context) error { return d.t.wait(ctx) }
func (d *direct) close(context.Context) error    { return nil }

// channels is the other floor: one buffered channel per subscriber, each
// read by a goroutine of its own; no acknowledgement, retry or stats.
type channels struct {
	t     *tally
	chans []chan []byte
	wg    sync.WaitGroup
}

func (c *channels) setup(n int, t *tally) error {
	c.t = t
	c.chans = make([]chan []byte, n)
	for i := range c.chans {
		ch := make(chan []byte, queueSize)
		c.chans[i] = ch
		c.wg.Go(func() {
			for body := range ch {
				t.deliver(i, body)
			}
		})
	}
	return nil
}

func (c *channels) publish(ctx context.Context, body []byte) error {
	for _, ch := range c.chans {
		select {
		case ch <- body:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (c *channels) wait(ctx context.Context) error { return c.t.wait(ctx) }

func (c *channels) close(context.Context) error {
	for _, ch := range c.chans {
		close(ch)
	}
	c.wg.Wait()
	return nil
}

// edaBus measures eda through its Bus until the Topic exists: one rule
// whose pattern matches every event, with one HandlerTarget per
// subscriber — one delivery-engine destination each, as the Topic will
// deliver. Each message is one PutEvents of one event whose detail is the
// body; a subscriber receives the event's JSON (the Bus's default payload).
type edaBus struct {
	t   *tally
	bus *eda.Bus
}

func (e *edaBus) setup(n int, t *tally) error {
	e.t = t
	bus, err := eda.NewBus("fanout")
	if err != nil {
		return err
	}
	e.bus = bus
	targets := make([]eda.Target, n)
	for i := range targets {
		targets[i] = eda.HandlerTarget(fmt.Sprintf("sub-%d", i), eda.HandlerFunc(func(_ context.Context, d eda.Delivery) error {
			t.deliver(i, d.Payload)
			return nil
		}))
	}
	return bus.PutRule(eda.Rule{
		Name:         "everything",
		EventPattern: `{"source": [{"prefix": ""}]}`,
		Targets:      targets,
	})
}

func (e *edaBus) publish(ctx context.Context, body []byte) error {
	res, err := e.bus.PutEvents(ctx, eda.Event{Source: "eda.benchmarks", DetailType: "Message", Detail: body})
	if err != nil {
		return err
	}
	return res.Err()
}

func (e *edaBus) wait(ctx context.Context) error { return e.t.wait(ctx) }

func (e *edaBus) close(ctx context.Context) error {
	if e.bus == nil {
		return nil
	}
	return e.bus.Close(ctx)
}

// edaTopic measures eda through its Topic: one standard topic with one
// subscription per subscriber, with raw delivery (the subscriber receives
// the body itself) and no filter policy — one delivery-engine destination
// each. Each message is one Publish.
type edaTopic struct {
	t     *tally
	topic *eda.Topic
}

func (e *edaTopic) setup(n int, t *tally) error {
	e.t = t
	topic, err := eda.NewTopic(topic)
	if err != nil {
		return err
	}
	e.topic = topic
	for i := range n {
		h := eda.HandlerFunc(func(_ context.Context, d eda.Delivery) error {
			t.deliver(i, d.Payload)
			return nil
		})
		if _, err := topic.Subscribe(fmt.Sprintf("sub-%d", i), h, eda.WithRawDelivery()); err != nil {
			return err
		}
	}
	return nil
}

func (e *edaTopic) publish(ctx context.Context, body []byte) error {
	_, err := e.topic.Publish(ctx, eda.Message{Body: body})
	return err
}

func (e *edaTopic) wait(ctx context.Context) error { return e.t.wait(ctx) }

func (e *edaTopic) close(ctx context.Context) error {
	if e.topic == nil {
		return nil
	}
	return e.topic.Close(ctx)
}

// watermillGoChannel is Watermill's in-process Pub/Sub, used as its
// documentation shows: a new message with a UUID per publish, and one
// goroutine per subscription ranging over its channel and acknowledging
// each message. With blockUntilAck, Publish returns only when every
// subscriber has acknowledged the message.
type watermillGoChannel struct {
	blockUntilAck bool

	t      *tally
	pubSub *gochannel.GoChannel
	wg     sync.WaitGroup
}

func (w *watermillGoChannel) setup(n int, t *tally) error {
	w.t = t
	w.pubSub = gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: w.blockUntilAck}, watermill.NopLogger{})
	for i := range n {
		msgs, err := w.pubSub.Subscribe(context.Background(), topic)
		if err != nil {
			return err
		}
		w.wg.Go(func() {
			for msg := range msgs {
				t.deliver(i, msg.Payload)
				msg.Ack()
			}
		})
	}
	return nil
}

func (w *watermillGoChannel) publish(_ context.Context, body []byte) error {
	return w.pubSub.Publish(topic, message.NewMessage(watermill.NewUUID(), body))
}

func (w *watermillGoChannel) wait(ctx context.Context) error { return w.t.wait(ctx) }

func (w *watermillGoChannel) close(context.Context) error {
	if w.pubSub == nil {
		return nil
	}
	err := w.pubSub.Close() // closes every subscription's channel
	w.wg.Wait()
	return err
}

// eventBus is asaskevich/EventBus: Publish calls every subscriber through
// reflection, on the publisher's goroutine; with async, subscribers are
// subscribed with SubscribeAsync (not transactional: each call runs on a
// goroutine of its own) and wait calls WaitAsync.
type eventBus struct {
	async bool

	t   *tally
	bus evbus.Bus
}

func (e *eventBus) setup(n int, t *tally) error {
	e.t = t
	e.bus = evbus.New()
	for i := range n {
		sub := func(body []byte) { t.deliver(i, body) }
		var err error
		if e.async {
			err = e.bus.SubscribeAsync(topic, sub, false)
		} else {
			err = e.bus.Subscribe(topic, sub)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *eventBus) publish(_ context.Context, body []byte) error {
	e.bus.Publish(topic, body)
	return nil
}

func (e *eventBus) wait(ctx context.Context) error {
	if e.async {
		e.bus.WaitAsync()
	}
	return e.t.wait(ctx)
}

func (e *eventBus) close(context.Context) error {
	if e.bus != nil && e.async {
		e.bus.WaitAsync()
	}
	return nil
}

// testDeadline and benchDeadline bound a test and one run of a benchmark
// function, so that an implementation that loses a message fails instead
// of hanging. One op of the slowest peer at 1,000 subscribers has taken
// 31 s on a loaded machine, and a run has at least two ops.
const (
	testDeadline  = time.Minute
	benchDeadline = 10 * time.Minute
)

// publishRound runs one op: it publishes every body and waits until every
// subscriber has all of them.
func publishRound(ctx context.Context, f fanout, t *tally, bodies [][]byte) error {
	t.expect(len(bodies))
	for _, body := range bodies {
		if err := f.publish(ctx, body); err != nil {
			return err
		}
	}
	return f.wait(ctx)
}

// TestEveryImplementationDeliversEveryMessageOnce runs two benchmark ops
// on every implementation, at 1 and 16 subscribers, and checks that every
// subscriber received each of the 1,000 messages of each op exactly once.
func TestEveryImplementationDeliversEveryMessageOnce(t *testing.T) {
	for _, subscribers := range []int{1, 16} {
		for _, impl := range implementations {
			t.Run(fmt.Sprintf("subs=%d/%s", subscribers, impl.name), func(t *testing.T) {
				const rounds = 2
				bodies := make([][]byte, messagesPerOp)
				for i := range bodies {
					bodies[i] = payload(i)
				}
				// seen[sub][seq] counts the copies of message seq that
				// subscriber sub received, over both rounds.
				seen := make([][]atomic.Int32, subscribers)
				for i := range seen {
					seen[i] = make([]atomic.Int32, messagesPerOp)
				}
				var bad atomic.Int32
				tl := newTally(subscribers)
				tl.seen = func(sub int, body []byte) {
					if seq := seqOf(body); seq >= 0 && seq < messagesPerOp {
						seen[sub][seq].Add(1)
					} else {
						bad.Add(1)
					}
				}
				ctx, cancel := context.WithTimeout(t.Context(), testDeadline)
				defer cancel()
				f := impl.new()
				require.NoError(t, f.setup(subscribers, tl))
				for range rounds {
					require.NoError(t, publishRound(ctx, f, tl, bodies))
				}
				require.NoError(t, f.close(ctx))
				require.NoError(t, tl.check())
				assert.Zero(t, bad.Load(), "deliveries without a message's sequence number")
				for sub := range seen {
					for seq := range seen[sub] {
						if n := seen[sub][seq].Load(); n != rounds {
							t.Fatalf("subscriber %d received message %d %d times, want %d", sub, seq, n, rounds)
						}
					}
				}
			})
		}
	}
}

func TestPayloadIsTheBenchmarksSizeAndCarriesItsSequenceNumber(t *testing.T) {
	for _, seq := range []int{0, 7, 999, 123456} {
		b := payload(seq)
		assert.Len(t, b, payloadSize)
		assert.Equal(t, seq, seqOf(b))
	}
	assert.Equal(t, -1, seqOf([]byte(`{"pad":"x"}`)))
	assert.Equal(t, -1, seqOf([]byte(`{"seq":"12`)))
	assert.Equal(t, -1, seqOf([]byte(`{"seq":"12345x"}`)))
}

func TestTallyWaitReportsHowFarDeliveryGot(t *testing.T) {
	tl := newTally(2)
	tl.expect(3)
	for range 3 {
		tl.deliver(0, nil)
	}
	tl.deliver(1, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := tl.wait(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "1 of 2 subscribers have all 3 messages")
	require.EqualError(t, tl.check(), "subscriber 1 received 1 messages, want 3")
	tl.deliver(1, nil)
	tl.deliver(1, nil)
	require.NoError(t, tl.wait(t.Context()))
	require.NoError(t, tl.check())
}

// BenchmarkFanout publishes 1,000 messages of 200 bytes to one topic per
// op and waits until every subscriber has all of them, for every
// implementation side by side at 1, 16, 256 and 1,000 subscribers with
// no-op handlers. It reports deliveries/s (messages/s × subscribers) and
// allocations per delivered copy (all allocations of the op, publisher's
// and subscribers', divided by messages × subscribers).
//
//	go test -run '^$' -bench . -benchmem -count 5
func BenchmarkFanout(b *testing.B) {
	body := payload(0)
	bodies := make([][]byte, messagesPerOp)
	for i := range bodies {
		bodies[i] = body
	}
	for _, subscribers := range []int{1, 16, 256, 1000} {
		for _, impl := range implementations {
			b.Run(fmt.Sprintf("subs=%d/%s", subscribers, impl.name), func(b *testing.B) {
				benchFanout(b, impl.new(), subscribers, bodies)
			})
		}
	}
}

func benchFanout(b *testing.B, f fanout, subscribers int, bodies [][]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), benchDeadline)
	defer cancel()
	tl := newTally(subscribers)
	// close runs before cancel (deferred later, so run first).
	defer func() {
		if err := f.close(ctx); err != nil {
			b.Error(err)
		}
	}()
	if err := f.setup(subscribers, tl); err != nil {
		b.Fatal(err)
	}
	// One op first, untimed: the implementation starts its goroutines.
	if err := publishRound(ctx, f, tl, bodies); err != nil {
		b.Fatal(err)
	}
	m0 := mallocs()
	b.ResetTimer()
	for range b.N {
		if err := publishRound(ctx, f, tl, bodies); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	allocs := mallocs() - m0
	if err := tl.check(); err != nil {
		b.Fatal(err)
	}
	copies := float64(b.N) * float64(len(bodies)) * float64(subscribers)
	b.ReportMetric(copies/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(allocs)/copies, "allocs/delivery")
}

// mallocs returns the number of heap objects allocated so far.
func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}
