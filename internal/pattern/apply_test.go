package pattern

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// randLeaf returns a random leaf list of one of the operator families, over
// small value domains so that events often hit it.
func randLeaf(r *rand.Rand) string {
	v := func() string { return fmt.Sprintf("%q", []string{"a", "b", "ab", "B", "10.0.0.1"}[r.IntN(5)]) }
	n := func() int { return r.IntN(5) }
	switch r.IntN(14) {
	case 0:
		return v()
	case 1:
		return v() + "," + v()
	case 2:
		return fmt.Sprint(n())
	case 3:
		return `{"prefix":"a"}`
	case 4:
		return `{"suffix":"b"}`
	case 5:
		return `{"equals-ignore-case":"b"}`
	case 6:
		return `{"wildcard":"a*"}`
	case 7:
		return fmt.Sprintf(`{"numeric":[">",%d]}`, n())
	case 8:
		return `{"exists":true}`
	case 9:
		return `{"exists":false}`
	case 10:
		return `{"anything-but":` + v() + `}`
	case 11:
		return `{"cidr":"10.0.0.0/24"}`
	case 12:
		return `true,null`
	default:
		return v() + `,{"exists":false}`
	}
}

var randPaths = []string{"x", "y", "o.p", "o.q", "arr.k", "arr.l"}

// randPattern returns a random pattern of one to three fields, sometimes
// with an $or.
func randPattern(r *rand.Rand) []byte {
	fields := func(k int) string {
		var parts []string
		for range k {
			path := randPaths[r.IntN(len(randPaths))]
			parts = append(parts, fmt.Sprintf("%q:[%s]", path, randLeaf(r)))
		}
		return strings.Join(parts, ",")
	}
	if r.IntN(5) == 0 {
		return []byte(fmt.Sprintf(`{"$or":[{%s},{%s}]}`, fields(1), fields(1+r.IntN(2))))
	}
	return []byte("{" + fields(1+r.IntN(3)) + "}")
}

// randEvent returns a random event over the paths of randPattern (dotted
// paths as nested objects, arr as an array of objects).
func randEvent(r *rand.Rand) []byte {
	val := func() string {
		switch r.IntN(8) {
		case 0:
			return fmt.Sprint(r.IntN(6))
		case 1:
			return []string{"true", "false", "null"}[r.IntN(3)]
		default:
			return fmt.Sprintf("%q", []string{"a", "b", "ab", "B", "abc", "10.0.0.1", "10.0.1.1"}[r.IntN(7)])
		}
	}
	var parts []string
	for _, k := range []string{"x", "y"} {
		if r.IntN(3) > 0 {
			parts = append(parts, fmt.Sprintf("%q:%s", k, val()))
		}
	}
	if r.IntN(3) > 0 {
		parts = append(parts, fmt.Sprintf(`"o":{"p":%s,"q":%s}`, val(), val()))
	}
	if r.IntN(2) > 0 {
		var els []string
		for range 1 + r.IntN(3) {
			els = append(els, fmt.Sprintf(`{"k":%s,"l":%s}`, val(), val()))
		}
		parts = append(parts, `"arr":[`+strings.Join(els, ",")+`]`)
	}
	return []byte("{" + strings.Join(parts, ",") + "}")
}

func sortedMatch(t *testing.T, m *Machine, ev []byte) []string {
	t.Helper()
	ids, err := m.Match(nil, ev)
	require.NoError(t, err, "event %s", ev)
	slices.Sort(ids)
	return ids
}

// snapshotOf builds the entries of set (id -> pattern) from scratch.
func snapshotOf(set map[string]*Parsed) []Entry {
	var es []Entry
	for id, p := range set {
		es = append(es, Entry{ID: id, P: p})
	}
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
	return es
}

