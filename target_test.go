package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
)

// tutorialEvent is the event of the EventBridge input transformer examples
// ("Amazon EventBridge input transformation", Input transform examples).
var tutorialEvent = Event{
	ID:         "7bf73129-1428-4cd3-a780-95db273d1602",
	DetailType: "EC2 Instance State-change Notification",
	Source:     "aws.ec2",
	Account:    "123456789012",
	Time:       time.Date(2015, 11, 11, 21, 29, 54, 0, time.UTC),
	Region:     "us-east-1",
	Resources:  []string{"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"},
	Detail:     json.RawMessage(`{"instance-id":"i-0123456789","state":"RUNNING"}`),
}

var tutorialPaths = map[string]string{
	"timestamp": "$.time",
	"instance":  "$.detail.instance-id",
	"state":     "$.detail.state",
}

// TestTargetInputModes runs each input mode end to end: PutRule validates,
// PutEvents routes, the handler receives the payload.
func TestTargetInputModes(t *testing.T) {
	wholeEvent := string(tutorialEvent.AppendJSON(nil))
	cases := []struct {
		name     string
		opt      Option
		wantKind PayloadKind
		want     string
	}{
		{"whole event", nil, PayloadEvent, wholeEvent},
		{"constant input", WithInput(`{"hello":"world"}`), PayloadInput, `{"hello":"world"}`},
		{"input path detail", WithInputPath("$.detail"), PayloadInput, `{"instance-id":"i-0123456789","state":"RUNNING"}`},
		{"input path leaf", WithInputPath("$.detail.state"), PayloadInput, `"RUNNING"`},
		{"input path missing", WithInputPath("$.detail.nope"), PayloadInput, ``},
		// The rows of the docs' "Input transform examples" table.
		{"transformer: simple string", WithInputTransformer(InputTransformer{tutorialPaths, `"instance <instance> is in <state>"`}),
			PayloadInput, `"instance i-0123456789 is in RUNNING"`},
		{"transformer: escaped quotes", WithInputTransformer(InputTransformer{tutorialPaths, `"instance \"<instance>\" is in <state>"`}),
			PayloadInput, `"instance \"i-0123456789\" is in RUNNING"`},
		{"transformer: simple JSON", WithInputTransformer(InputTransformer{tutorialPaths, "{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}"}),
			PayloadInput, `{"instance":"i-0123456789","state":"RUNNING"}`},
		{"transformer: JSON with strings and variables", WithInputTransformer(InputTransformer{tutorialPaths,
			`{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}`}),
			PayloadInput, `{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"}`},
		{"transformer: mixed static", WithInputTransformer(InputTransformer{tutorialPaths,
			`{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}`}),
			PayloadInput, `{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}`},
		{"transformer: reserved variables in a string", WithInputTransformer(InputTransformer{tutorialPaths, `"<aws.events.rule-name> triggered"`}),
			PayloadInput, `"example triggered"`},
		{"transformer: reserved variables in JSON", WithInputTransformer(InputTransformer{tutorialPaths,
			`{"instance": <instance>, "ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>}`}),
			PayloadInput, `{"instance":"i-0123456789","ruleArn":"arn:aws:events:us-east-1:123456789012:rule/tx/example","ruleName":"example"}`},
		{"transformer: log group", WithInputTransformer(InputTransformer{tutorialPaths,
			`{"timestamp" : <timestamp>, "message": "instance \"<instance>\" is in <state>"}`}),
			PayloadInput, `{"timestamp":"2015-11-11T21:29:54Z","message":"instance \"i-0123456789\" is in RUNNING"}`},
		// API reference, InputTransformer.InputTemplate: plain text.
		{"transformer: plain text", WithInputTransformer(InputTransformer{tutorialPaths, `<instance> is in state <state>`}),
			PayloadInput, `i-0123456789 is in state RUNNING`},
		{"transformer: whole event json", WithInputTransformer(InputTransformer{nil, `{"e": <aws.events.event.json>}`}),
			PayloadInput, `{"e":` + wholeEvent + `}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBus(t, "tx", WithAccount("123456789012"), WithAWSSources())
			rec := &recorder{}
			var opts []Option
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			mustPutRule(t, b, Rule{Name: "example", EventPattern: `{"source":["aws.ec2"]}`, Targets: []Target{HandlerTarget("t", rec, opts...)}})
			res, err := b.PutEvents(context.Background(), tutorialEvent)
			if err != nil || res.FailedEntryCount != 0 {
				t.Fatalf("PutEvents: %v %+v", err, res)
			}
			drain(t, b)
			got := rec.deliveries()
			if len(got) != 1 {
				t.Fatalf("%d deliveries", len(got))
			}
			if got[0].Kind != tc.wantKind {
				t.Errorf("kind %v, want %v", got[0].Kind, tc.wantKind)
			}
			if string(got[0].Payload) != tc.want {
				t.Errorf("payload\n got %s\nwant %s", got[0].Payload, tc.want)
			}
		})
	}
}

func TestTargetIngestionTimeVariable(t *testing.T) {
	b := newTestBus(t, "ingest", WithAWSSources())
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["aws.ec2"]}`, Targets: []Target{HandlerTarget("t", rec,
		WithInputTransformer(InputTransformer{InputTemplate: `{"at": <aws.events.event.ingestion-time>}`}))}})
	before := time.Now().Add(-time.Second)
	if _, err := b.PutEvents(context.Background(), tutorialEvent); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	var out struct{ At time.Time }
	if err := json.Unmarshal(rec.deliveries()[0].Payload, &out); err != nil {
		t.Fatalf("payload %s: %v", rec.deliveries()[0].Payload, err)
	}
	if out.At.Before(before) || out.At.After(time.Now().Add(time.Second)) {
		t.Errorf("ingestion time %v is not the time of PutEvents", out.At)
	}
}

