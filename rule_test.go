package eda

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPutRuleValidates(t *testing.T) {
	b := newTestBus(t, "validate")
	h := &recorder{}
	ok := `{"source":["x"]}`
	cases := []struct {
		name string
		rule Rule
	}{
		{"empty name", Rule{Name: "", EventPattern: ok}},
		{"space in name", Rule{Name: "my rule", EventPattern: ok}},
		{"name too long", Rule{Name: strings.Repeat("r", 65), EventPattern: ok}},
		{"non-ASCII name", Rule{Name: "règle", EventPattern: ok}},
		{"no pattern", Rule{Name: "r"}},
		{"bad state", Rule{Name: "r", EventPattern: ok, State: "ON"}},
		{"nil target", Rule{Name: "r", EventPattern: ok, Targets: []Target{nil}}},
		{"duplicate target ids", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h), HandlerTarget("t", h)}}},
		{"bad target id", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t/1", h)}}},
		{"nil handler", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", nil)}}},
		{"nil bus", Rule{Name: "r", EventPattern: ok, Targets: []Target{BusTarget("t", nil)}}},
		{"two input modes", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h, WithInput(`{}`), WithInputPath("$.detail"))}}},
		{"input not JSON", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h, WithInput(`{not json`))}}},
		{"bad input path", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h, WithInputPath("detail..x"))}}},
		{"bad transformer template", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h,
			WithInputTransformer(InputTransformer{InputPathsMap: map[string]string{"a": "$.detail.a"}, InputTemplate: `{<a>: 1}`}))}}},
		{"bad transformer path", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h,
			WithInputTransformer(InputTransformer{InputPathsMap: map[string]string{"a": "$..a"}, InputTemplate: `<a>`}))}}},
		{"input on a bus target", Rule{Name: "r", EventPattern: ok, Targets: []Target{BusTarget("t", b, WithInputPath("$.detail"))}}},
		{"negative concurrency", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h, WithMaxConcurrency(-1))}}},
		{"negative retry", Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h, WithRetryPolicy(RetryPolicy{MaxAge: -1}))}}},
	}
	for _, tc := range cases {
		assert.ErrorIs(t, b.PutRule(tc.rule), ErrInvalidRule, tc.name)
	}
	assert.Empty(t, b.Rules(), "rules after only invalid puts")
	// An invalid pattern is a *PatternError with a path.
	err := b.PutRule(Rule{Name: "r", EventPattern: `{"detail":{"price":[{"numeric":[">","abc"]}]}}`})
	var pe *PatternError
	require.ErrorAs(t, err, &pe, "invalid pattern")
	assert.ErrorContains(t, pe, "price", "the pattern error names the field")
	// A bad transformer is reported with the field EventBridge names.
	err = b.PutRule(Rule{Name: "r", EventPattern: ok, Targets: []Target{HandlerTarget("t", h,
		WithInputTransformer(InputTransformer{InputTemplate: `{"x": <nope>}`}))}})
	assert.ErrorContains(t, err, "InputTransformer", "the transformer error names the field")
}

