package eda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastRetry keeps retries to milliseconds in tests.
var fastRetry = RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

// newTestBus returns a bus that is closed when the test ends.
func newTestBus(t testing.TB, name string, opts ...Option) *Bus {
	t.Helper()
	opts = append([]Option{WithRetryPolicy(fastRetry)}, opts...)
	b, err := NewBus(name, opts...)
	require.NoError(t, err, "NewBus")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, b.Close(ctx), "Close")
	})
	return b
}

// recorder is a Handler that records its deliveries.
type recorder struct {
	mu   sync.Mutex
	got  []Delivery
	fail func(d Delivery) error // optional
}

func (r *recorder) Handle(ctx context.Context, d Delivery) error {
	if r.fail != nil {
		if err := r.fail(d); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
	return nil
}

func (r *recorder) deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// dlRecorder is a DeadLetterHandler that records dead letters.
type dlRecorder struct {
	mu  sync.Mutex
	got []DeadLetter
}

func (r *dlRecorder) HandleDeadLetter(_ context.Context, dl DeadLetter) {
	r.mu.Lock()
	r.got = append(r.got, dl)
	r.mu.Unlock()
}

func (r *dlRecorder) letters() []DeadLetter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]DeadLetter(nil), r.got...)
}

func drain(t testing.TB, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.Drain(ctx), "Drain")
}

// putAccepted puts entries on b and requires that the call and every entry
// succeed.
func putAccepted(t testing.TB, b *Bus, entries ...Event) PutEventsResult {
	t.Helper()
	res, err := b.PutEvents(context.Background(), entries...)
	require.NoError(t, err, "PutEvents")
	require.Zero(t, res.FailedEntryCount, "PutEvents: %+v", res)
	return res
}

func mustPutRule(t testing.TB, b *Bus, r Rule) {
	t.Helper()
	require.NoError(t, b.PutRule(r), "PutRule(%s)", r.Name)
}

