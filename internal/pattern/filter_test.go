package pattern

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyFilter: every added key passes; of other values a few percent do
// when the filter is full (8 bits per key), and a filter has room for twice
// the keys it was built with.
func TestKeyFilter(t *testing.T) {
	var m pmap[string, bool]
	ed := &edit{}
	for i := range 5000 {
		m.set(ed, "k"+strconv.Itoa(i), true, hashString)
	}
	f := newKeyFilter(&m)
	require.EqualValues(t, 10_000, f.room)
	require.EqualValues(t, 5000, f.added.Load())
	for i := 5000; i < 10_000; i++ {
		f.add(hashString("k" + strconv.Itoa(i)))
	}
	require.EqualValues(t, 10_000, f.added.Load())
	for i := range 10_000 {
		require.True(t, f.may(hashString("k"+strconv.Itoa(i))), "key %d", i)
	}
	pass := 0
	const others = 100_000
	for i := range others {
		if f.may(hashString("other" + strconv.Itoa(i))) {
			pass++
		}
	}
	rate := float64(pass) / others
	t.Logf("%.2f%% of other values pass", 100*rate)
	assert.Less(t, rate, 0.07, "false positives of a full filter")
}

// filterEvent is an event whose field k is v.
func filterEvent(v string) []byte { return []byte(`{"k":"` + v + `"}`) }

func exactEntry(t *testing.T, id, v string) Entry {
	t.Helper()
	p, err := Parse([]byte(`{"k":["`+v+`"]}`), DefaultLimits())
	require.NoError(t, err)
	return Entry{ID: id, P: p}
}

// TestStringFilterKeepsMatches: a path with filterMin exact strings or more
// gets a filter, and matching through it finds every value held, after
// adds, rebuilds (a new filter once the room is used up) and deletes (whose
// bits stay), in the newest Machine and in every older one, which shares
// the filter while later Machines set bits in it; a path with fewer keys
// has no filter.
func TestStringFilterKeepsMatches(t *testing.T) {
	var m *Machine
	var entries []Entry
	for i := range filterMin - 1 {
		entries = append(entries, exactEntry(t, "p"+strconv.Itoa(i), "v"+strconv.Itoa(i)))
	}
	m = m.Apply(entries, nil)
	fieldOf := func(m *Machine) *fieldIndex { return m.root.child([]byte("k")).field }
	require.Nil(t, fieldOf(m).strsMay, "below filterMin")

	m = m.Apply([]Entry{exactEntry(t, "p-last", "v-last")}, nil)
	first := fieldOf(m).strsMay
	require.NotNil(t, first, "at filterMin")

	type held struct {
		m     *Machine
		holds map[string]string // value -> id
	}
	holds := map[string]string{"v-last": "p-last"}
	for i := range filterMin - 1 {
		holds["v"+strconv.Itoa(i)] = "p" + strconv.Itoa(i)
	}
	copyHolds := func() map[string]string {
		c := make(map[string]string, len(holds))
		for k, v := range holds {
			c[k] = v
		}
		return c
	}
	olds := []held{{m, copyHolds()}}
	r := rand.New(rand.NewPCG(1, 2))
	next := 0
	for step := range 40 {
		var add []Entry
		var remove []string
		for range 100 {
			if r.IntN(3) == 0 && len(holds) > 0 {
				// Delete some held value's pattern.
				for v, id := range holds {
					remove = append(remove, id)
					delete(holds, v)
					break
				}
				continue
			}
			v := "n" + strconv.Itoa(next)
			id := "q" + strconv.Itoa(next)
			next++
			add = append(add, exactEntry(t, id, v))
			holds[v] = id
		}
		m = m.Apply(add, remove)
		if step%8 == 0 {
			olds = append(olds, held{m, copyHolds()})
		}
	}
	require.NotSame(t, first, fieldOf(m).strsMay, "the filter was rebuilt once full")
	olds = append(olds, held{m, copyHolds()})
	for _, h := range olds {
		for v, id := range h.holds {
			require.Equal(t, []string{id}, matchSorted(t, h.m, string(filterEvent(v))), "value %s", v)
		}
		for i := range 50 {
			require.Empty(t, matchSorted(t, h.m, string(filterEvent(fmt.Sprint("absent", i)))))
		}
	}
}

// TestStringFilterConcurrent: readers of a Machine match while Apply, on
// another goroutine, adds keys whose bits go into the filter they read
// (run with -race).
func TestStringFilterConcurrent(t *testing.T) {
	var entries []Entry
	for i := range filterMin {
		entries = append(entries, exactEntry(t, "p"+strconv.Itoa(i), "v"+strconv.Itoa(i)))
	}
	base := Build(entries)
	require.NotNil(t, base.root.child([]byte("k")).field.strsMay)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				v := "v" + strconv.Itoa((i*7+g)%filterMin)
				ids, err := base.Match(nil, filterEvent(v))
				if !assert.NoError(t, err) || !assert.Len(t, ids, 1, "value %s", v) {
					return
				}
			}
		})
	}
	m := base
	for i := range 300 {
		m = m.Apply([]Entry{exactEntry(t, "x"+strconv.Itoa(i), "x"+strconv.Itoa(i))}, nil)
	}
	stop.Store(true)
	wg.Wait()
	require.Equal(t, []string{"x299"}, matchSorted(t, m, string(filterEvent("x299"))))
}