// TestApplyMatchesBuild is the property test of Apply: a random sequence of
// adds, replaces and deletes (one at a time and in batches) applied
// incrementally gives, on random events, the results of Build of the final
// set; every earlier Machine, held by a reader, keeps giving the results
// of its own set; and a Machine derived from an older one (a branch, whose
// pushes find their slots taken by the mainline) gives Build's results of
// its own set.
func TestApplyMatchesBuild(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			events := make([][]byte, 60)
			for i := range events {
				events[i] = randEvent(r)
			}
			set := map[string]*Parsed{}
			texts := map[string]string{}
			var m *Machine
			type held struct {
				m    *Machine
				want [][]string
				set  map[string]*Parsed
			}
			var olds []held
			nextID := 0
			for step := range 150 {
				var add []Entry
				var remove []string
				for range 1 + r.IntN(3) {
					switch k := r.IntN(10); {
					case k < 5 || len(set) == 0: // add
						id := fmt.Sprint("p", nextID)
						nextID++
						src := randPattern(r)
						p, err := Parse(src, DefaultLimits())
						require.NoError(t, err)
						add = append(add, Entry{ID: id, P: p})
						texts[id] = string(src)
					case k < 7: // replace
						ids := snapshotOf(set)
						id := ids[r.IntN(len(ids))].ID
						src := randPattern(r)
						p, err := Parse(src, DefaultLimits())
						require.NoError(t, err)
						add = append(add, Entry{ID: id, P: p})
						texts[id] = string(src)
					case k < 9: // delete
						ids := snapshotOf(set)
						remove = append(remove, ids[r.IntN(len(ids))].ID)
					default: // delete an unknown id
						remove = append(remove, "nope")
					}
				}
				for _, e := range add {
					set[e.ID] = e.P
				}
				for _, id := range remove {
					delete(set, id)
				}
				var addIDs []string
				for _, e := range add {
					addIDs = append(addIDs, e.ID+"="+texts[e.ID])
				}
				t.Logf("step %d: add %v, remove %v", step, addIDs, remove)
				m = m.Apply(add, remove)
				require.Equal(t, len(set), m.Len())
				checkMachine(t, m)
				ref := Build(snapshotOf(set))
				var want [][]string
				for _, ev := range events {
					w := sortedMatch(t, ref, ev)
					require.Equal(t, w, sortedMatch(t, m, ev), "step %d, event %s, patterns %v", step, ev, texts)
					want = append(want, w)
				}
				if step%10 == 0 {
					olds = append(olds, held{m, want, maps.Clone(set)})
				}
				if step%10 == 5 {
					// A branch: new patterns added to an older Machine, whose
					// successors have since taken the slots they would
					// take, must give Build's results of its own set.
					h := olds[r.IntN(len(olds))]
					bset := maps.Clone(h.set)
					var badd []Entry
					for k := range 1 + r.IntN(40) {
						p, err := Parse(randPattern(r), DefaultLimits())
						require.NoError(t, err)
						id := fmt.Sprint("b", step, "-", k)
						badd = append(badd, Entry{ID: id, P: p})
						bset[id] = p
					}
					b := h.m.Apply(badd, nil)
					checkMachine(t, b)
					bref := Build(snapshotOf(bset))
					for _, ev := range events {
						require.Equal(t, sortedMatch(t, bref, ev), sortedMatch(t, b, ev), "branch at step %d, event %s", step, ev)
					}
				}
			}
			for _, h := range olds {
				for i, ev := range events {
					require.Equal(t, h.want[i], sortedMatch(t, h.m, ev), "held machine, event %s", ev)
				}
			}
			// Deleting everything leaves an empty machine with an empty trie.
			var all []string
			for id := range set {
				all = append(all, id)
			}
			m = m.Apply(nil, all)
			require.Zero(t, m.Len())
			require.False(t, m.root.hasKids(), "trie not pruned")
			for _, ev := range events {
				require.Empty(t, sortedMatch(t, m, ev))
			}
		})
	}
}

// checkMachine verifies the bookkeeping of m: the use and subrule counts of
// every pred, the anchor of every subrule, and the pred names.
func checkMachine(t *testing.T, m *Machine) {
	t.Helper()
	uses := map[int32]int32{}
	nsub := map[int32]int32{}
	for si := range m.subrules.len() {
		sr := m.subrules.at(si)
		if sr.pattern < 0 {
			continue
		}
		var chain []int32
		for x := m.pats.at(sr.pattern).first; x >= 0; x = m.subrules.at(x).next {
			chain = append(chain, x)
		}
		require.Contains(t, chain, si)
		for i, q := range sr.reqs {
			if q.pred >= 0 {
				uses[q.pred]++
				if !q.allowAbsent && !requiredIn(sr.reqs[:i], q.pred) {
					nsub[q.pred]++
				}
			}
			if q.presence >= 0 {
				uses[q.presence]++
			}
		}
		if sr.npos == 0 {
			require.Contains(t, m.always, si)
		} else {
			require.Contains(t, m.preds.at(sr.anchor).anchored, anchorRef{sub: si, also: alsoOf(m, si)}, "subrule %d", si)
		}
	}
	for p := range m.preds.len() {
		pr := m.preds.at(p)
		require.Equal(t, uses[p], pr.uses, "uses of pred %d", p)
		require.Equal(t, nsub[p], pr.nsub, "nsub of pred %d", p)
	}
	n := 0
	for _, node := range trieNodes(m) {
		if node.field == nil {
			require.True(t, node.hasKids(), "node %q without conditions or children", node.path)
			continue
		}
		for i := range node.field.preds {
			node.field.preds[i].each(func(k string, id int32) {
				n++
				require.Positive(t, m.preds.at(id).uses, "named pred %d %q", id, k)
				require.Equal(t, i == 1, m.preds.at(id).noEmpty, "pred %d %q", id, k)
			})
		}
	}
	require.Equal(t, len(uses), n)
}