func TestTargetRetryAndDeadLetter(t *testing.T) {
	leaktest.Test(t)
	busDL, targetDL := &dlRecorder{}, &dlRecorder{}
	b := newTestBus(t, "retry", WithDeadLetter(busDL))
	attempts := map[string]int{}
	var mu sync.Mutex
	count := func(id string) int {
		mu.Lock()
		defer mu.Unlock()
		attempts[id]++
		return attempts[id]
	}
	flaky := HandlerFunc(func(ctx context.Context, d Delivery) error {
		if n := count("flaky"); n < 3 {
			return fmt.Errorf("attempt %d fails", n)
		}
		return nil
	})
	broken := HandlerFunc(func(ctx context.Context, d Delivery) error {
		count("broken")
		return errors.New("always")
	})
	permanent := HandlerFunc(func(ctx context.Context, d Delivery) error {
		count("permanent")
		return Permanent(errors.New("bad input"))
	})
	panics := HandlerFunc(func(ctx context.Context, d Delivery) error {
		count("panics")
		panic("boom")
	})
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{
		HandlerTarget("flaky", flaky),
		HandlerTarget("broken", broken, WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}), WithDeadLetter(targetDL)),
		HandlerTarget("permanent", permanent),
		HandlerTarget("panics", panics, WithRetryPolicy(RetryPolicy{MaxAttempts: 1})),
	}})
	res, err := b.PutEvents(context.Background(), orderEvent(7, 70))
	if err != nil || res.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, res)
	}
	drain(t, b)

	mu.Lock()
	if attempts["flaky"] != 3 || attempts["broken"] != 2 || attempts["permanent"] != 1 || attempts["panics"] != 1 {
		t.Errorf("attempts %v", attempts)
	}
	mu.Unlock()
	tl := targetDL.letters()
	if len(tl) != 1 || tl[0].Reason != "max-attempts" || tl[0].Attempts != 2 || tl[0].Delivery.Destination != "broken" {
		t.Fatalf("target dead letters %+v", tl)
	}
	// The dead letter carries the original event, like an EventBridge DLQ.
	var e Event
	if err := json.Unmarshal(tl[0].Delivery.Payload, &e); err != nil || e.ID != res.Entries[0].EventID || tl[0].Delivery.Kind != PayloadEvent {
		t.Errorf("dead letter payload %s (%v)", tl[0].Delivery.Payload, err)
	}
	bl := busDL.letters()
	reasons := map[string]DeadLetterReason{}
	for _, l := range bl {
		reasons[l.Delivery.Destination] = l.Reason
		if l.Err == nil || l.Delivery.Rule != "r" || l.Delivery.Router != "retry" {
			t.Errorf("bus dead letter %+v", l)
		}
	}
	if reasons["permanent"] != "permanent-error" || reasons["panics"] != "max-attempts" || len(bl) != 2 {
		t.Errorf("bus dead letters: %v", reasons)
	}
	st, _ := b.Stats().Rule("r")
	fl, _ := st.Target("flaky")
	br, _ := st.Target("broken")
	if fl.RetryInvocationAttempts != 2 || fl.Invocations != 1 || fl.FailedInvocations != 0 || fl.SuccessfulInvocationAttempts != 1 {
		t.Errorf("flaky stats %+v", fl)
	}
	if br.InvocationAttempts != 2 || br.FailedInvocations != 1 || br.DeadLetterInvocations != 1 {
		t.Errorf("broken stats %+v", br)
	}
}

