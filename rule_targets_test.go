package eda

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// putX puts one event of source "x" on b and drains it.
func putX(t *testing.T, b *Bus) string {
	t.Helper()
	id := putXNoDrain(t, b)
	drain(t, b)
	return id
}

// targetIDs returns the ids of ts, in order.
func targetIDs(ts []Target) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.TargetID()
	}
	return ids
}

// invocations returns the invocation count of each target of the rule, by id.
func invocations(t *testing.T, b *Bus, rule string) map[string]uint64 {
	t.Helper()
	rs, ok := b.Stats().Rule(rule)
	require.True(t, ok, "no stats for rule %q", rule)
	out := map[string]uint64{}
	for _, ts := range rs.Targets {
		out[ts.Target] = ts.Invocations
	}
	return out
}

// TestPutRuleWithoutTargetsKeepsThem: PutRule with no targets (nil or
// empty) changes the rule but keeps its targets, queues included, as
// EventBridge's PutRule does; a non-empty list replaces them.
func TestPutRuleWithoutTargetsKeepsThem(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "keep-targets")
	rec := &recorder{}
	a := HandlerTarget("a", rec)
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`, Targets: []Target{a}})
	putX(t, b)

	mustPutRule(t, b, Rule{Name: "r", Description: "new pattern", EventPattern: `{"detail-type":["d"]}`})
	r, err := b.Rule("r")
	require.NoError(t, err)
	assert.Equal(t, "new pattern", r.Description)
	assert.Equal(t, `{"detail-type":["d"]}`, r.EventPattern)
	require.Equal(t, []Target{a}, r.Targets, "nil Targets keeps the rule's targets")
	putX(t, b)

	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`, Targets: []Target{}})
	r, err = b.Rule("r")
	require.NoError(t, err)
	require.Equal(t, []Target{a}, r.Targets, "an empty Targets keeps them too")
	putX(t, b)

	assert.Equal(t, 3, rec.count())
	assert.Equal(t, map[string]uint64{"a": 3}, invocations(t, b, "r"), "the kept target keeps its queue and counters")

	// A new rule put without targets has none; targets come with PutTargets.
	mustPutRule(t, b, Rule{Name: "bare", EventPattern: `{"source":["x"]}`})
	ts, err := b.ListTargetsByRule("bare")
	require.NoError(t, err)
	assert.Empty(t, ts)
}

