package eda

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/edakit/eda/internal/pattern"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDest counts its retirements.
type fakeDest struct{ retired atomic.Int32 }

func (d *fakeDest) Retire() { d.retired.Add(1) }

func mustParse(t testing.TB, p string) *pattern.Parsed {
	t.Helper()
	parsed, err := pattern.Parse([]byte(p), pattern.DefaultLimits())
	require.NoError(t, err)
	return parsed
}

// TestRouteTableRetiresOnlyWhenNoReaderIsLeft checks the promise of
// routes.go: a destination removed by a change is retired once no event is
// being routed with a table that named it — not before, and exactly once.
func TestRouteTableRetiresOnlyWhenNoReaderIsLeft(t *testing.T) {
	var rt routeTables[string]
	rt.init()
	d := &fakeDest{}
	rt.apply(routeChange[string]{id: "r", route: "v1", on: true, p: mustParse(t, `{"source":["a"]}`)})

	reader := rt.acquire() // an event being routed with the table naming d
	rt.apply(routeChange[string]{id: "r", remove: true, retire: []retirer{d}})
	assert.Equal(t, int32(0), d.retired.Load(), "retired while an event was being routed with the old table")
	assert.Nil(t, rt.load().machine, "no route is on")
	assert.Equal(t, "v1", reader.routes.At("r"), "the reader keeps its table")

	later := rt.acquire()
	rt.release(later) // a reader of the new table does not hold d
	assert.Equal(t, int32(0), d.retired.Load())
	rt.release(reader)
	assert.Equal(t, int32(1), d.retired.Load(), "retired when the last reader of the old table left")
	rt.apply(routeChange[string]{id: "x", route: "x", on: true, p: mustParse(t, `{"source":["x"]}`)})
	assert.Equal(t, int32(1), d.retired.Load(), "retired once")
}

// TestRouteTableOffRoutes checks that a route that is off stays in the
// table but out of the machine, and comes back with its pattern.
func TestRouteTableOffRoutes(t *testing.T) {
	var rt routeTables[string]
	rt.init()
	p := mustParse(t, `{"source":["a"]}`)
	rt.apply(routeChange[string]{id: "r", route: "on", on: true, p: p})
	ids, err := rt.load().machine.Match(nil, []byte(`{"source":"a"}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"r"}, ids)

	rt.apply(routeChange[string]{id: "r", route: "off", on: false, p: p})
	assert.Equal(t, "off", rt.load().routes.At("r"))
	assert.Nil(t, rt.load().machine)

	rt.apply(routeChange[string]{id: "r", route: "on", on: true, p: p})
	ids, err = rt.load().machine.Match(nil, []byte(`{"source":"a"}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"r"}, ids)
}

// TestRouteTableConcurrentChanges routes on several goroutines while a
// writer changes the routes: every reader sees a table whose machine and
// routes agree (a matched id is always in the routes), and every removed
// destination is retired exactly once by the end.
func TestRouteTableConcurrentChanges(t *testing.T) {
	var rt routeTables[*fakeDest]
	rt.init()
	p := mustParse(t, `{"source":["a"]}`)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var ids []string
			for !stop.Load() {
				tb := rt.acquire()
				if tb.machine != nil {
					ids, _ = tb.machine.Match(ids[:0], []byte(`{"source":"a"}`))
					for _, id := range ids {
						d := tb.routes.At(id)
						if assert.NotNil(t, d, "matched %s, not in the table", id) {
							assert.Equal(t, int32(0), d.retired.Load(), "routing to a retired destination")
						}
					}
				}
				rt.release(tb)
			}
		})
	}
	var all []*fakeDest
	var cur *fakeDest
	for i := range 2000 {
		d := &fakeDest{}
		all = append(all, d)
		var retire []retirer
		if cur != nil {
			retire = []retirer{cur}
		}
		rt.mu.Lock()
		if i%3 == 2 {
			rt.apply(routeChange[*fakeDest]{id: "r", remove: true, retire: retire})
			cur = nil
			all = all[:len(all)-1]
		} else {
			rt.apply(routeChange[*fakeDest]{id: "r", route: d, on: true, p: p, retire: retire})
			cur = d
		}
		rt.mu.Unlock()
	}
	stop.Store(true)
	wg.Wait()
	rt.sweep()
	for _, d := range all {
		want := int32(1)
		if d == cur {
			want = 0
		}
		assert.Equal(t, want, d.retired.Load())
	}
}