func TestTargetMiddlewareOrder(t *testing.T) {
	var mu sync.Mutex
	var trace []string
	mw := func(name string) Middleware {
		return func(next Handler) Handler {
			return HandlerFunc(func(ctx context.Context, d Delivery) error {
				mu.Lock()
				trace = append(trace, name)
				mu.Unlock()
				return next.Handle(ctx, d)
			})
		}
	}
	b := newTestBus(t, "mw", WithMiddleware(mw("bus1"), mw("bus2")))
	h := HandlerFunc(func(ctx context.Context, d Delivery) error {
		mu.Lock()
		trace = append(trace, "handler")
		mu.Unlock()
		return nil
	})
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("t", h, WithMiddleware(mw("target1"), mw("target2")))}})
	if _, err := b.PutEvents(context.Background(), orderEvent(1, 1)); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	if got := strings.Join(trace, ","); got != "bus1,bus2,target1,target2,handler" {
		t.Errorf("order %s", got)
	}
}

func TestTargetMaxConcurrencyOneKeepsOrder(t *testing.T) {
	b := newTestBus(t, "order")
	var mu sync.Mutex
	var got []int
	var inFlight, maxInFlight int
	h := HandlerFunc(func(ctx context.Context, d Delivery) error {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		var e Event
		_ = json.Unmarshal(d.Payload, &e)
		var detail struct{ OrderID int }
		_ = json.Unmarshal(e.Detail, &detail)
		time.Sleep(50 * time.Microsecond)
		mu.Lock()
		got = append(got, detail.OrderID)
		inFlight--
		mu.Unlock()
		return nil
	})
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("serial", h, WithMaxConcurrency(1))}})
	const n = 200
	for i := range n {
		if _, err := b.PutEvents(context.Background(), orderEvent(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, b)
	if maxInFlight != 1 {
		t.Errorf("%d deliveries at once with max concurrency 1", maxInFlight)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("delivery %d is order %d: not in order", i, v)
		}
	}
	if len(got) != n {
		t.Errorf("%d deliveries, want %d", len(got), n)
	}
}

func TestBusTargetForwardsUnchanged(t *testing.T) {
	leaktest.Test(t)
	src := newTestBus(t, "source-bus")
	dst := newTestBus(t, "central")
	rec := &recorder{}
	mustPutRule(t, src, Rule{Name: "forward", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{BusTarget("to-central", dst)}})
	mustPutRule(t, dst, Rule{Name: "audit", EventPattern: `{"detail-type":["OrderPlaced"]}`, Targets: []Target{HandlerTarget("audit", rec)}})
	res, err := src.PutEvents(context.Background(), orderEvent(1, 99))
	if err != nil || res.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, res)
	}
	drain(t, src)
	drain(t, dst)
	got := rec.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries on the central bus", len(got))
	}
	var e Event
	if err := json.Unmarshal(got[0].Payload, &e); err != nil {
		t.Fatal(err)
	}
	if e.ID != res.Entries[0].EventID || got[0].Router != "central" || string(e.Detail) != `{"orderId":1,"total":99}` {
		t.Errorf("forwarded event %+v via %s", e, got[0].Router)
	}
}

