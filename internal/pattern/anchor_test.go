package pattern

import (
	"fmt"
	"slices"
	"testing"
)

func buildIDs(t *testing.T, pats ...string) *Machine {
	t.Helper()
	entries := make([]Entry, len(pats))
	for i, s := range pats {
		p, err := Parse([]byte(s), DefaultLimits())
		if err != nil {
			t.Fatalf("Parse(%s): %v", s, err)
		}
		entries[i] = Entry{ID: fmt.Sprint(i), P: p}
	}
	return Build(entries)
}

func matchSorted(t *testing.T, m *Machine, ev string) []string {
	t.Helper()
	ids, err := m.Match(nil, []byte(ev))
	if err != nil {
		t.Fatalf("Match(%s): %v", ev, err)
	}
	slices.Sort(ids)
	return ids
}

// TestAnchorIsMostSelective checks that each subrule is anchored on its
// required predicate that the fewest subrules require, so a predicate all
// rules share anchors none of them.
func TestAnchorIsMostSelective(t *testing.T) {
	const shape = `{"source":["shop"],"detail-type":["Order"],"detail":{"customer":["c-%d"]}}`
	var pats []string
	for i := range 50 {
		pats = append(pats, fmt.Sprintf(shape, i))
	}
	m := buildIDs(t, pats...)
	nsub := make(map[int32]int)
	for si := range m.subrules.len() {
		for _, q := range m.subrules.at(si).reqs {
			nsub[q.pred]++
		}
	}
	for si := range m.subrules.len() {
		var anchors []int32
		for _, q := range m.subrules.at(si).reqs {
			if slices.Contains(m.preds.at(q.pred).anchored, anchorRef{sub: si, also: alsoOf(m, si)}) {
				anchors = append(anchors, q.pred)
			}
		}
		if len(anchors) != 1 {
			t.Fatalf("subrule %d has %d anchors, want 1", si, len(anchors))
		}
		if n := nsub[anchors[0]]; n != 1 {
			t.Errorf("subrule %d anchored on a pred required by %d subrules, want the customer pred (1)", si, n)
		}
	}
	ev := `{"source":"shop","detail-type":"Order","detail":{"customer":"c-7"}}`
	if got := matchSorted(t, m, ev); !slices.Equal(got, []string{"7"}) {
		t.Errorf("matched %v, want [7]", got)
	}
	// The anchor fires but a shared condition fails.
	ev = `{"source":"shop","detail-type":"Refund","detail":{"customer":"c-7"}}`
	if got := matchSorted(t, m, ev); len(got) != 0 {
		t.Errorf("matched %v, want none", got)
	}
	if got := matchSorted(t, m, `{"source":"shop","detail-type":"Order"}`); len(got) != 0 {
		t.Errorf("matched %v, want none", got)
	}
}

// TestAnchorCombinations: subrules whose anchors differ, $or branches that
// share conditions, a pred named twice in one subrule, exists:false next to
// required conditions, and rules made only of exists:false.
func TestAnchorCombinations(t *testing.T) {
	m := buildIDs(t,
		`{"a":["1"],"b":["x"]}`,                               // 0
		`{"a":["1"],"b":["y"]}`,                               // 1
		`{"a":["1"],"c":["z"]}`,                               // 2
		`{"a":["1"],"b":["x"],"c":[{"exists":false}]}`,        // 3
		`{"$or":[{"a":["1"],"b":["x"]},{"a":["1"],"d":[1]}]}`, // 4
		`{"a":["1"],"e":{"f":["1"]},"e.f":["1"]}`,             // 5: same pred twice (dotted key)
		`{"q":[{"exists":false}]}`,                            // 6: always a candidate
		`{"a":[{"prefix":""}],"b":[{"anything-but":"y"}]}`,    // 7
	)
	cases := []struct {
		ev   string
		want []string
	}{
		{`{"a":"1","b":"x"}`, []string{"0", "3", "4", "6", "7"}},
		{`{"a":"1","b":"y"}`, []string{"1", "6"}},
		{`{"a":"1","b":"x","c":"z"}`, []string{"0", "2", "4", "6", "7"}},
		{`{"a":"1","d":1.0}`, []string{"4", "6"}},
		{`{"a":"1","e":{"f":"1"}}`, []string{"5", "6"}},
		{`{"a":"2","b":"x","q":1}`, []string{"7"}},
		{`{"b":"x","c":"z","d":1}`, []string{"6"}},
		// Arrays of objects: confirmation stays array-consistent.
		{`{"a":"1","b":["y","x"]}`, []string{"0", "1", "3", "4", "6", "7"}},
	}
	for _, c := range cases {
		if got := matchSorted(t, m, c.ev); !slices.Equal(got, c.want) {
			t.Errorf("Match(%s) = %v, want %v", c.ev, got, c.want)
		}
	}
}

// TestAnchorArrayConsistency: the anchor fires in one array element and the
// other condition in another; array consistency must still reject it.
func TestAnchorArrayConsistency(t *testing.T) {
	var pats []string
	for i := range 20 {
		pats = append(pats, fmt.Sprintf(`{"items":{"kind":["book"],"sku":["s-%d"]}}`, i))
	}
	m := buildIDs(t, pats...)
	if got := matchSorted(t, m, `{"items":[{"kind":"book","sku":"s-9"}]}`); !slices.Equal(got, []string{"9"}) {
		t.Errorf("same element: matched %v, want [9]", got)
	}
	if got := matchSorted(t, m, `{"items":[{"kind":"pen","sku":"s-9"},{"kind":"book","sku":"s-1"}]}`); !slices.Equal(got, []string{"1"}) {
		t.Errorf("split elements: matched %v, want [1]", got)
	}
}

// TestSharedPredicatesNoAlloc: matching through the append form allocates
// nothing, with many rules sharing predicates.
func TestSharedPredicatesNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop states on purpose")
	}
	var pats []string
	for i := range 1000 {
		pats = append(pats, fmt.Sprintf(`{"source":["shop"],"detail-type":["Order"],"detail":{"customer":["c-%d"]}}`, i))
	}
	m := buildIDs(t, pats...)
	ev := []byte(`{"source":"shop","detail-type":"Order","detail":{"customer":"c-5"}}`)
	dst := make([]string, 0, 4)
	m.Match(dst, ev) // warm the state
	allocs := testing.AllocsPerRun(100, func() {
		dst, _ = m.Match(dst[:0], ev)
	})
	if allocs != 0 || len(dst) != 1 || dst[0] != "5" {
		t.Errorf("allocs %.1f, matched %v; want 0 allocs and [5]", allocs, dst)
	}
}

// alsoOf returns the second most selective required pred of subrule si, as
// Apply records it beside the anchor.
func alsoOf(m *Machine, si int32) int32 {
	for _, p := range m.preds.at(m.subrules.at(si).anchor).anchored {
		if p.sub == si {
			return p.also
		}
	}
	return -1
}
