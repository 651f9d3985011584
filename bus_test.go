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
		if _, err := NewBus(name); !errors.Is(err, ErrInvalidBusName) {
			t.Errorf("NewBus(%q): %v, want ErrInvalidBusName", name, err)
		}
	}
	for _, name := range []string{"default", "aws.partner/example.com/123/orders", strings.Repeat("x", 256)} {
		if b, err := NewBus(name); err != nil {
			t.Errorf("NewBus(%q): %v", name, err)
		} else {
			_ = b.Close(context.Background())
		}
	}
	bad := []Option{WithEntrySizeLimit(0), WithQueueSize(-1), WithMaxConcurrency(0), WithMaxHops(0),
		WithClock(nil), WithLogger(nil), WithRetryPolicy(RetryPolicy{MaxAttempts: -1}), WithIdleTimeout(-1)}
	for i, o := range bad {
		if _, err := NewBus("b", o); err == nil {
			t.Errorf("option %d: no error", i)
		}
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
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	wantCodes := []ErrorCode{"", ErrorCodeInvalidArgument, ErrorCodeInvalidArgument, ErrorCodeInvalidArgument,
		ErrorCodeMalformedDetail, ErrorCodeMalformedDetail, ErrorCodeMalformedDetail, ErrorCodeInvalidArgument,
		ErrorCodeMalformedDetail, ""}
	if len(res.Entries) != len(entries) {
		t.Fatalf("%d results for %d entries", len(res.Entries), len(entries))
	}
	for i, e := range res.Entries {
		if e.ErrorCode != wantCodes[i] {
			t.Errorf("entry %d: code %q (%s), want %q", i, e.ErrorCode, e.ErrorMessage, wantCodes[i])
		}
		if (e.ErrorCode == "") != (e.EventID != "") || (e.ErrorCode == "") != (e.ErrorMessage == "") {
			t.Errorf("entry %d: EventID %q with code %q message %q", i, e.EventID, e.ErrorCode, e.ErrorMessage)
		}
	}
	if res.FailedEntryCount != 8 {
		t.Errorf("FailedEntryCount = %d, want 8", res.FailedEntryCount)
	}
	var ee *EntryError
	if err := res.Err(); !errors.As(err, &ee) || ee.Index != 1 || ee.Retryable() {
		t.Errorf("Err() = %v", err)
	}
	drain(t, b)
	got := rec.deliveries()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want the 2 good entries", len(got))
	}
	ids := map[string]bool{res.Entries[0].EventID: true, res.Entries[9].EventID: true}
	for _, d := range got {
		if !ids[d.ID] {
			t.Errorf("delivered %s, not one of the good entries' ids", d.ID)
		}
	}
	st := b.Stats()
	if st.PutEventsRequests != 1 || st.PutEventsEntries != 10 || st.PutEventsFailedEntries != 8 || st.MatchedEvents != 2 {
		t.Errorf("stats %+v", st)
	}
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
	res, err := b.PutEvents(context.Background(), entries...)
	if err != nil || res.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, res)
	}
	if entries[0].ID != "" || !entries[0].Time.IsZero() {
		t.Error("PutEvents changed the caller's entry")
	}
	if !uuidV4.MatchString(res.Entries[0].EventID) {
		t.Errorf("stamped id %q is not a UUID v4", res.Entries[0].EventID)
	}
	if res.Entries[1].EventID != "given-id" {
		t.Errorf("given id replaced by %q", res.Entries[1].EventID)
	}
	drain(t, b)
	byID := map[string]Event{}
	for _, d := range rec.deliveries() {
		if d.Kind != PayloadEvent || d.Router != "stamp" || d.Rule != "all" || d.Destination != "rec" || d.Attempt != 1 {
			t.Errorf("delivery metadata %+v", d)
		}
		var e Event
		if err := json.Unmarshal(d.Payload, &e); err != nil {
			t.Fatalf("payload %s: %v", d.Payload, err)
		}
		byID[e.ID] = e
	}
	e0 := byID[res.Entries[0].EventID]
	if e0.Version != "0" || e0.Account != "123456789012" || e0.Region != "eu-west-1" || e0.Time.Before(before) || e0.Resources == nil {
		t.Errorf("stamped event %+v", e0)
	}
	e1 := byID["given-id"]
	if e1.Account != "999999999999" || !e1.Time.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) || e1.Resources[0] != "arn:x" {
		t.Errorf("given fields not kept: %+v", e1)
	}
}