// TestBusTargetLoopIsStopped: two buses that forward to each other stop at
// the hop limit; the refused event is dead-lettered, nothing spins.
func TestBusTargetLoopIsStopped(t *testing.T) {
	leaktest.Test(t)
	dl := &dlRecorder{}
	a := newTestBus(t, "ping", WithMaxHops(5), WithDeadLetter(dl))
	b := newTestBus(t, "pong", WithMaxHops(5), WithDeadLetter(dl))
	mustPutRule(t, a, Rule{Name: "to-pong", EventPattern: `{"source":["loop"]}`, Targets: []Target{BusTarget("pong", b)}})
	mustPutRule(t, b, Rule{Name: "to-ping", EventPattern: `{"source":["loop"]}`, Targets: []Target{BusTarget("ping", a)}})
	if _, err := a.PutEvents(context.Background(), Event{Source: "loop", DetailType: "x", Detail: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(dl.letters()) == 0 && time.Now().Before(deadline) {
		drain(t, a)
		drain(t, b)
		time.Sleep(time.Millisecond)
	}
	letters := dl.letters()
	if len(letters) != 1 {
		t.Fatalf("%d dead letters, want 1", len(letters))
	}
	if l := letters[0]; l.Reason != "permanent-error" || !strings.Contains(l.Err.Error(), "hop") {
		t.Errorf("dead letter %s: %v", l.Reason, l.Err)
	}
	sa, sb := a.Stats(), b.Stats()
	if total := sa.PutEventsEntries + sb.PutEventsEntries; total != 7 { // hop 0..5 accepted, hop 6 refused
		t.Errorf("%d entries put across both buses, want 7", total)
	}
}

// TestTargetDeadLetterCarriesTheOriginalEvent: the dead letter of a target
// with an input transformer holds the transformed input as the attempted
// Delivery, and the event itself as Event, like an EventBridge DLQ.
func TestTargetDeadLetterCarriesTheOriginalEvent(t *testing.T) {
	leaktest.Test(t)
	dl := &dlRecorder{}
	b := newTestBus(t, "dlq")
	failing := HandlerFunc(func(context.Context, Delivery) error { return errors.New("down") })
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{
		HandlerTarget("transformed", failing, WithDeadLetter(dl), WithInputTransformer(InputTransformer{
			InputPathsMap: map[string]string{"id": "$.detail.orderId"},
			InputTemplate: `{"order": <id>}`,
		})),
		HandlerTarget("whole", failing, WithDeadLetter(dl)),
	}})
	res, err := b.PutEvents(context.Background(), orderEvent(42, 10))
	if err != nil || res.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, res)
	}
	drain(t, b)
	byTarget := map[string]DeadLetter{}
	for _, l := range dl.letters() {
		byTarget[l.Delivery.Destination] = l
	}
	if len(byTarget) != 2 {
		t.Fatalf("dead letters %+v", dl.letters())
	}
	tr, whole := byTarget["transformed"], byTarget["whole"]
	if string(tr.Delivery.Payload) != `{"order":42}` || tr.Delivery.Kind != PayloadInput {
		t.Errorf("transformed dead letter's delivery: %s %v", tr.Delivery.Payload, tr.Delivery.Kind)
	}
	for name, l := range byTarget {
		var e Event
		if err := json.Unmarshal(l.Event, &e); err != nil {
			t.Fatalf("%s: Event %s: %v", name, l.Event, err)
		}
		if e.ID != res.Entries[0].EventID || l.Delivery.ID != e.ID || e.DetailType != "OrderPlaced" || string(e.Detail) != `{"orderId":42,"total":10}` {
			t.Errorf("%s: dead letter event %s, delivery id %s", name, l.Event, l.Delivery.ID)
		}
		if l.Reason != ReasonMaxAttempts || l.Attempts != fastRetry.MaxAttempts || l.Delivery.Rule != "r" || l.Delivery.Router != "dlq" {
			t.Errorf("%s: dead letter %+v", name, l)
		}
	}
	if string(whole.Event) != string(whole.Delivery.Payload) {
		t.Errorf("whole-event target: Event %s differs from the payload %s", whole.Event, whole.Delivery.Payload)
	}
}