func TestRuleLifecycle(t *testing.T) {
	b := newTestBus(t, "life")
	rec := &recorder{}
	target := HandlerTarget("rec", rec)
	mustPutRule(t, b, Rule{Name: "b-rule", Description: "second", EventPattern: `{"source":["x"]}`, Targets: []Target{target}})
	mustPutRule(t, b, Rule{Name: "a-rule", EventPattern: `{"source":["y"]}`, State: RuleDisabled})

	r, err := b.Rule("b-rule")
	require.NoError(t, err)
	assert.Equal(t, RuleEnabled, r.State)
	assert.Equal(t, "second", r.Description)
	require.Len(t, r.Targets, 1)
	assert.True(t, r.Targets[0] == target, "the same Target back")
	names := []string{}
	for _, r := range b.Rules() {
		names = append(names, r.Name+":"+string(r.State))
	}
	assert.Equal(t, []string{"a-rule:DISABLED", "b-rule:ENABLED"}, names, "Rules()")
	for _, f := range []func(string) error{b.DeleteRule, b.EnableRule, b.DisableRule} {
		assert.ErrorIs(t, f("missing"), ErrRuleNotFound, "unknown rule")
	}
	_, err = b.Rule("missing")
	assert.ErrorIs(t, err, ErrRuleNotFound, "Rule(missing)")

	put := func() {
		t.Helper()
		res, err := b.PutEvents(context.Background(), Event{Source: "x", DetailType: "d", Detail: json.RawMessage(`{}`)})
		require.NoError(t, err, "PutEvents")
		require.Zero(t, res.FailedEntryCount, "PutEvents: %+v", res)
		drain(t, b)
	}
	put()
	require.NoError(t, b.DisableRule("b-rule"))
	r, _ = b.Rule("b-rule")
	assert.Equal(t, RuleDisabled, r.State, "state after DisableRule")
	put()
	require.NoError(t, b.EnableRule("b-rule"))
	put()
	assert.Equal(t, 2, rec.count(), "deliveries (none while disabled)")
	rs, _ := b.Stats().Rule("b-rule")
	assert.EqualValues(t, 2, rs.MatchedEvents, "matched events")
	assert.EqualValues(t, 2, rs.TriggeredRules, "triggered rules")
	require.NoError(t, b.DeleteRule("b-rule"))
	put()
	assert.Equal(t, 2, rec.count(), "deliveries after DeleteRule")
	_, err = b.Rule("b-rule")
	assert.ErrorIs(t, err, ErrRuleNotFound, "deleted rule")
}

// TestManyRulesOneMatch: rules share one matcher; an event reaches exactly
// the targets of the rules it matches.
func TestManyRulesOneMatch(t *testing.T) {
	b := newTestBus(t, "many")
	rec := &recorder{}
	for i := range 200 {
		mustPutRule(t, b, Rule{Name: fmt.Sprintf("r%03d", i),
			EventPattern: fmt.Sprintf(`{"detail":{"n":[%d]}}`, i%50), Targets: []Target{HandlerTarget("rec", rec)}})
	}
	_, err := b.PutEvents(context.Background(), Event{Source: "s", DetailType: "d", Detail: json.RawMessage(`{"n":7}`)})
	require.NoError(t, err)
	drain(t, b)
	got := map[string]bool{}
	for _, d := range rec.deliveries() {
		got[d.Rule] = true
	}
	assert.Equal(t, map[string]bool{"r007": true, "r057": true, "r107": true, "r157": true}, got, "rules delivered")
}

