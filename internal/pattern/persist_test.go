package pattern

import (
	"maps"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPmapMatchesMap: random sets and deletes on a pmap give the contents of
// a Go map, through get, lookup, len and each, with a full hash and with
// hashes that share all but a few bits (so that keys go down every level
// to the full-collision lists and come back up on delete); and every
// earlier version, kept, still holds its own contents.
func TestPmapMatchesMap(t *testing.T) {
	hashes := map[string]func(string) uint64{
		"full": hashString,
		// Only the top bits differ: keys share every level but the last.
		"top-bits": func(k string) uint64 { return hashString(k) & 0xF000_0000_0000_0000 },
		// Four distinct hashes: full collisions.
		"collide": func(k string) uint64 { return hashString(k) & 3 },
	}
	for name, hf := range hashes {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 5))
			var m pmap[string, int]
			want := map[string]int{}
			type version struct {
				m    pmap[string, int]
				want map[string]int
			}
			var kept []version
			for step := range 3000 {
				ed := &edit{}
				for range 1 + r.IntN(4) {
					k := strconv.Itoa(r.IntN(400))
					if r.IntN(3) == 0 {
						m.del(ed, k, hf)
						delete(want, k)
					} else {
						m.set(ed, k, step, hf)
						want[k] = step
					}
				}
				require.Equal(t, len(want), m.len())
				if step%100 == 0 {
					got := map[string]int{}
					m.each(func(k string, v int) { got[k] = v })
					require.Equal(t, want, got, "step %d", step)
					kept = append(kept, version{m, maps.Clone(want)})
				}
				k := strconv.Itoa(r.IntN(400))
				v, ok := m.get(hf(k), k)
				w, wok := want[k]
				require.Equal(t, wok, ok, "get %q", k)
				require.Equal(t, w, v, "get %q", k)
				v, ok = m.lookup(k, hf)
				require.Equal(t, wok, ok, "lookup %q", k)
				require.Equal(t, w, v, "lookup %q", k)
			}
			for _, v := range kept {
				got := map[string]int{}
				v.m.each(func(k string, x int) { got[k] = x })
				require.Equal(t, v.want, got, "a kept version changed")
			}
		})
	}
}