func orderEvent(id int, total float64) Event {
	return Event{
		Source:     "com.example.orders",
		DetailType: "OrderPlaced",
		Detail:     json.RawMessage(fmt.Sprintf(`{"orderId":%d,"total":%g}`, id, total)),
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewBusValidates(t *testing.T) {
	for _, name := range []string{"", "has space", strings.Repeat("x", 257), "ümlaut"} {
		_, err := NewBus(name)
		assert.ErrorIs(t, err, ErrInvalidBusName, "NewBus(%q)", name)
	}
	for _, name := range []string{"default", "aws.partner/example.com/123/orders", strings.Repeat("x", 256)} {
		b, err := NewBus(name)
		if assert.NoError(t, err, "NewBus(%q)", name) {
			_ = b.Close(context.Background())
		}
	}
	bad := []Option{WithEntrySizeLimit(0), WithQueueSize(-1), WithMaxConcurrency(0), WithMaxHops(0),
		WithClock(nil), WithLogger(nil), WithRetryPolicy(RetryPolicy{MaxAttempts: -1}), WithIdleTimeout(-1)}
	for i, o := range bad {
		_, err := NewBus("b", o)
		assert.Error(t, err, "option %d", i)
	}
}

func TestPutEventsPartialFailure(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "orders", WithEntrySizeLimit(2300))
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "all", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("rec", rec)}})

	good := orderEvent(1, 10)
	entries := []Event{
		good,
		{DetailType: "OrderPlaced", Detail: json.RawMessage(`{}`)},                                                                                                // no source
		{Source: "com.example.orders", Detail: json.RawMessage(`{}`)},                                                                                             // no detail-type
		{Source: "com.example.orders", DetailType: "OrderPlaced"},                                                                                                 // no detail
		{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"a":`)},                                                               // broken JSON
		{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`[1,2]`)},                                                               // not an object
		{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`"text"`)},                                                              // not an object
		{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"pad":"` + strings.Repeat("x", 2300) + `"}`)},                         // too big
		{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"a":` + strings.Repeat("[", 1100) + strings.Repeat("]", 1100) + `}`)}, // too deep
		orderEvent(2, 20),
	}
	res, err := b.PutEvents(context.Background(), entries...)
	require.NoError(t, err, "PutEvents")
	wantCodes := []ErrorCode{"", ErrorCodeInvalidArgument, ErrorCodeInvalidArgument, ErrorCodeInvalidArgument,
		ErrorCodeMalformedDetail, ErrorCodeMalformedDetail, ErrorCodeMalformedDetail, ErrorCodeInvalidArgument,
		ErrorCodeMalformedDetail, ""}
	require.Len(t, res.Entries, len(entries), "one result per entry")
	for i, e := range res.Entries {
		assert.Equal(t, wantCodes[i], e.ErrorCode, "entry %d: code (message %q)", i, e.ErrorMessage)
		assert.Equal(t, e.ErrorCode == "", e.EventID != "", "entry %d: an EventID exactly when accepted: %+v", i, e)
		assert.Equal(t, e.ErrorCode == "", e.ErrorMessage == "", "entry %d: an ErrorMessage exactly when refused: %+v", i, e)
	}
	assert.Equal(t, 8, res.FailedEntryCount, "FailedEntryCount")
	var ee *EntryError
	if assert.ErrorAs(t, res.Err(), &ee, "Err()") {
		assert.Equal(t, 1, ee.Index, "Err() names the first failed entry")
		assert.False(t, ee.Retryable(), "a malformed entry is not retryable")
	}
	drain(t, b)
	got := rec.deliveries()
	require.Len(t, got, 2, "deliveries: the 2 good entries")
	ids := []string{res.Entries[0].EventID, res.Entries[9].EventID}
	for _, d := range got {
		assert.Contains(t, ids, d.ID, "delivered an id of one of the good entries")
	}
	st := b.Stats()
	assert.Equal(t, uint64(1), st.PutEventsRequests, "PutEventsRequests")
	assert.Equal(t, uint64(10), st.PutEventsEntries, "PutEventsEntries")
	assert.Equal(t, uint64(8), st.PutEventsFailedEntries, "PutEventsFailedEntries")
	assert.Equal(t, uint64(2), st.MatchedEvents, "MatchedEvents")
}

func TestPutEventsStampsAcceptedEntries(t *testing.T) {
	b := newTestBus(t, "stamp", WithAccount("123456789012"), WithRegion("eu-west-1"))
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "all", EventPattern: `{"source":[{"prefix":""}]}`, Targets: []Target{HandlerTarget("rec", rec)}})

	entries := []Event{
		orderEvent(1, 1),
		{Source: "s", DetailType: "d", Detail: json.RawMessage(`{}`), ID: "given-id", Account: "999999999999",
			Time: time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC), Resources: []string{"arn:x"}},
	}
	before := time.Now().Add(-time.Second)
	res := putAccepted(t, b, entries...)
	assert.Empty(t, entries[0].ID, "PutEvents changed the caller's entry")
	assert.True(t, entries[0].Time.IsZero(), "PutEvents changed the caller's entry")
	assert.Regexp(t, uuidV4, res.Entries[0].EventID, "stamped id is a UUID v4")
	assert.Equal(t, "given-id", res.Entries[1].EventID, "given id kept")
	drain(t, b)
	byID := map[string]Event{}
	for _, d := range rec.deliveries() {
		assert.Equal(t, PayloadEvent, d.Kind, "delivery metadata %+v", d)
		assert.Equal(t, "stamp", d.Router, "delivery metadata %+v", d)
		assert.Equal(t, "all", d.Rule, "delivery metadata %+v", d)
		assert.Equal(t, "rec", d.Destination, "delivery metadata %+v", d)
		assert.Equal(t, 1, d.Attempt, "delivery metadata %+v", d)
		var e Event
		require.NoError(t, json.Unmarshal(d.Payload, &e), "payload %s", d.Payload)
		byID[e.ID] = e
	}
	e0 := byID[res.Entries[0].EventID]
	assert.Equal(t, "0", e0.Version, "stamped event %+v", e0)
	assert.Equal(t, "123456789012", e0.Account, "stamped event %+v", e0)
	assert.Equal(t, "eu-west-1", e0.Region, "stamped event %+v", e0)
	assert.False(t, e0.Time.Before(before), "stamped event %+v", e0)
	assert.NotNil(t, e0.Resources, "stamped event %+v", e0)
	e1 := byID["given-id"]
	assert.Equal(t, "999999999999", e1.Account, "given fields kept: %+v", e1)
	assert.True(t, e1.Time.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)), "given fields kept: %+v", e1)
	if assert.NotEmpty(t, e1.Resources, "given fields kept: %+v", e1) {
		assert.Equal(t, "arn:x", e1.Resources[0], "given fields kept: %+v", e1)
	}
}

func TestPutEventsAfterClose(t *testing.T) {
	b, err := NewBus("closing")
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, b.Close(ctx), "Close")
	require.NoError(t, b.Close(ctx), "second Close")
	_, err = b.PutEvents(ctx, orderEvent(1, 1))
	assert.ErrorIs(t, err, ErrClosed, "PutEvents after Close")
	assert.ErrorIs(t, b.PutRule(Rule{Name: "r", EventPattern: `{"source":["x"]}`}), ErrClosed, "PutRule after Close")
}

// TestCascadeThreeHops: a handler puts events back into the bus, which
// routes them to the next handler: OrderPlaced → OrderStored → Notified.
func TestCascadeThreeHops(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "cascade", WithQueueSize(1), WithMaxConcurrency(1))
	step := func(next string) Handler {
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			var e Event
			if err := json.Unmarshal(d.Payload, &e); err != nil {
				return Permanent(err)
			}
			res, err := b.PutEvents(ctx, Event{Source: "cascade", DetailType: next, Detail: e.Detail})
			if err != nil {
				return err
			}
			return res.Err()
		})
	}
	last := &recorder{}
	mustPutRule(t, b, Rule{Name: "placed", EventPattern: `{"detail-type":["OrderPlaced"]}`, Targets: []Target{HandlerTarget("store", step("OrderStored"))}})
	mustPutRule(t, b, Rule{Name: "stored", EventPattern: `{"detail-type":["OrderStored"]}`, Targets: []Target{HandlerTarget("notify", step("Notified"))}})
	mustPutRule(t, b, Rule{Name: "notified", EventPattern: `{"detail-type":["Notified"]}`, Targets: []Target{HandlerTarget("last", last)}})

	const n = 50
	for i := range n {
		putAccepted(t, b, orderEvent(i, 1))
	}
	drain(t, b)
	got := last.deliveries()
	require.Len(t, got, n, "events that reached the third hop")
	seen := map[string]bool{}
	for _, d := range got {
		var e Event
		_ = json.Unmarshal(d.Payload, &e)
		seen[string(e.Detail)] = true
	}
	assert.Len(t, seen, n, "distinct details at the third hop")
	for _, r := range []string{"placed", "stored", "notified"} {
		rs, _ := b.Stats().Rule(r)
		assert.Equal(t, uint64(n), rs.MatchedEvents, "rule %s: %+v", r, rs)
		assert.Equal(t, uint64(n), rs.TriggeredRules, "rule %s: %+v", r, rs)
	}
}

// TestCascadeLoopIsStopped: a handler that puts every event back forever is
// stopped by the hop limit.
func TestCascadeLoopIsStopped(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "loop", WithMaxHops(4))
	var calls atomic.Int64
	refused := make(chan PutEventsResultEntry, 1)
	mustPutRule(t, b, Rule{Name: "again", EventPattern: `{"source":["loop"]}`, Targets: []Target{HandlerTarget("again",
		HandlerFunc(func(ctx context.Context, d Delivery) error {
			calls.Add(1)
			res, err := b.PutEvents(ctx, Event{Source: "loop", DetailType: "again", Detail: json.RawMessage(`{}`)})
			if err != nil {
				return err
			}
			if res.FailedEntryCount > 0 {
				refused <- res.Entries[0]
			}
			return nil
		}))}})
	_, err := b.PutEvents(context.Background(), Event{Source: "loop", DetailType: "start", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	drain(t, b)
	assert.Equal(t, int64(5), calls.Load(), "deliveries: hops 0 to 4")
	select {
	case e := <-refused:
		assert.Equal(t, ErrorCodeInvalidArgument, e.ErrorCode, "refusal %+v", e)
		assert.Contains(t, e.ErrorMessage, "hop", "refusal %+v", e)
	default:
		assert.Fail(t, "the fifth put was not refused")
	}
}

// TestCloseUnderLoad: Close while producers put and handlers fail at
// random; every accepted event is delivered or dead-lettered, once, by
// every rule's target. (An entry refused because the bus closed while it
// was being routed may have reached some targets: such extras are allowed,
// but only for refused entries.)
func TestCloseUnderLoad(t *testing.T) {
	leaktest.Test(t)
	dl := &dlRecorder{}
	b, err := NewBus("load", WithQueueSize(64), WithDeadLetter(dl),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}))
	require.NoError(t, err)
	const rules = 2
	var mu sync.Mutex
	delivered := [rules]map[string]int{{}, {}}
	for i := range rules {
		var n atomic.Int64
		mustPutRule(t, b, Rule{Name: fmt.Sprintf("r%d", i), EventPattern: `{"source":["load"]}`, Targets: []Target{HandlerTarget("h",
			HandlerFunc(func(ctx context.Context, d Delivery) error {
				if n.Add(1)%3 == 0 {
					return errors.New("flaky")
				}
				mu.Lock()
				delivered[i][d.ID]++
				mu.Unlock()
				return nil
			}))}})
	}
	var accepted, refused sync.Map // event id / detail → true
	var nAccepted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				id := fmt.Sprintf("p%d-%d", p, i)
				res, err := b.PutEvents(ctx, Event{ID: id, Source: "load", DetailType: "tick", Detail: json.RawMessage(`{}`)})
				cancel()
				if errors.Is(err, ErrClosed) {
					return
				}
				if res.FailedEntryCount == 0 {
					accepted.Store(id, true)
					nAccepted.Add(1)
				} else {
					refused.Store(id, true)
				}
			}
		}()
	}
	// Close once the producers have put a few hundred events, so that it
	// meets full queues and retries in flight.
	require.Eventually(t, func() bool { return nAccepted.Load() >= 300 }, 10*time.Second, time.Millisecond,
		"producers put too few events")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = b.Close(ctx)
	cancel()
	close(stop)
	wg.Wait()
	require.NoError(t, err, "Close")
	require.NotZero(t, nAccepted.Load(), "nothing accepted before Close")
	dead := [rules]map[string]int{{}, {}}
	for _, l := range dl.letters() {
		var i int
		fmt.Sscanf(l.Delivery.Rule, "r%d", &i)
		dead[i][l.Delivery.ID]++
	}
	st := b.Stats()
	for i := range rules {
		accepted.Range(func(k, _ any) bool {
			n := delivered[i][k.(string)] + dead[i][k.(string)]
			assert.Equal(t, 1, n, "rule r%d: accepted event %s delivered or dead-lettered once", i, k)
			return true
		})
		var nd, ndl int
		for _, m := range []map[string]int{delivered[i], dead[i]} {
			for id := range m {
				_, ok := accepted.Load(id)
				_, bad := refused.Load(id)
				assert.True(t, ok || bad, "rule r%d: %s delivered but never put", i, id)
			}
		}
		for _, c := range delivered[i] {
			nd += c
		}
		for _, c := range dead[i] {
			ndl += c
		}
		rs, _ := st.Rule(fmt.Sprintf("r%d", i))
		ts, _ := rs.Target("h")
		assert.Equal(t, uint64(nd), ts.SuccessfulInvocationAttempts, "rule r%d: target stats %+v, counted delivered", i, ts)
		assert.Equal(t, uint64(ndl), ts.DeadLetterInvocations, "rule r%d: target stats %+v, counted dead-lettered", i, ts)
		assert.Zero(t, ts.InFlight, "rule r%d: target stats %+v", i, ts)
	}
	reasons := map[DeadLetterReason]int{}
	for _, l := range dl.letters() {
		reasons[l.Reason]++
	}
	t.Logf("accepted %d events; dead letters by reason: %v", nAccepted.Load(), reasons)
}

func TestDrainWaitsForRetries(t *testing.T) {
	b := newTestBus(t, "drain")
	var attempts atomic.Int64
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{HandlerTarget("flaky",
		HandlerFunc(func(ctx context.Context, d Delivery) error {
			if attempts.Add(1) < 3 {
				return errors.New("not yet")
			}
			return nil
		}))}})
	_, err := b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	drain(t, b)
	assert.Equal(t, int64(3), attempts.Load(), "attempts when Drain returned")
	rs, _ := b.Stats().Rule("r")
	ts, _ := rs.Target("flaky")
	assert.Equal(t, uint64(3), ts.InvocationAttempts, "target stats %+v", ts)
	assert.Equal(t, uint64(2), ts.RetryInvocationAttempts, "target stats %+v", ts)
	assert.Equal(t, uint64(1), ts.Invocations, "target stats %+v", ts)
	assert.Zero(t, ts.FailedInvocations, "target stats %+v", ts)
}

func TestPutEventsThrottlesWhenQueueStaysFull(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "full", WithQueueSize(1), WithMaxConcurrency(1))
	release := make(chan struct{})
	mustPutRule(t, b, Rule{Name: "slow", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{HandlerTarget("slow",
		HandlerFunc(func(ctx context.Context, d Delivery) error { <-release; return nil }))}})
	throttled := 0
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		res, err := b.PutEvents(ctx, orderEvent(i, 1))
		cancel()
		require.NoError(t, err)
		if res.FailedEntryCount == 1 {
			assert.Equal(t, ErrorCodeThrottling, res.Entries[0].ErrorCode, "code")
			throttled++
		}
	}
	close(release)
	assert.NotZero(t, throttled, "no entry throttled with a queue of 1 and a stuck handler")
	drain(t, b)
}

// TestBusWithFakeClock: stamps come from the bus's clock, and retries with
// EventBridge's default policy (185 attempts, backoff up to minutes) run
// at once on an instant clock.
func TestBusWithFakeClock(t *testing.T) {
	leaktest.Test(t)
	t0 := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktest.NewInstant(t0)
	dl := &dlRecorder{}
	b, err := NewBus("clock", WithClock(clk), WithDeadLetter(dl)) // default retry policy
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()); clk.Wait() })
	var attempts atomic.Int64
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{
		HandlerTarget("rec", rec),
		HandlerTarget("never", HandlerFunc(func(ctx context.Context, d Delivery) error {
			attempts.Add(1)
			return errors.New("down")
		})),
	}})
	_, err = b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	drain(t, b)
	got := rec.deliveries()
	require.NotEmpty(t, got, "deliveries")
	var e Event
	require.NoError(t, json.Unmarshal(got[0].Payload, &e), "payload")
	assert.True(t, e.Time.Equal(t0), "stamped time %v, want the clock's %v", e.Time, t0)
	assert.True(t, got[0].Time.Equal(t0), "delivery time %v, want the clock's %v", got[0].Time, t0)
	assert.Equal(t, int64(185), attempts.Load(), "attempts: EventBridge's 185")
	l := dl.letters()
	if assert.Len(t, l, 1, "dead letters %+v", l) {
		assert.Equal(t, ReasonMaxAttempts, l[0].Reason, "dead letter %+v", l[0])
		assert.Equal(t, 185, l[0].Attempts, "dead letter %+v", l[0])
	}
}

// FuzzPutEventsDetail: any detail bytes are accepted exactly when they are
// a JSON object (within the limits), never panic, and an accepted event is
// delivered with that detail.
func FuzzPutEventsDetail(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}]}`, `[]`, `"x"`, `{"a":`, ` {"a":1} `, `{"a":1}{}`, "{\"\xff\":1}", `nul`} {
		f.Add([]byte(s))
	}
	b, err := NewBus("fuzz")
	require.NoError(f, err)
	defer b.Close(context.Background())
	rec := &recorder{}
	require.NoError(f, b.PutRule(Rule{Name: "all", EventPattern: `{"source":["fuzz"]}`, Targets: []Target{HandlerTarget("rec", rec)}}))
	f.Fuzz(func(t *testing.T, detail []byte) {
		res, err := b.PutEvents(context.Background(), Event{Source: "fuzz", DetailType: "d", Detail: detail})
		if len(detail) == 0 {
			// The only entry lacks a detail: EventBridge refuses the call.
			require.ErrorIs(t, err, ErrInvalidRequest)
			return
		}
		require.NoError(t, err)
		var obj map[string]any
		isObject := json.Unmarshal(detail, &obj) == nil && obj != nil
		accepted := res.FailedEntryCount == 0
		require.False(t, accepted && !isObject, "accepted a detail that is not a JSON object: %q", detail)
		require.False(t, !accepted && isObject && res.Entries[0].ErrorCode != ErrorCodeMalformedDetail && len(detail) < DefaultEntrySizeLimit,
			"refused a JSON object: %q: %+v", detail, res.Entries)
	})
}

