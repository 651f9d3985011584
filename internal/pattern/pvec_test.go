package pattern

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPvecMatchesSlice drives persistent vectors through random pushes and
// writes, each change in an edit of its own or several in one, keeping
// every version: every version must still read as the slice it was when it
// was made (the tail and the trie's nodes are shared, never written once
// another edit may read them), through at and through a cursor.
func TestPvecMatchesSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type version struct {
		v    pvec[int64]
		want []int64
	}
	var v pvec[int64]
	var want []int64
	var versions []version
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
			old := versions[r.IntN(len(versions))]
			b := old.v
			bed := &edit{}
			bi := b.push(bed)
			*b.mut(bed, bi) = -next
			if len(old.want) > 0 {
				*b.mut(bed, int32(r.IntN(len(old.want)))) = -next - 1
			}
		}
		versions = append(versions, version{v: v, want: append([]int64(nil), want...)})
	}
	for k, ver := range versions {
		require.Equal(t, int32(len(ver.want)), ver.v.len(), "version %d", k)
		var c cursor[int64]
		for i, w := range ver.want {
			require.Equal(t, w, *ver.v.at(int32(i)), "version %d element %d", k, i)
			require.Equal(t, w, *c.at(&ver.v, int32(i)), "version %d element %d (cursor)", k, i)
		}
	}
}
