package pattern

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPvecMatchesSlice drives persistent vectors through random pushes and
// writes, each change in an edit of its own or several in one, keeping
// every version: every version must still read as the slice it was when it
// was made (nodes are shared, and written in place only in slots beyond
// the length of every version that reads them), through at and through a
// cursor; so must versions branched from older ones, which push onto slots
// their successors already took.
func TestPvecMatchesSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type version struct {
		v    pvec[int64]
		want []int64
	}
	var v pvec[int64]
	var want []int64
	var versions, branches []version
	next := int64(1)
	for step := range 3000 {
		ed := &edit{}
		for range 1 + r.IntN(3) {
			if len(want) == 0 || r.IntN(3) > 0 {
				i := v.push(ed)
				require.Equal(t, int32(len(want)), i)
				require.Zero(t, *v.at(i), "a pushed element is zero")
				*v.mut(ed, i) = next
				want = append(want, next)
			} else {
				i := int32(r.IntN(len(want)))
				*v.mut(ed, i) = next
				want[i] = next
			}
			next++
		}
		if step%7 == 0 && len(versions) > 0 {
			// Branch from an older version: its later versions must not see it.
			// Its pushes find their slots taken by the versions grown from
			// it (or take them, when none was), and it must read as itself.
			old := versions[r.IntN(len(versions))]
			b := old.v
			bwant := append([]int64(nil), old.want...)
			bed := &edit{}
			for range 1 + r.IntN(40) {
				bi := b.push(bed)
				require.Zero(t, *b.at(bi), "a pushed element is zero")
				*b.mut(bed, bi) = -next
				bwant = append(bwant, -next)
				next++
			}
			if len(old.want) > 0 {
				k := r.IntN(len(old.want))
				*b.mut(bed, int32(k)) = -next
				bwant[k] = -next
				next++
			}
			branches = append(branches, version{v: b, want: bwant})
		}
		versions = append(versions, version{v: v, want: append([]int64(nil), want...)})
	}
	for k, ver := range append(versions, branches...) {
		require.Equal(t, int32(len(ver.want)), ver.v.len(), "version %d", k)
		var c cursor[int64]
		for i, w := range ver.want {
			require.Equal(t, w, *ver.v.at(int32(i)), "version %d element %d", k, i)
			require.Equal(t, w, *c.at(&ver.v, int32(i)), "version %d element %d (cursor)", k, i)
		}
	}
}

// TestPvecConcurrentBranches grows several versions from one at once, as
// concurrent Applies on one Machine would: each must read as itself, and
// under -race no version's write may meet another's read or write.
func TestPvecConcurrentBranches(t *testing.T) {
	var base pvec[int64]
	ed := &edit{}
	for k := range 45 {
		*base.mut(ed, base.push(ed)) = int64(k)
	}
	const branches, pushes = 4, 300
	got := make([]pvec[int64], branches)
	var wg sync.WaitGroup
	for b := range branches {
		wg.Go(func() {
			v := base
			for range 3 { // several Applies in a row on each branch
				bed := &edit{}
				for range pushes / 3 {
					i := v.push(bed)
					*v.mut(bed, i) = int64(1000*(b+1)) + int64(i)
				}
				*v.mut(bed, int32(b)) = -int64(b + 1)
			}
			got[b] = v
		})
	}
	wg.Wait()
	for k := range 45 {
		require.Equal(t, int64(k), *base.at(int32(k)))
	}
	require.Equal(t, int32(45), base.len())
	for b, v := range got {
		require.Equal(t, int32(45+pushes), v.len())
		for i := range v.len() {
			want := int64(i)
			switch {
			case i == int32(b):
				want = -int64(b + 1)
			case i >= 45:
				want = int64(1000*(b+1)) + int64(i)
			}
			require.Equal(t, want, *v.at(i), "branch %d element %d", b, i)
		}
	}
}
