package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			putAccepted(t, b, tutorialEvent)
			drain(t, b)
			got := rec.deliveries()
			require.Len(t, got, 1, "deliveries")
			assert.Equal(t, tc.wantKind, got[0].Kind, "kind")
			assert.Equal(t, tc.want, string(got[0].Payload), "payload")
		})
	}
}

func TestTargetIngestionTimeVariable(t *testing.T) {
	b := newTestBus(t, "ingest", WithAWSSources())
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["aws.ec2"]}`, Targets: []Target{HandlerTarget("t", rec,
		WithInputTransformer(InputTransformer{InputTemplate: `{"at": <aws.events.event.ingestion-time>}`}))}})
	before := time.Now().Add(-time.Second)
	_, err := b.PutEvents(context.Background(), tutorialEvent)
	require.NoError(t, err)
	drain(t, b)
	got := rec.deliveries()
	require.Len(t, got, 1, "deliveries")
	var out struct{ At time.Time }
	require.NoError(t, json.Unmarshal(got[0].Payload, &out), "payload %s", got[0].Payload)
	assert.False(t, out.At.Before(before) || out.At.After(time.Now().Add(time.Second)), "ingestion time %v is not the time of PutEvents", out.At)
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
	res := putAccepted(t, b, orderEvent(7, 70))
	drain(t, b)

	mu.Lock()
	assert.Equal(t, map[string]int{"flaky": 3, "broken": 2, "permanent": 1, "panics": 1}, attempts, "attempts")
	mu.Unlock()
	tl := targetDL.letters()
	require.Len(t, tl, 1, "target dead letters %+v", tl)
	require.Equal(t, ReasonMaxAttempts, tl[0].Reason, "target dead letter %+v", tl[0])
	require.Equal(t, 2, tl[0].Attempts, "target dead letter %+v", tl[0])
	require.Equal(t, "broken", tl[0].Delivery.Destination, "target dead letter %+v", tl[0])
	// The dead letter carries the original event, like an EventBridge DLQ.
	var e Event
	if assert.NoError(t, json.Unmarshal(tl[0].Delivery.Payload, &e), "dead letter payload %s", tl[0].Delivery.Payload) {
		assert.Equal(t, res.Entries[0].EventID, e.ID, "dead letter payload %s", tl[0].Delivery.Payload)
	}
	assert.Equal(t, PayloadEvent, tl[0].Delivery.Kind, "dead letter payload kind")
	bl := busDL.letters()
	reasons := map[string]DeadLetterReason{}
	for _, l := range bl {
		reasons[l.Delivery.Destination] = l.Reason
		assert.Error(t, l.Err, "bus dead letter %+v", l)
		assert.Equal(t, "r", l.Delivery.Rule, "bus dead letter %+v", l)
		assert.Equal(t, "retry", l.Delivery.Router, "bus dead letter %+v", l)
	}
	assert.Equal(t, map[string]DeadLetterReason{"permanent": ReasonPermanent, "panics": ReasonMaxAttempts}, reasons, "bus dead letters")
	assert.Len(t, bl, 2, "bus dead letters")
	st, _ := b.Stats().Rule("r")
	fl, _ := st.Target("flaky")
	br, _ := st.Target("broken")
	assert.Equal(t, uint64(2), fl.RetryInvocationAttempts, "flaky stats %+v", fl)
	assert.Equal(t, uint64(1), fl.Invocations, "flaky stats %+v", fl)
	assert.Zero(t, fl.FailedInvocations, "flaky stats %+v", fl)
	assert.Equal(t, uint64(1), fl.SuccessfulInvocationAttempts, "flaky stats %+v", fl)
	assert.Equal(t, uint64(2), br.InvocationAttempts, "broken stats %+v", br)
	assert.Equal(t, uint64(1), br.FailedInvocations, "broken stats %+v", br)
	assert.Equal(t, uint64(1), br.DeadLetterInvocations, "broken stats %+v", br)
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
	_, err := b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	drain(t, b)
	assert.Equal(t, []string{"bus1", "bus2", "target1", "target2", "handler"}, trace, "order")
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
		_, err := b.PutEvents(context.Background(), orderEvent(i, 1))
		require.NoError(t, err)
	}
	drain(t, b)
	assert.Equal(t, 1, maxInFlight, "deliveries at once with max concurrency 1")
	for i, v := range got {
		require.Equal(t, i, v, "delivery %d: in order", i)
	}
	assert.Len(t, got, n, "deliveries")
}

func TestBusTargetForwardsUnchanged(t *testing.T) {
	leaktest.Test(t)
	src := newTestBus(t, "source-bus")
	dst := newTestBus(t, "central")
	rec := &recorder{}
	mustPutRule(t, src, Rule{Name: "forward", EventPattern: `{"source":["com.example.orders"]}`, Targets: []Target{BusTarget("to-central", dst)}})
	mustPutRule(t, dst, Rule{Name: "audit", EventPattern: `{"detail-type":["OrderPlaced"]}`, Targets: []Target{HandlerTarget("audit", rec)}})
	res := putAccepted(t, src, orderEvent(1, 99))
	drain(t, src)
	drain(t, dst)
	got := rec.deliveries()
	require.Len(t, got, 1, "deliveries on the central bus")
	var e Event
	require.NoError(t, json.Unmarshal(got[0].Payload, &e))
	assert.Equal(t, res.Entries[0].EventID, e.ID, "forwarded event %+v", e)
	assert.Equal(t, "central", got[0].Router, "forwarded event's router")
	assert.Equal(t, `{"orderId":1,"total":99}`, string(e.Detail), "forwarded event's detail")
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
	_, err := a.PutEvents(context.Background(), Event{Source: "loop", DetailType: "x", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for len(dl.letters()) == 0 && time.Now().Before(deadline) {
		drain(t, a)
		drain(t, b)
		time.Sleep(time.Millisecond)
	}
	letters := dl.letters()
	require.Len(t, letters, 1, "dead letters")
	l := letters[0]
	assert.Equal(t, ReasonPermanent, l.Reason, "dead letter reason")
	assert.ErrorContains(t, l.Err, "hop", "dead letter error")
	sa, sb := a.Stats(), b.Stats()
	// hop 0..5 accepted, hop 6 refused
	assert.Equal(t, uint64(7), sa.PutEventsEntries+sb.PutEventsEntries, "entries put across both buses")
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
	res := putAccepted(t, b, orderEvent(42, 10))
	drain(t, b)
	byTarget := map[string]DeadLetter{}
	for _, l := range dl.letters() {
		byTarget[l.Delivery.Destination] = l
	}
	require.Len(t, byTarget, 2, "dead letters %+v", dl.letters())
	tr, whole := byTarget["transformed"], byTarget["whole"]
	assert.Equal(t, `{"order":42}`, string(tr.Delivery.Payload), "transformed dead letter's delivery")
	assert.Equal(t, PayloadInput, tr.Delivery.Kind, "transformed dead letter's delivery")
	for name, l := range byTarget {
		var e Event
		require.NoError(t, json.Unmarshal(l.Event, &e), "%s: Event %s", name, l.Event)
		assert.Equal(t, res.Entries[0].EventID, e.ID, "%s: dead letter event %s", name, l.Event)
		assert.Equal(t, e.ID, l.Delivery.ID, "%s: delivery id", name)
		assert.Equal(t, "OrderPlaced", e.DetailType, "%s: dead letter event %s", name, l.Event)
		assert.Equal(t, `{"orderId":42,"total":10}`, string(e.Detail), "%s: dead letter event %s", name, l.Event)
		assert.Equal(t, ReasonMaxAttempts, l.Reason, "%s: dead letter %+v", name, l)
		assert.Equal(t, fastRetry.MaxAttempts, l.Attempts, "%s: dead letter %+v", name, l)
		assert.Equal(t, "r", l.Delivery.Rule, "%s: dead letter %+v", name, l)
		assert.Equal(t, "dlq", l.Delivery.Router, "%s: dead letter %+v", name, l)
	}
	assert.Equal(t, string(whole.Delivery.Payload), string(whole.Event), "whole-event target: Event is the payload")
}

// TestTargetInputFailureIsDeadLetteredWithTheEvent: when a target's input
// cannot be computed, the event is dead-lettered at once (permanent) with
// its id, bus, rule, target and the event itself, and a handler of the
// dead letter sees the event's hop count.
func TestTargetInputFailureIsDeadLetteredWithTheEvent(t *testing.T) {
	leaktest.Test(t)
	e := newEngine(nil, nil)
	defer func() { assert.NoError(t, e.Close(context.Background()), "engine Close") }()
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
	require.NoError(t, rt.dest.Enqueue(context.Background(), ev))
	s := <-got
	want := Delivery{ID: "e-1", Router: "bus", Rule: "r", Destination: "t", Attempt: 1, Time: at, Kind: PayloadInput}
	assert.Equal(t, want, s.dl.Delivery, "delivery")
	assert.Equal(t, `{"id":"e-1"}`, string(s.dl.Event), "dead letter event")
	assert.Equal(t, ReasonPermanent, s.dl.Reason, "dead letter reason")
	assert.Equal(t, 1, s.dl.Attempts, "dead letter attempts")
	assert.True(t, IsPermanent(s.dl.Err), "dead letter error %v is permanent", s.dl.Err)
	assert.ErrorContains(t, s.dl.Err, "no such field", "dead letter error")
	assert.Equal(t, 2, s.hops, "dead-letter context's hop")
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, called, "handler calls")
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
	res := putAccepted(t, b, orderEvent(1, 1))
	drain(t, b)
	got := raw.deliveries()
	require.Len(t, got, 1, "raw deliveries")
	require.Nil(t, got[0].Payload, "raw delivery %+v", got[0])
	require.Equal(t, PayloadInput, got[0].Kind, "raw delivery %+v", got[0])
	mu.Lock()
	assert.Zero(t, typedCalls, "typed handler calls")
	mu.Unlock()
	letters := dl.letters()
	require.Len(t, letters, 1, "dead letters %+v", letters)
	l := letters[0]
	assert.Equal(t, "typed", l.Delivery.Destination, "dead letter %+v", l)
	assert.Equal(t, ReasonPermanent, l.Reason, "dead letter %+v", l)
	assert.Equal(t, 1, l.Attempts, "dead letter %+v", l)
	assert.ErrorIs(t, l.Err, ErrDecode, "dead letter %+v", l)
	assert.Contains(t, string(l.Event), `"id":"`+res.Entries[0].EventID+`"`, "dead letter event")
}
