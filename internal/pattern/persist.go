package pattern

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// Persistent structures for Machine.Apply (see doc.go, "Live changes").
//
// Every structure below is immutable once a Machine that holds it is
// returned. A change copies only the nodes on the way to what it touches
// (path copying) and shares the rest with the Machine it started from.
// Nodes created (or already copied) by the running Apply carry its edit
// token and are changed in place, so that one Apply of many entries (Build)
// copies each node at most once.

// edit is the token of one running Apply. It is not zero-sized, so every
// token has its own address.
type edit struct{ _ byte }

var hashSeed = maphash.MakeSeed()

// hashString hashes a string (also a []byte viewed by bytesKey).
func hashString(s string) uint64 { return maphash.String(hashSeed, s) }

func hashUint64(x uint64) uint64 {
	// splitmix64's finalizer.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func hashAny[K comparable](k K) uint64 { return maphash.Comparable(hashSeed, k) }

// bytesKey views b as a string for a lookup that does not keep it.
func bytesKey(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// pmap is a persistent hash map (a compressed hash-array-mapped trie: 64
// ways per level, entries stored inline). Lookups cost one hash and a few
// levels (log64 of the size: 3 for 100,000 keys, where 32 ways need 4,
// each a node and its array of children to read from memory when the map
// is large); a change copies one node per level. The zero
// value is an empty map. Callers pass the hash of the key to get (so that a
// []byte can be looked up as a string without copying it) and the hash
// function to set and del, always the same function for one map
// (hashString, hashUint64, hashAny).
type pmap[K comparable, V any] struct {
	root *hnode[K, V]
	n    int
}

type hent[K comparable, V any] struct {
	k K
	v V
}

// hnode is a trie node: entries whose hash chunk at this level is unique,
// and children for chunks shared by several keys. Below 64 bits of hash
// (a full collision), a node holds its entries in a plain list.
type hnode[K comparable, V any] struct {
	ed      *edit
	datamap uint64
	nodemap uint64
	ents    []hent[K, V]
	kids    []*hnode[K, V]
}

const (
	hashBits = 64
	hBits    = 6 // bits of hash per level: 64 ways
	hMask    = 1<<hBits - 1
)

func (m *pmap[K, V]) len() int { return m.n }

// get returns the value of k, whose hash is h.
func (m *pmap[K, V]) get(h uint64, k K) (V, bool) {
	n := m.root
	for shift := uint(0); n != nil; shift += hBits {
		if shift >= hashBits {
			for i := range n.ents {
				if n.ents[i].k == k {
					return n.ents[i].v, true
				}
			}
			break
		}
		bit := uint64(1) << ((h >> shift) & hMask)
		if n.datamap&bit != 0 {
			e := &n.ents[bits.OnesCount64(n.datamap&(bit-1))]
			if e.k == k {
				return e.v, true
			}
			break
		}
		if n.nodemap&bit == 0 {
			break
		}
		n = n.kids[bits.OnesCount64(n.nodemap&(bit-1))]
	}
	var zero V
	return zero, false
}

// smallScan is the size up to which lookup compares keys one by one instead
// of hashing: a few comparisons cost less than a hash.
const smallScan = 8

// lookup is get for the matching path: a map of one node with few entries
// is scanned without hashing k; otherwise hf(k) is computed.
func (m *pmap[K, V]) lookup(k K, hf func(K) uint64) (V, bool) {
	if n := m.root; n != nil && len(n.kids) == 0 && len(n.ents) <= smallScan {
		for i := range n.ents {
			if n.ents[i].k == k {
				return n.ents[i].v, true
			}
		}
		var zero V
		return zero, false
	}
	return m.get(hf(k), k)
}

// lookupBytes is lookup for a string-keyed map and a []byte key: the scan
// of a small map compares the length and first byte before the text.
func lookupBytes[V any](m *pmap[string, V], b []byte) (V, bool) {
	if n := m.root; n != nil && len(n.kids) == 0 && len(n.ents) <= smallScan {
		for i := range n.ents {
			if k := n.ents[i].k; len(k) == len(b) && (len(b) == 0 || k[0] == b[0]) && k == string(b) {
				return n.ents[i].v, true
			}
		}
		var zero V
		return zero, false
	}
	k := bytesKey(b)
	return m.get(hashString(k), k)
}

// own returns n itself when ed created it, else a copy owned by ed.
func (n *hnode[K, V]) own(ed *edit) *hnode[K, V] {
	if n.ed == ed {
		return n
	}
	c := &hnode[K, V]{ed: ed, datamap: n.datamap, nodemap: n.nodemap}
	// Room for one more entry: a change that copies a node usually adds
	// to it (set), and insertAt would otherwise copy its entries again.
	if len(n.ents) > 0 {
		c.ents = make([]hent[K, V], len(n.ents), len(n.ents)+1)
		copy(c.ents, n.ents)
	}
	c.kids = append([]*hnode[K, V](nil), n.kids...)
	return c
}

// insertAt returns s with x inserted at i, growing the array by one element
// only: nodes are copied on every change, so slack would only be kept.
func insertAt[T any](s []T, i int, x T) []T {
	if len(s) < cap(s) {
		s = s[:len(s)+1]
	} else {
		t := make([]T, len(s)+1)
		copy(t, s[:i])
		copy(t[i+1:], s[i:])
		t[i] = x
		return t
	}
	copy(s[i+1:], s[i:])
	s[i] = x
	return s
}

// set stores v for k (hf is the hash function of the map).
func (m *pmap[K, V]) set(ed *edit, k K, v V, hf func(K) uint64) {
	if m.root == nil {
		m.root = &hnode[K, V]{ed: ed}
	}
	var added bool
	m.root, added = m.root.set(ed, 0, hf(k), hent[K, V]{k: k, v: v}, hf)
	if added {
		m.n++
	}
}

func (n *hnode[K, V]) set(ed *edit, shift uint, h uint64, e hent[K, V], hf func(K) uint64) (*hnode[K, V], bool) {
	n = n.own(ed)
	if shift >= hashBits {
		for i := range n.ents {
			if n.ents[i].k == e.k {
				n.ents[i].v = e.v
				return n, false
			}
		}
		n.ents = insertAt(n.ents, len(n.ents), e)
		return n, true
	}
	bit := uint64(1) << ((h >> shift) & hMask)
	switch {
	case n.datamap&bit != 0:
		i := bits.OnesCount64(n.datamap & (bit - 1))
		old := n.ents[i]
		if old.k == e.k {
			n.ents[i].v = e.v
			return n, false
		}
		// Two keys share this chunk: push both one level down.
		child := &hnode[K, V]{ed: ed}
		child, _ = child.set(ed, shift+hBits, hf(old.k), old, hf)
		child, _ = child.set(ed, shift+hBits, h, e, hf)
		n.ents = append(n.ents[:i], n.ents[i+1:]...)
		n.datamap &^= bit
		n.kids = insertAt(n.kids, bits.OnesCount64(n.nodemap&(bit-1)), child)
		n.nodemap |= bit
		return n, true
	case n.nodemap&bit != 0:
		j := bits.OnesCount64(n.nodemap & (bit - 1))
		var added bool
		n.kids[j], added = n.kids[j].set(ed, shift+hBits, h, e, hf)
		return n, added
	default:
		n.ents = insertAt(n.ents, bits.OnesCount64(n.datamap&(bit-1)), e)
		n.datamap |= bit
		return n, true
	}
}

// del removes k, if present (hf is the hash function of the map).
func (m *pmap[K, V]) del(ed *edit, k K, hf func(K) uint64) {
	h := hf(k)
	if _, ok := m.get(h, k); !ok {
		return
	}
	m.root = m.root.del(ed, 0, h, k)
	m.n--
	if m.n == 0 {
		m.root = nil
	}
}

// del removes a key known to be present.
func (n *hnode[K, V]) del(ed *edit, shift uint, h uint64, k K) *hnode[K, V] {
	n = n.own(ed)
	if shift >= hashBits {
		for i := range n.ents {
			if n.ents[i].k == k {
				n.ents = append(n.ents[:i], n.ents[i+1:]...)
				break
			}
		}
		return n
	}
	bit := uint64(1) << ((h >> shift) & hMask)
	if n.datamap&bit != 0 {
		i := bits.OnesCount64(n.datamap & (bit - 1))
		n.ents = append(n.ents[:i], n.ents[i+1:]...)
		n.datamap &^= bit
		return n
	}
	j := bits.OnesCount64(n.nodemap & (bit - 1))
	c := n.kids[j].del(ed, shift+hBits, h, k)
	if len(c.kids) == 0 && len(c.ents) <= 1 && shift+hBits < hashBits {
		// Pull a child of one entry (or none) back up.
		n.kids = append(n.kids[:j], n.kids[j+1:]...)
		n.nodemap &^= bit
		if len(c.ents) == 1 {
			n.ents = insertAt(n.ents, bits.OnesCount64(n.datamap&(bit-1)), c.ents[0])
			n.datamap |= bit
		}
		return n
	}
	n.kids[j] = c
	return n
}

// each calls f for every entry, in no particular order.
func (m *pmap[K, V]) each(f func(k K, v V)) {
	if m.root != nil {
		m.root.each(f)
	}
}

func (n *hnode[K, V]) each(f func(k K, v V)) {
	for i := range n.ents {
		f(n.ents[i].k, n.ents[i].v)
	}
	for _, c := range n.kids {
		c.each(f)
	}
}

// pvec is a persistent vector (a 32-way radix trie over the index). Reading
// an element costs one step per level (log32 of the length); a change to an
// element copies one node per level.
//
// Appending does not copy: no version of the vector reads an index at or
// beyond its own length, so the slot of a new element is free in every node
// on its way, and a push writes it in place once it has claimed it. Each
// node counts the slots in use (fill); a push claims the next slot by moving
// that count from the slot's index to one more (a compare-and-swap, since
// another Apply may push onto the same version), so of several versions
// grown from one, the first to push into a node writes there and the others
// copy the node's used slots, as a change does.
type pvec[T any] struct {
	root  *pvnode[T]
	n     int32
	shift uint8
	// The elements from index mine on were pushed by the Apply with token
	// med: their slots are this vector's alone, so they are written in place.
	med  *edit
	mine int32
}

type pvnode[T any] struct {
	ed   *edit
	fill atomic.Int32 // slots claimed (see pvec)
	kids []*pvnode[T] // interior node
	vals []T          // leaf
}

// at returns element i (i < len) for reading only.
func (v *pvec[T]) at(i int32) *T {
	n := v.root
	for s := v.shift; s > 0; s -= 5 {
		n = n.kids[(i>>s)&31]
	}
	return &n.vals[i&31]
}

func (v *pvec[T]) len() int32 { return v.n }

// cursor reads elements of a pvec through the leaf of the last one read, so
// that reading in index order walks the trie once per 32 elements.
type cursor[T any] struct {
	leaf []T
	base int32 // index of leaf[0]
}

func (c *cursor[T]) at(v *pvec[T], i int32) *T {
	if c.leaf == nil || i&^31 != c.base {
		n := v.root
		for s := v.shift; s > 0; s -= 5 {
			n = n.kids[(i>>s)&31]
		}
		c.leaf, c.base = n.vals, i&^31
	}
	return &c.leaf[i&31]
}

// mut returns element i (i < len) for writing under ed, copying the nodes on
// its way that ed does not own, unless ed pushed it.
func (v *pvec[T]) mut(ed *edit, i int32) *T {
	if v.med == ed && i >= v.mine {
		return v.at(i)
	}
	return v.copyPath(ed, i, false)
}

// copyPath makes the nodes on the way to element i owned by ed, copying the
// others, and returns the element. With fresh, i is being pushed (i == len):
// a node that i is the first element of is made new, not copied, and every
// node on the way counts i's slot as used.
func (v *pvec[T]) copyPath(ed *edit, i int32, fresh bool) *T {
	v.root = v.root.own(ed, v.shift, v.used(0, v.shift))
	n := v.root
	for s := v.shift; s > 0; s -= 5 {
		j := (i >> s) & 31
		base := i &^ (1<<s - 1)
		var c *pvnode[T]
		if fresh && i == base {
			c = newPvnode[T](ed, s-5)
		} else {
			c = n.kids[j].own(ed, s-5, v.used(base, s-5))
		}
		if fresh {
			n.fill.Store(j + 1)
		}
		n.kids[j] = c
		n = c
	}
	if fresh {
		n.fill.Store(i&31 + 1)
	}
	return &n.vals[i&31]
}

// used returns how many slots of the node at shift s whose first element is
// base hold elements of v.
func (v *pvec[T]) used(base int32, s uint8) int32 {
	k := v.n - base
	if k <= 0 {
		return 0
	}
	return min((k+1<<s-1)>>s, 32)
}

func newPvnode[T any](ed *edit, s uint8) *pvnode[T] {
	c := &pvnode[T]{ed: ed}
	if s == 0 {
		c.vals = make([]T, 32)
	} else {
		c.kids = make([]*pvnode[T], 32)
	}
	return c
}

// own returns n itself when ed created it, else a copy owned by ed of its
// first used slots (only those: the others may be another version's, being
// written by its own Apply).
func (n *pvnode[T]) own(ed *edit, s uint8, used int32) *pvnode[T] {
	if n != nil && n.ed == ed {
		return n
	}
	c := newPvnode[T](ed, s)
	if n != nil {
		if s == 0 {
			copy(c.vals, n.vals[:used])
		} else {
			copy(c.kids, n.kids[:used])
		}
	}
	c.fill.Store(used)
	return c
}

// claim takes slot j of n for the element being pushed.
func (n *pvnode[T]) claim(ed *edit, j int32) bool {
	if n.ed == ed {
		n.fill.Store(j + 1)
		return true
	}
	return n.fill.CompareAndSwap(j, j+1)
}

// push appends a zero element and returns its index.
func (v *pvec[T]) push(ed *edit) int32 {
	i := v.n
	if v.med != ed {
		v.med, v.mine = ed, i
	}
	switch {
	case v.root == nil:
		v.root = newPvnode[T](ed, 0)
	case i == int32(32)<<v.shift:
		top := newPvnode[T](ed, v.shift+5)
		top.kids[0] = v.root
		top.fill.Store(1)
		v.root = top
		v.shift += 5
	}
	var p *T
	if p = v.claimPath(ed, i); p == nil {
		// Copied while the length still excludes i: no other version's slot
		// is read.
		p = v.copyPath(ed, i, true)
	}
	var zero T
	*p = zero
	v.n++
	return i
}

// claimPath claims the slot of element i (just pushed) where it starts: in
// its leaf, or in the node above the first node that i is the first element
// of (a new node, linked there). It returns the element, or nil when
// another version claimed the slot first.
func (v *pvec[T]) claimPath(ed *edit, i int32) *T {
	n := v.root
	for s := v.shift; s > 0; s -= 5 {
		j := (i >> s) & 31
		if i&(1<<s-1) == 0 {
			if !n.claim(ed, j) {
				return nil
			}
			c := newPvnode[T](ed, s-5)
			n.kids[j] = c
			for t := s - 5; t > 0; t -= 5 {
				c.fill.Store(1)
				c.kids[0] = newPvnode[T](ed, t-5)
				c = c.kids[0]
			}
			c.fill.Store(1)
			return &c.vals[0]
		}
		n = n.kids[j]
	}
	if !n.claim(ed, i&31) {
		return nil
	}
	return &n.vals[i&31]
}

// freeList is a persistent stack of reusable indexes.
type freeList struct {
	i    int32
	next *freeList
}