// TestTargetInputFailureIsDeadLetteredWithTheEvent: when a target's input
// cannot be computed, the event is dead-lettered at once (permanent) with
// its id, bus, rule, target and the event itself, and a handler of the
// dead letter sees the event's hop count.
func TestTargetInputFailureIsDeadLetteredWithTheEvent(t *testing.T) {
	leaktest.Test(t)
	e := newEngine(nil, nil)
	defer func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	var called int
	var mu sync.Mutex
	rt := &targetRuntime{bus: new(Bus), id: "t", rule: "r", kind: PayloadInput,
		input: func(routed, *targetRuntime) ([]byte, error) { return nil, errors.New("no such field") }}
	type seen struct {
		dl   DeadLetter
		hops int
	}
	got := make(chan seen, 1)
	rt.dest = newDestination(e, destinationConfig[routed]{
		Router: "bus", Rule: "r", Name: "t",
		Handler: HandlerFunc(func(context.Context, Delivery) error {
			mu.Lock()
			called++
			mu.Unlock()
			return nil
		}),
		Fill:  rt.fill,
		Event: routedEvent,
		DeadLetter: DeadLetterFunc(func(ctx context.Context, dl DeadLetter) {
			got <- seen{dl, hopsFrom(ctx)}
		}),
	})
	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	ev := routed{id: "e-1", accepted: at, raw: []byte(`{"id":"e-1"}`), hops: 2}
	if err := rt.dest.Enqueue(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	s := <-got
	want := Delivery{ID: "e-1", Router: "bus", Rule: "r", Destination: "t", Attempt: 1, Time: at, Kind: PayloadInput}
	if !reflect.DeepEqual(s.dl.Delivery, want) {
		t.Errorf("delivery %+v, want %+v", s.dl.Delivery, want)
	}
	if string(s.dl.Event) != `{"id":"e-1"}` || s.dl.Reason != ReasonPermanent || s.dl.Attempts != 1 ||
		!IsPermanent(s.dl.Err) || !strings.Contains(s.dl.Err.Error(), "no such field") {
		t.Errorf("dead letter %+v (event %s)", s.dl, s.dl.Event)
	}
	if s.hops != 2 {
		t.Errorf("dead-letter context at hop %d, want 2", s.hops)
	}
	mu.Lock()
	defer mu.Unlock()
	if called != 0 {
		t.Errorf("handler called %d times", called)
	}
}

// TestTargetInputPathSelectingNothing: an InputPath that selects nothing
// delivers an empty payload (EventBridge documents no behaviour for it);
// a typed handler cannot decode that, so the event is dead-lettered at
// once, with the event itself.
func TestTargetInputPathSelectingNothing(t *testing.T) {
	leaktest.Test(t)
	dl := &dlRecorder{}
	b := newTestBus(t, "absent", WithDeadLetter(dl))
	raw := &recorder{}
	typedCalls := 0
	var mu sync.Mutex
	typed := HandlerOf(func(ctx context.Context, v struct{ State string }) error {
		mu.Lock()
		typedCalls++
		mu.Unlock()
		return nil
	})
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{
		HandlerTarget("raw", raw, WithInputPath("$.detail.state")),
		HandlerTarget("typed", typed, WithInputPath("$.detail.state")),
	}})
	res, err := b.PutEvents(context.Background(), orderEvent(1, 1))
	if err != nil || res.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, res)
	}
	drain(t, b)
	got := raw.deliveries()
	if len(got) != 1 || got[0].Payload != nil || got[0].Kind != PayloadInput {
		t.Fatalf("raw deliveries %+v", got)
	}
	mu.Lock()
	if typedCalls != 0 {
		t.Errorf("typed handler called %d times", typedCalls)
	}
	mu.Unlock()
	letters := dl.letters()
	if len(letters) != 1 {
		t.Fatalf("dead letters %+v", letters)
	}
	l := letters[0]
	if l.Delivery.Destination != "typed" || l.Reason != ReasonPermanent || l.Attempts != 1 || !errors.Is(l.Err, ErrDecode) {
		t.Errorf("dead letter %+v", l)
	}
	if !strings.Contains(string(l.Event), `"id":"`+res.Entries[0].EventID+`"`) {
		t.Errorf("dead letter event %s", l.Event)
	}
}