// TestCloseDeadlineDeadLettersTheRest: when Close's context ends before the
// queues are empty, what is left is dead-lettered with reason "shutdown"
// and Close says how many; still, every accepted event is accounted for.
func TestCloseDeadlineDeadLettersTheRest(t *testing.T) {
	leaktest.Test(t)
	dl := &dlRecorder{}
	b, err := NewBus("deadline", WithDeadLetter(dl), WithQueueSize(1000), WithMaxConcurrency(1))
	require.NoError(t, err)
	var delivered atomic.Int64
	mustPutRule(t, b, Rule{Name: "slow", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{HandlerTarget("slow",
		HandlerFunc(func(ctx context.Context, d Delivery) error {
			select {
			case <-time.After(2 * time.Millisecond):
				delivered.Add(1)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}))}})
	const n = 200
	for i := range n {
		putAccepted(t, b, orderEvent(i, 1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err = b.Close(ctx)
	require.Error(t, err, "Close met its deadline with 200 slow events queued")
	shutdown := 0
	for _, l := range dl.letters() {
		if l.Reason == "shutdown" {
			shutdown++
		}
	}
	var se *ShutdownError
	if assert.ErrorAs(t, err, &se, "Close") {
		assert.Equal(t, shutdown, se.DeadLettered, "ShutdownError.DeadLettered counts the shutdown dead letters")
	}
	assert.NotZero(t, shutdown, "shutdown dead letters")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Close")
	assert.Equal(t, int64(n), delivered.Load()+int64(len(dl.letters())), "delivered %d + dead-lettered %d", delivered.Load(), len(dl.letters()))
	_, err = b.PutEvents(context.Background(), orderEvent(0, 1))
	assert.ErrorIs(t, err, ErrClosed, "PutEvents after Close")
}

// TestBusDefaultDeadLetterIsLoggedAndCounted: without a dead-letter
// handler on the target or the bus, a dead letter is logged on the bus's
// logger with the event id, bus, rule, target, reason, attempts and error,
// and counted in the target's stats.
func TestBusDefaultDeadLetterIsLoggedAndCounted(t *testing.T) {
	leaktest.Test(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	b := newTestBus(t, "quiet", WithLogger(logger))
	failing := HandlerFunc(func(context.Context, Delivery) error { return errors.New("disk full") })
	mustPutRule(t, b, Rule{Name: "store", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("db", failing, WithInputPath("$.detail"))}})
	res := putAccepted(t, b, orderEvent(5, 50))
	drain(t, b)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	require.Equal(t, 1, strings.Count(out, "eda: dead letter"), "dead-letter log lines:\n%s", out)
	for _, want := range []string{
		"level=WARN", "id=" + res.Entries[0].EventID, "router=quiet", "rule=store", "destination=db",
		"reason=max-attempts", fmt.Sprintf("attempts=%d", fastRetry.MaxAttempts), `error="disk full"`,
	} {
		assert.Contains(t, out, want, "log line")
	}
	rs, _ := b.Stats().Rule("store")
	ts, _ := rs.Target("db")
	assert.Equal(t, uint64(1), ts.DeadLetterInvocations, "stats %+v", ts)
	assert.Equal(t, uint64(1), ts.FailedInvocations, "stats %+v", ts)
}