// A route moves between scopes and to and from "no pattern" (a Topic
// subscription whose policy changes scope, or is removed): each table's
// machines and always list hold it in exactly one place.
func TestRouteTableScopeChanges(t *testing.T) {
	var rt routeTables[string]
	rt.init()
	p := mustParse(t, `{"a":["1"]}`)
	where := func() (attrs, body int, always []string) {
		tb := rt.load()
		return tb.patterned[0], tb.patterned[1], slices.Concat(tb.always.chunks...)
	}
	rt.apply(routeChange[string]{id: "s", route: "s", on: true, p: p, scope: 0})
	a, b, al := where()
	assert.Equal(t, []any{1, 0, 0}, []any{a, b, len(al)})
	rt.apply(routeChange[string]{id: "s", route: "s", on: true, p: p, scope: 1})
	a, b, al = where()
	assert.Equal(t, []any{0, 1, 0}, []any{a, b, len(al)})
	assert.Nil(t, rt.load().machine, "an empty machine is dropped")
	rt.apply(routeChange[string]{id: "s", route: "s", on: true})
	a, b, al = where()
	assert.Equal(t, []any{0, 0, 1}, []any{a, b, len(al)})
	rt.apply(routeChange[string]{id: "t", route: "t", on: true, p: p})
	rt.apply(routeChange[string]{id: "s", route: "s", on: true, p: p})
	a, b, al = where()
	assert.Equal(t, []any{2, 0, 0}, []any{a, b, len(al)})
	ids, err := rt.load().machine.MatchAttrs(nil, nil)
	require.NoError(t, err)
	assert.Empty(t, ids)
	rt.apply(routeChange[string]{id: "s", remove: true})
	a, b, al = where()
	assert.Equal(t, []any{1, 0, 0}, []any{a, b, len(al)})
}

// A route table's map (pattern.StringMap) and routeList are persistent: through random changes, every
// version kept reads as the plain map or slice it was when it was made.
func TestRouteMapAndListArePersistent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type mapVersion struct {
		m    pattern.StringMap[int]
		want map[string]int
	}
	type listVersion struct {
		l    routeList[int]
		want []int
	}
	var m pattern.StringMap[int]
	var l routeList[int]
	want := map[string]int{}
	var wantList []int
	var mapVersions []mapVersion
	var lists []listVersion
	next := 1
	for step := range 3000 {
		id := fmt.Sprint("id", r.IntN(400))
		switch k := r.IntN(10); {
		case k < 6:
			m = m.With(id, next, false)
			want[id] = next
		default:
			m = m.With(id, 0, true)
			delete(want, id)
		}
		switch k := r.IntN(10); {
		case k < 6 || len(wantList) == 0:
			l = l.add(next)
			wantList = append(wantList, next)
		case k < 8:
			i := r.IntN(len(wantList))
			l = l.remove(wantList[i])
			wantList = slices.Delete(slices.Clone(wantList), i, i+1)
		default:
			i := r.IntN(len(wantList))
			l = l.replace(wantList[i], -next)
			wantList = slices.Clone(wantList)
			wantList[i] = -next
		}
		next++
		if step%10 == 0 {
			mapVersions = append(mapVersions, mapVersion{m, maps.Clone(want)})
			lists = append(lists, listVersion{l, slices.Clone(wantList)})
		}
	}
	for k, v := range mapVersions {
		require.Equal(t, len(v.want), v.m.Len(), "version %d", k)
		got := map[string]int{}
		for id, x := range v.m.All() {
			got[id] = x
		}
		require.Equal(t, v.want, got, "version %d", k)
		for id, x := range v.want {
			require.Equal(t, x, v.m.At(id))
		}
		_, ok := v.m.Get("absent")
		require.False(t, ok)
	}
	for k, v := range lists {
		require.Equal(t, len(v.want), v.l.len(), "version %d", k)
		require.Equal(t, v.want, append([]int{}, slices.Concat(v.l.chunks...)...), "version %d", k)
	}
}
