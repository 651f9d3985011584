package eda

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/edakit/eda/internal/pattern"
	"github.com/stretchr/testify/require"
)

// TestMatchLayoutAgreesWithMatch checks the Bus's way of matching — the
// envelope's members located while its JSON is written, the matcher reading
// only the values patterns name (pattern.MatchLayout) — against matching
// the same JSON read from its start (Machine.MatchStrict), for random
// envelopes and details (duplicate keys, escapes, dotted keys, arrays of
// objects, keys of the envelope inside the detail) and patterns naming every
// envelope field, alone and together.
func TestMatchLayoutAgreesWithMatch(t *testing.T) {
	patterns := []string{
		`{"source":["s1"]}`,
		`{"source":[{"prefix":"s"}],"detail-type":["T1"]}`,
		`{"detail-type":[{"anything-but":"T1"}]}`,
		`{"id":[{"exists":true}]}`,
		`{"version":["0"],"account":["123456789012"],"region":["us-east-1"]}`,
		`{"time":[{"prefix":"2026-"}]}`,
		`{"resources":["r1"]}`,
		`{"resources":[{"exists":false}]}`,
		`{"detail":{"customer":["c1"]}}`,
		`{"detail":{"customer":["c1"],"total":[{"numeric":[">",10]}]}}`,
		`{"source":["s1"],"detail":{"items":{"sku":["A"],"qty":[2]}}}`,
		`{"detail":{"source":["s1"]}}`,
		`{"detail":{"a":{"b":["x"]}}}`,
		`{"detail":{"missing":[{"exists":false}]}}`,
		`{"detail":{"customer":[{"exists":false}]},"source":["s2"]}`,
		`{"$or":[{"source":["s2"]},{"detail":{"customer":["c2"]}}]}`,
		`{"replay-name":[{"exists":false}],"source":["s1"]}`,
		`{"detail.customer":["c1"]}`,
		`{"detail":{"customer":[{"equals-ignore-case":"C1"}]}}`,
		`{"detail":{"k":[{"wildcard":"*x*"}]}}`,
	}
	var es []pattern.Entry
	for i, p := range patterns {
		parsed, err := pattern.Parse([]byte(p), pattern.DefaultLimits())
		require.NoError(t, err, p)
		es = append(es, pattern.Entry{ID: strconv.Itoa(i), P: parsed})
	}
	// All patterns in one machine, and each alone (where the scan stops
	// early as soon as the pattern's fields are seen).
	machines := []*pattern.Machine{pattern.Build(es)}
	for _, e := range es {
		machines = append(machines, pattern.Build([]pattern.Entry{e}))
	}
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	members := []string{
		`"customer":"c1"`, `"customer":"c2"`, `"cust\u006fmer":"c2"`, `"customer":"C1"`,
		`"total":12`, `"total":5.5`, `"source":"s1"`, `"k":"axb"`, `"k":"a\"x"`,
		`"items":[{"sku":"A","qty":2},{"sku":"B","qty":1}]`, `"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]`,
		`"a":{"b":"x"}`, `"a.b":"x"`, `"a":[{"b":"y"},{"b":"x"}]`, `"detail":{"customer":"c1"}`,
		`"note":"customer"`, `"nested":{"customer":"c2","deep":[1,[2,{"x":"y"}]]}`,
	}
	var got, want []string
	for n := range 5000 {
		var detail []byte
		if r.IntN(4) == 0 {
			detail = append(detail, " \n\t"[:1+r.IntN(3)]...) // a detail may start with white space
		}
		detail = append(detail, '{')
		for k := range r.IntN(5) {
			if k > 0 {
				detail = append(detail, ',')
			}
			detail = append(detail, members[r.IntN(len(members))]...)
		}
		detail = append(detail, '}')
		if r.IntN(4) == 0 {
			detail = append(detail, "\r\n "[:1+r.IntN(3)]...)
		}
		e := Event{
			ID:         pick("", "id-1", `id"2`),
			Source:     pick("s1", "s2", `s\1`),
			DetailType: pick("T1", "T2"),
			Account:    pick("123456789012", "000000000000"),
			Region:     pick("us-east-1", "eu-west-1"),
			Time:       time.Date(2025+r.IntN(2), 1, 2, 3, 4, 5, 0, time.UTC),
			Detail:     json.RawMessage(detail),
		}
		for range r.IntN(3) {
			e.Resources = append(e.Resources, pick("r1", "r2"))
		}
		var at envelopeMembers
		raw := e.appendJSON(nil, &at)
		require.True(t, json.Valid(raw), "%s", raw)
		for k, m := range machines {
			var err error
			want, err = m.MatchStrict(want[:0], raw)
			require.NoError(t, err)
			got, err = m.MatchLayout(got[:0], raw, envelopeLayout, at[:])
			require.NoError(t, err)
			require.ElementsMatch(t, want, got, fmt.Sprintf("machine %d, event %d: %s", k, n, raw))
		}
	}
}

// TestPutEventsDetailWithSurroundingSpace: a detail may have white space
// around its object (it is valid JSON, and the envelope keeps it as given);
// a rule on a detail field still matches it. (The envelope's matching by
// layout once read the value at the space and refused the event.)
func TestPutEventsDetailWithSurroundingSpace(t *testing.T) {
	bus, err := NewBus("b")
	require.NoError(t, err)
	defer bus.Close(context.Background())
	got := make(chan Delivery, 1)
	h := HandlerFunc(func(_ context.Context, d Delivery) error { got <- d; return nil })
	require.NoError(t, bus.PutRule(Rule{Name: "r", EventPattern: `{"detail":{"a":[1]}}`, Targets: []Target{HandlerTarget("t", h)}}))
	res, err := bus.PutEvents(context.Background(), Event{Source: "s", DetailType: "d", Detail: json.RawMessage(" \n{\"a\":1} \t")})
	require.NoError(t, err)
	require.Zero(t, res.FailedEntryCount, "%+v", res)
	select {
	case d := <-got:
		var detail map[string]any
		require.NoError(t, d.Decode(&detail))
		require.Equal(t, map[string]any{"a": 1.0}, detail)
	case <-time.After(10 * time.Second):
		t.Fatal("the rule's target got nothing")
	}
}
