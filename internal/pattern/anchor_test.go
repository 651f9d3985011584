package pattern

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func buildIDs(t *testing.T, pats ...string) *Machine {
	t.Helper()
	entries := make([]Entry, len(pats))
	for i, s := range pats {
		p, err := Parse([]byte(s), DefaultLimits())
		require.NoError(t, err, "Parse(%s)", s)
		entries[i] = Entry{ID: fmt.Sprint(i), P: p}
	}
	return Build(entries)
}

func matchSorted(t *testing.T, m *Machine, ev string) []string {
	t.Helper()
	ids, err := m.Match(nil, []byte(ev))
	require.NoError(t, err, "Match(%s)", ev)
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
		require.Len(t, anchors, 1, "subrule %d's anchors", si)
		assert.Equal(t, 1, nsub[anchors[0]], "subrule %d is anchored on the customer pred, required by 1 subrule", si)
	}
	ev := `{"source":"shop","detail-type":"Order","detail":{"customer":"c-7"}}`
	assert.Equal(t, []string{"7"}, matchSorted(t, m, ev), "matched")
	// The anchor fires but a shared condition fails.
	ev = `{"source":"shop","detail-type":"Refund","detail":{"customer":"c-7"}}`
	assert.Empty(t, matchSorted(t, m, ev), "matched")
	assert.Empty(t, matchSorted(t, m, `{"source":"shop","detail-type":"Order"}`), "matched")
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
		assert.Equal(t, c.want, matchSorted(t, m, c.ev), "Match(%s)", c.ev)
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
	assert.Equal(t, []string{"9"}, matchSorted(t, m, `{"items":[{"kind":"book","sku":"s-9"}]}`), "same element")
	assert.Equal(t, []string{"1"}, matchSorted(t, m, `{"items":[{"kind":"pen","sku":"s-9"},{"kind":"book","sku":"s-1"}]}`), "split elements")
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
	assert.Zero(t, allocs, "allocations")
	assert.Equal(t, []string{"5"}, dst, "matched")
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