func TestPutEventsAfterClose(t *testing.T) {
	b, err := NewBus("closing")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := b.PutEvents(ctx, orderEvent(1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("PutEvents after Close: %v, want ErrClosed", err)
	}
	if err := b.PutRule(Rule{Name: "r", EventPattern: `{"source":["x"]}`}); !errors.Is(err, ErrClosed) {
		t.Errorf("PutRule after Close: %v, want ErrClosed", err)
	}
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
		res, err := b.PutEvents(context.Background(), orderEvent(i, 1))
		if err != nil || res.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, res)
		}
	}
	drain(t, b)
	got := last.deliveries()
	if len(got) != n {
		t.Fatalf("%d events reached the third hop, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, d := range got {
		var e Event
		_ = json.Unmarshal(d.Payload, &e)
		seen[string(e.Detail)] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct details at the third hop, want %d", len(seen), n)
	}
	for _, r := range []string{"placed", "stored", "notified"} {
		rs, _ := b.Stats().Rule(r)
		if rs.MatchedEvents != n || rs.TriggeredRules != n {
			t.Errorf("rule %s: %+v", r, rs)
		}
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
	if _, err := b.PutEvents(context.Background(), Event{Source: "loop", DetailType: "start", Detail: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	if got := calls.Load(); got != 5 { // hops 0..4
		t.Errorf("%d deliveries, want 5 (hops 0 to 4)", got)
	}
	select {
	case e := <-refused:
		if e.ErrorCode != ErrorCodeInvalidArgument || !strings.Contains(e.ErrorMessage, "hop") {
			t.Errorf("refusal %+v", e)
		}
	default:
		t.Error("the fifth put was not refused")
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
	if err != nil {
		t.Fatal(err)
	}
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
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = b.Close(ctx)
	cancel()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	if nAccepted.Load() == 0 {
		t.Fatal("nothing accepted before Close")
	}
	dead := [rules]map[string]int{{}, {}}
	for _, l := range dl.letters() {
		var i int
		fmt.Sscanf(l.Delivery.Rule, "r%d", &i)
		dead[i][l.Delivery.ID]++
	}
	st := b.Stats()
	for i := range rules {
		accepted.Range(func(k, _ any) bool {
			if n := delivered[i][k.(string)] + dead[i][k.(string)]; n != 1 {
				t.Errorf("rule r%d: accepted event %s delivered or dead-lettered %d times", i, k, n)
			}
			return true
		})
		var nd, ndl int
		for _, m := range []map[string]int{delivered[i], dead[i]} {
			for id := range m {
				_, ok := accepted.Load(id)
				_, bad := refused.Load(id)
				if !ok && !bad {
					t.Errorf("rule r%d: %s delivered but never put", i, id)
				}
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
		if ts.SuccessfulInvocationAttempts != uint64(nd) || ts.DeadLetterInvocations != uint64(ndl) || ts.InFlight != 0 {
			t.Errorf("rule r%d: target stats %+v, counted %d delivered, %d dead-lettered", i, ts, nd, ndl)
		}
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
	if _, err := b.PutEvents(context.Background(), orderEvent(1, 1)); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	if attempts.Load() != 3 {
		t.Errorf("%d attempts when Drain returned, want 3", attempts.Load())
	}
	rs, _ := b.Stats().Rule("r")
	ts, _ := rs.Target("flaky")
	if ts.InvocationAttempts != 3 || ts.RetryInvocationAttempts != 2 || ts.Invocations != 1 || ts.FailedInvocations != 0 {
		t.Errorf("target stats %+v", ts)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		if res.FailedEntryCount == 1 {
			if c := res.Entries[0].ErrorCode; c != ErrorCodeThrottling {
				t.Errorf("code %q, want %q", c, ErrorCodeThrottling)
			}
			throttled++
		}
	}
	close(release)
	if throttled == 0 {
		t.Error("no entry throttled with a queue of 1 and a stuck handler")
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
	if _, err := b.PutEvents(context.Background(), orderEvent(1, 1)); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	var e Event
	if err := json.Unmarshal(rec.deliveries()[0].Payload, &e); err != nil || !e.Time.Equal(t0) || !rec.deliveries()[0].Time.Equal(t0) {
		t.Errorf("stamped time %v / delivery time %v, want the clock's %v", e.Time, rec.deliveries()[0].Time, t0)
	}
	if got := attempts.Load(); got != 185 {
		t.Errorf("%d attempts, want EventBridge's 185", got)
	}
	if l := dl.letters(); len(l) != 1 || l[0].Reason != "max-attempts" || l[0].Attempts != 185 {
		t.Errorf("dead letters %+v", l)
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
	if err != nil {
		f.Fatal(err)
	}
	defer b.Close(context.Background())
	rec := &recorder{}
	if err := b.PutRule(Rule{Name: "all", EventPattern: `{"source":["fuzz"]}`, Targets: []Target{HandlerTarget("rec", rec)}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, detail []byte) {
		res, err := b.PutEvents(context.Background(), Event{Source: "fuzz", DetailType: "d", Detail: detail})
		if len(detail) == 0 {
			// The only entry lacks a detail: EventBridge refuses the call.
			require.ErrorIs(t, err, ErrInvalidRequest)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		isObject := json.Unmarshal(detail, &obj) == nil && obj != nil
		accepted := res.FailedEntryCount == 0
		if accepted && !isObject {
			t.Fatalf("accepted a detail that is not a JSON object: %q", detail)
		}
		if !accepted && isObject && res.Entries[0].ErrorCode != ErrorCodeMalformedDetail && len(detail) < DefaultEntrySizeLimit {
			t.Fatalf("refused a JSON object: %q: %+v", detail, res.Entries[0])
		}
	})
}

// TestCloseDeadlineDeadLettersTheRest: when Close's context ends before the
// queues are empty, what is left is dead-lettered with reason "shutdown"
// and Close says how many; still, every accepted event is accounted for.
func TestCloseDeadlineDeadLettersTheRest(t *testing.T) {
	leaktest.Test(t)
	dl := &dlRecorder{}
	b, err := NewBus("deadline", WithDeadLetter(dl), WithQueueSize(1000), WithMaxConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
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
		if res, err := b.PutEvents(context.Background(), orderEvent(i, 1)); err != nil || res.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, res)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err = b.Close(ctx)
	if err == nil {
		t.Fatal("Close met its deadline with 200 slow events queued: want an error")
	}
	shutdown := 0
	for _, l := range dl.letters() {
		if l.Reason == "shutdown" {
			shutdown++
		}
	}
	var se *ShutdownError
	if !errors.As(err, &se) || se.DeadLettered != shutdown || shutdown == 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v; %d shutdown dead letters", err, shutdown)
	}
	if got := delivered.Load() + int64(len(dl.letters())); got != n {
		t.Errorf("delivered %d + dead-lettered %d = %d, want %d", delivered.Load(), len(dl.letters()), got, n)
	}
	if _, err := b.PutEvents(context.Background(), orderEvent(0, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("PutEvents after Close: %v", err)
	}
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
	res, err := b.PutEvents(context.Background(), orderEvent(5, 50))
	if err != nil || res.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, res)
	}
	drain(t, b)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if n := strings.Count(out, "eda: dead letter"); n != 1 {
		t.Fatalf("%d dead-letter log lines, want 1:\n%s", n, out)
	}
	for _, want := range []string{
		"level=WARN", "id=" + res.Entries[0].EventID, "router=quiet", "rule=store", "destination=db",
		"reason=max-attempts", fmt.Sprintf("attempts=%d", fastRetry.MaxAttempts), `error="disk full"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	rs, _ := b.Stats().Rule("store")
	ts, _ := rs.Target("db")
	if ts.DeadLetterInvocations != 1 || ts.FailedInvocations != 1 {
		t.Errorf("stats %+v", ts)
	}
}