// trieNodes returns the nodes of m's trie (the root links every path).
func trieNodes(m *Machine) []*pathNode {
	if m.root.kmap != nil {
		var out []*pathNode
		for _, n := range m.root.kmap {
			out = append(out, n)
		}
		return out
	}
	return m.root.kids
}

// TestDistinctListsDoNotShareAPred: leaf lists that differ must not share a
// pred. The canonical keys once let an exact string and a suffix (or a
// prefix and a case-folded prefix, or a string holding NUL and a list of
// two strings) collide, so one pattern took the other's condition.
func TestDistinctListsDoNotShareAPred(t *testing.T) {
	cases := []struct {
		a, b, ev string
		want     []string // ids matched: "0" is pattern a, "1" pattern b
	}{
		{`{"y":["b"]}`, `{"y":[{"suffix":"b"}]}`, `{"y":"ab"}`, []string{"1"}},
		{`{"y":[{"suffix":"b"}]}`, `{"y":["b"]}`, `{"y":"ab"}`, []string{"0"}},
		{`{"y":[{"prefix":"ifoo"}]}`, `{"y":[{"prefix":{"equals-ignore-case":"foo"}}]}`, `{"y":"FOO"}`, []string{"1"}},
		{`{"y":["ifoo"]}`, `{"y":[{"suffix":{"equals-ignore-case":"foo"}}]}`, `{"y":"xFOO"}`, []string{"1"}},
		{`{"y":["a\u0000sb"]}`, `{"y":["a","b"]}`, `{"y":"b"}`, []string{"1"}},
	}
	for _, c := range cases {
		m := buildIDs(t, c.a, c.b)
		require.Equal(t, c.want, matchSorted(t, m, c.ev), "%s and %s on %s", c.a, c.b, c.ev)
	}
}

// TestApplyIDs: of several entries with one ID in add the last wins (in
// Build too), remove applies after add, unknown IDs are ignored, a nil
// Machine is empty, and the Machine Apply started from is unchanged.
func TestApplyIDs(t *testing.T) {
	P := func(s string) *Parsed {
		p, err := Parse([]byte(s), DefaultLimits())
		require.NoError(t, err)
		return p
	}
	ev := []byte(`{"a":"1","b":"2"}`)
	var empty *Machine
	require.Zero(t, empty.Len())
	m := Build([]Entry{{ID: "x", P: P(`{"a":["1"]}`)}, {ID: "x", P: P(`{"a":["9"]}`)}, {ID: "y", P: P(`{"b":["2"]}`)}})
	require.Equal(t, 2, m.Len())
	require.Equal(t, []string{"y"}, sortedMatch(t, m, ev))

	m2 := m.Apply([]Entry{{ID: "x", P: P(`{"a":["1"]}`)}, {ID: "z", P: P(`{"b":["2"]}`)}}, []string{"z", "nope"})
	require.Equal(t, 2, m2.Len())
	require.Equal(t, []string{"x", "y"}, sortedMatch(t, m2, ev))
	require.Equal(t, []string{"y"}, sortedMatch(t, m, ev), "the older Machine is unchanged")

	m3 := empty.Apply([]Entry{{ID: "x", P: P(`{"a":["1"]}`)}}, []string{"nope"})
	require.Equal(t, []string{"x"}, sortedMatch(t, m3, ev))
}

// TestApplyEmptyStep: whether event members with an empty key are read
// follows the patterns present: it stops when the last pattern that uses an
// empty step goes, and comes back with the next one.
func TestApplyEmptyStep(t *testing.T) {
	P := func(s string) *Parsed {
		p, err := Parse([]byte(s), DefaultLimits())
		require.NoError(t, err)
		return p
	}
	ev := []byte(`{"":"x","a":"y"}`)
	m := Build([]Entry{{ID: "e", P: P(`{"":["x"]}`)}, {ID: "a", P: P(`{"a":["y"]}`)}})
	require.True(t, m.emptyStep)
	require.Equal(t, []string{"a", "e"}, sortedMatch(t, m, ev))
	m2 := m.Apply(nil, []string{"e"})
	require.False(t, m2.emptyStep)
	require.Equal(t, []string{"a"}, sortedMatch(t, m2, ev))
	m3 := m2.Apply([]Entry{{ID: "e2", P: P(`{"":["x"]}`)}}, nil)
	require.True(t, m3.emptyStep)
	require.Equal(t, []string{"a", "e2"}, sortedMatch(t, m3, ev))
	require.Equal(t, []string{"a", "e"}, sortedMatch(t, m, ev))
}