func TestPutTargetsAddsAndReplaces(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "put-targets")
	recA, recB, recA2 := &recorder{}, &recorder{}, &recorder{}
	a, bt := HandlerTarget("a", recA), HandlerTarget("b", recB)
	mustPutRule(t, b, Rule{Name: "r", Description: "kept", EventPattern: `{"source":["x"]}`, State: RuleDisabled, Targets: []Target{a}})

	require.NoError(t, b.PutTargets("r", bt))
	ts, err := b.ListTargetsByRule("r")
	require.NoError(t, err)
	assert.Equal(t, []Target{a, bt}, ts, "a new target goes last")
	r, err := b.Rule("r")
	require.NoError(t, err)
	assert.Equal(t, RuleDisabled, r.State, "PutTargets keeps the rule's state")
	assert.Equal(t, "kept", r.Description)

	require.NoError(t, b.EnableRule("r"))
	putX(t, b)
	assert.Equal(t, 1, recA.count())
	assert.Equal(t, 1, recB.count())

	// Same value again: kept (queue and counters); new value of id "a":
	// replaces it in place, with a fresh queue.
	a2 := HandlerTarget("a", recA2)
	require.NoError(t, b.PutTargets("r", bt, a2))
	ts, err = b.ListTargetsByRule("r")
	require.NoError(t, err)
	assert.Equal(t, []Target{a2, bt}, ts, "a replacing target takes the replaced one's place")
	putX(t, b)
	assert.Equal(t, 1, recA.count(), "the replaced target gets no new events")
	assert.Equal(t, 1, recA2.count())
	assert.Equal(t, 2, recB.count())
	assert.Equal(t, map[string]uint64{"a": 1, "b": 2}, invocations(t, b, "r"))
	r, err = b.Rule("r")
	require.NoError(t, err)
	assert.Equal(t, `{"source":["x"]}`, r.EventPattern, "PutTargets keeps the pattern")
	// And the rule still matches by it: an event from another source
	// reaches no target.
	res, err := b.PutEvents(context.Background(), Event{Source: "y", DetailType: "t", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.Zero(t, res.FailedEntryCount)
	drain(t, b)
	assert.Equal(t, 1, recA2.count())
	assert.Equal(t, 2, recB.count())
	assert.Equal(t, 1, b.routes.load().machine.Len(), "the pattern stays in the machine, once")
	assert.True(t, b.routes.patterns["r"].patterned)
	// Disabled and enabled again, it matches by the same pattern.
	require.NoError(t, b.DisableRule("r"))
	assert.Nil(t, b.routes.load().machine, "a disabled rule's pattern leaves the machine")
	require.NoError(t, b.EnableRule("r"))
	putX(t, b)
	_, err = b.PutEvents(context.Background(), Event{Source: "y", DetailType: "t", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	drain(t, b)
	assert.Equal(t, 2, recA2.count())
	assert.Equal(t, 3, recB.count())
}

// listIDs returns the ids of the rule's targets, in order.
func listIDs(t *testing.T, b *Bus, rule string) []string {
	t.Helper()
	ts, err := b.ListTargetsByRule(rule)
	require.NoError(t, err)
	return targetIDs(ts)
}

// TestChangedTargetFinishesItsQueue: events queued for a target that
// PutTargets replaces with a new value, or that RemoveTargets removes,
// still reach the old handler; events put afterwards go to the new target
// (or nowhere), and the old target's workers end (leak check).
func TestChangedTargetFinishesItsQueue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(b *Bus, newRec *recorder) error
		toNew  bool
	}{
		{"replaced", func(b *Bus, newRec *recorder) error { return b.PutTargets("r", HandlerTarget("t", newRec)) }, true},
		{"removed", func(b *Bus, _ *recorder) error { return b.RemoveTargets("r", "t") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Test(t)
			b := newTestBus(t, "change-target")
			started := make(chan struct{}, 2)
			release := make(chan struct{})
			oldRec := &recorder{fail: func(Delivery) error {
				started <- struct{}{}
				<-release
				return nil
			}}
			mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`,
				Targets: []Target{HandlerTarget("t", oldRec, WithMaxConcurrency(1))}})
			first := putXNoDrain(t, b)
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				require.Fail(t, "the old target never started")
			}
			second := putXNoDrain(t, b) // queued behind the first

			newRec := &recorder{}
			require.NoError(t, tc.change(b, newRec))
			third := putXNoDrain(t, b)
			close(release)
			drain(t, b)
			ids := func(r *recorder) []string {
				var out []string
				for _, d := range r.deliveries() {
					out = append(out, d.ID)
				}
				return out
			}
			assert.Equal(t, []string{first, second}, ids(oldRec), "the old target delivers its queue")
			if tc.toNew {
				assert.Equal(t, []string{third}, ids(newRec))
			} else {
				assert.Empty(t, ids(newRec))
			}
		})
	}
}

// putXNoDrain puts one event of source "x" and returns its id.
func putXNoDrain(t *testing.T, b *Bus) string {
	t.Helper()
	res, err := b.PutEvents(context.Background(), Event{Source: "x", DetailType: "d", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	return res.Entries[0].EventID
}

// TestPutTargetsValidates: PutTargets validates as PutRule does, all or
// nothing, with an error wrapping ErrInvalidRule that names the target.
func TestPutTargetsValidates(t *testing.T) {
	b := newTestBus(t, "put-targets-validate")
	rec := &recorder{}
	a := HandlerTarget("a", rec)
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`, Targets: []Target{a}})
	cases := []struct {
		name    string
		targets []Target
		names   string // text the error must hold
	}{
		{"nil target", []Target{HandlerTarget("ok", rec), nil}, "target 1 is nil"},
		{"duplicate ids", []Target{HandlerTarget("d", rec), HandlerTarget("d", rec)}, `"d"`},
		{"bad id", []Target{HandlerTarget("t/1", rec)}, `"t/1"`},
		{"nil handler", []Target{HandlerTarget("nilh", nil)}, `"nilh"`},
		{"input not JSON", []Target{HandlerTarget("in", rec, WithInput(`{no`))}, `"in"`},
		{"two input modes", []Target{HandlerTarget("two", rec, WithInput(`{}`), WithInputPath("$.detail"))}, `"two"`},
		{"nil middleware result", []Target{HandlerTarget("ok", rec), HandlerTarget("mw", rec,
			WithMiddleware(func(Handler) Handler { return nil }))}, `"mw"`},
	}
	for _, tc := range cases {
		err := b.PutTargets("r", tc.targets...)
		require.ErrorIs(t, err, ErrInvalidRule, tc.name)
		assert.Contains(t, err.Error(), tc.names, tc.name)
		assert.Contains(t, err.Error(), `rule "r"`, tc.name)
		ts, err := b.ListTargetsByRule("r")
		require.NoError(t, err)
		assert.Equal(t, []Target{a}, ts, "%s: nothing changes", tc.name)
	}

	err := b.PutTargets("missing", a)
	require.ErrorIs(t, err, ErrRuleNotFound)
	assert.Contains(t, err.Error(), "missing")
	require.ErrorIs(t, b.PutTargets("missing"), ErrRuleNotFound, "no targets: still reports the unknown rule")
	require.NoError(t, b.PutTargets("r"), "no targets: no change")
	_, err = b.ListTargetsByRule("missing")
	require.ErrorIs(t, err, ErrRuleNotFound)
}

func TestRemoveTargets(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "remove-targets")
	recA, recB := &recorder{}, &recorder{}
	a, bt := HandlerTarget("a", recA), HandlerTarget("b", recB)
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`, Targets: []Target{a, bt}})

	require.NoError(t, b.RemoveTargets("r", "a", "not-there"), "an unknown id is ignored")
	ts, err := b.ListTargetsByRule("r")
	require.NoError(t, err)
	assert.Equal(t, []Target{bt}, ts)
	putX(t, b)
	assert.Equal(t, 0, recA.count())
	assert.Equal(t, 1, recB.count())
	require.NoError(t, b.RemoveTargets("r", "a"), "removing again is no error")

	err = b.RemoveTargets("r", "b", "bad/id")
	require.ErrorIs(t, err, ErrInvalidRule)
	assert.Contains(t, err.Error(), `"bad/id"`)
	assert.Equal(t, []string{"b"}, listIDs(t, b, "r"), "nothing changes on error")

	require.ErrorIs(t, b.RemoveTargets("missing", "a"), ErrRuleNotFound)
	require.ErrorIs(t, b.RemoveTargets("missing"), ErrRuleNotFound)
	require.NoError(t, b.RemoveTargets("r"))

	// Removing every target: the rule stays, matching but triggering
	// nothing.
	require.NoError(t, b.RemoveTargets("r", listIDs(t, b, "r")...))
	r, err := b.Rule("r")
	require.NoError(t, err)
	assert.Empty(t, r.Targets)
	putX(t, b)
	assert.Equal(t, 1, recB.count())
	rs, _ := b.Stats().Rule("r")
	assert.Equal(t, uint64(2), rs.MatchedEvents)
	assert.Equal(t, uint64(1), rs.TriggeredRules)
}

func TestTargetAPIAfterClose(t *testing.T) {
	b, err := NewBus("closed")
	require.NoError(t, err)
	rec := &recorder{}
	require.NoError(t, b.PutRule(Rule{Name: "r", EventPattern: `{"source":["x"]}`, Targets: []Target{HandlerTarget("a", rec)}}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.Close(ctx))
	require.ErrorIs(t, b.PutTargets("r", HandlerTarget("b", rec)), ErrClosed)
	require.ErrorIs(t, b.PutRule(Rule{Name: "r", EventPattern: `{"source":["y"]}`}), ErrClosed)
	require.ErrorIs(t, b.RemoveTargets("r", "a"), ErrClosed)
}

func TestRulesPrefix(t *testing.T) {
	b := newTestBus(t, "prefix")
	for _, name := range []string{"orders-paid", "orders-placed", "billing", "ordersX"} {
		mustPutRule(t, b, Rule{Name: name, EventPattern: `{"source":["x"]}`})
	}
	target := HandlerTarget("rec", &recorder{})
	mustPutRule(t, b, Rule{Name: "audit", EventPattern: `{"source":["x"]}`, Targets: []Target{target}})
	names := func(rs []Rule) string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.Name
		}
		return strings.Join(out, ",")
	}
	assert.Equal(t, "audit,billing,orders-paid,orders-placed,ordersX", names(b.Rules()))
	assert.Equal(t, "audit,billing,orders-paid,orders-placed,ordersX", names(b.Rules("")))
	assert.Equal(t, "orders-paid,orders-placed", names(b.Rules("orders-")))
	assert.Equal(t, "audit,orders-paid,orders-placed", names(b.Rules("orders-", "au")), "any of the prefixes")
	assert.Empty(t, b.Rules("nope"))
	assert.Empty(t, b.Rules("Orders"), "prefixes are case-sensitive, as rule names")
	assert.Equal(t, []Target{target}, b.Rules("au")[0].Targets, "with their targets")
}

// TestPutTargetsConcurrentWithPutRule: PutTargets and PutRule on one rule
// at once never lose one another's change.
func TestPutTargetsConcurrentWithPutRule(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "concurrent-targets")
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`})
	const n = 20
	errs := make(chan error, 2*n)
	ids := make([]string, n)
	for i := range n {
		ids[i] = "t" + string(rune('a'+i))
	}
	for i := range n {
		go func() { errs <- b.PutTargets("r", HandlerTarget(ids[i], rec)) }()
		go func() {
			errs <- b.PutRule(Rule{Name: "r", Description: ids[i], EventPattern: `{"source":["x"]}`})
		}()
	}
	for range 2 * n {
		require.NoError(t, <-errs)
	}
	assert.ElementsMatch(t, ids, listIDs(t, b, "r"))
}