// TestRuleReplacementWhileEventsFlow replaces a rule (pattern, targets,
// state) over and over while producers put events. Every event is routed
// by exactly one version of the rule — never lost, never twice — and kept
// targets keep their queue. Run with -race.
func TestRuleReplacementWhileEventsFlow(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "replace")
	var mu sync.Mutex
	seen := map[string]int{} // event id → deliveries
	versions := map[string]bool{}
	handler := HandlerFunc(func(ctx context.Context, d Delivery) error {
		mu.Lock()
		seen[d.ID]++
		versions[d.Destination] = true
		mu.Unlock()
		return nil
	})
	kept := HandlerTarget("kept", handler)
	patterns := []string{
		`{"source":["flow"]}`,
		`{"detail-type":["tick"]}`,
		`{"source":[{"prefix":"fl"}],"detail":{"n":[{"numeric":[">=",0]}]}}`,
	}
	mustPutRule(t, b, Rule{Name: "r", EventPattern: patterns[0], Targets: []Target{kept}})

	var wg sync.WaitGroup
	var accepted sync.Map
	var nAccepted atomic.Int64
	stop := make(chan struct{})
	for p := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := b.PutEvents(context.Background(),
					Event{Source: "flow", DetailType: "tick", Detail: json.RawMessage(fmt.Sprintf(`{"p":%d,"n":%d}`, p, i))})
				if !assert.NoError(t, err, "PutEvents") || !assert.Zero(t, res.FailedEntryCount, "PutEvents: %+v", res) {
					return
				}
				accepted.Store(res.Entries[0].EventID, true)
				nAccepted.Add(1)
			}
		}()
	}
	// A fixed number of replacements, each after events have flowed since
	// the one before (not a time window: on a loaded machine a window can
	// hold too few replacements to see three target versions).
	var replaced int
	for i := 0; i < 40; i++ {
		targets := []Target{kept}
		if i%2 == 1 {
			targets = []Target{HandlerTarget(fmt.Sprintf("v%d", i), handler)}
		}
		mustPutRule(t, b, Rule{Name: "r", EventPattern: patterns[i%len(patterns)], Targets: targets})
		replaced++
		if i%7 == 0 {
			// A disabled window: events put now are not routed; they are
			// excluded from the count below by being put with another
			// source.
			mustPutRule(t, b, Rule{Name: "r", EventPattern: patterns[0], Targets: []Target{kept}, State: RuleDisabled})
			mustPutRule(t, b, Rule{Name: "r", EventPattern: patterns[0], Targets: []Target{kept}})
		}
		waitForMore(t, &nAccepted)
	}
	close(stop)
	wg.Wait()
	drain(t, b)

	mu.Lock()
	defer mu.Unlock()
	assert.GreaterOrEqual(t, len(versions), 3, "target versions that saw events over %d replacements", replaced)
	for id, n := range seen {
		assert.Equal(t, 1, n, "deliveries of event %s", id)
		_, ok := accepted.Load(id)
		assert.True(t, ok, "event %s delivered but not accepted", id)
	}
	// Events put while the rule was disabled are not delivered; all others
	// are. The disabled windows are short: most events must arrive.
	got, want := len(seen), int(nAccepted.Load())
	assert.LessOrEqual(t, got, want, "delivered events of %d accepted", want)
	assert.GreaterOrEqual(t, got, want/2, "delivered events of %d accepted", want)
	t.Logf("%d replacements, %d events, %d delivered, %d target versions", replaced, nAccepted.Load(), len(seen), len(versions))
}

// TestPutRuleKeepsTargets: putting a rule again with the same Target value
// keeps that target's queue, workers and counters; a new Target value
// starts afresh and the dropped one is retired.
func TestPutRuleKeepsTargets(t *testing.T) {
	b := newTestBus(t, "keep")
	rec := &recorder{}
	kept := HandlerTarget("kept", rec)
	dropped := HandlerTarget("dropped", rec)
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`, Targets: []Target{kept, dropped}})
	put := func() {
		t.Helper()
		_, err := b.PutEvents(context.Background(), Event{Source: "x", DetailType: "d", Detail: json.RawMessage(`{}`)})
		require.NoError(t, err)
		drain(t, b)
	}
	put()
	r, _ := b.Rule("r")
	r.EventPattern = `{"detail-type":["d"]}`
	r.Targets = []Target{r.Targets[0], HandlerTarget("dropped", rec)} // same id, new value
	mustPutRule(t, b, r)
	put()
	rs, _ := b.Stats().Rule("r")
	k, _ := rs.Target("kept")
	d, _ := rs.Target("dropped")
	assert.EqualValues(t, 2, k.Invocations, "the kept target's invocations (counters kept)")
	assert.EqualValues(t, 1, d.Invocations, "the replaced target's invocations")
	assert.EqualValues(t, 2, rs.MatchedEvents, "rule counters kept across PutRule")
	assert.Equal(t, 4, rec.count(), "deliveries")
}

// waitForMore waits until n has grown by a few since the call, so that
// events flow between two changes, failing the test after 10 s.
func waitForMore(t *testing.T, n *atomic.Int64) {
	t.Helper()
	from := n.Load()
	require.Eventually(t, func() bool { return n.Load() >= from+3 }, 10*time.Second, 100*time.Microsecond,
		"no events accepted since %d", from)
}
