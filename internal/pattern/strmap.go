package pattern

import "iter"

// StringMap is an immutable map from strings to V, changed by With into a
// new map that shares all but the nodes on the changed key's way: the
// persistent hash trie the Machine keeps its own maps in (pmap), for
// callers outside the package (the routers' route tables). A change costs
// a few nodes, however many keys there are. The zero value is empty.
type StringMap[V any] struct{ m pmap[string, V] }

// Get returns the value of k, and whether k is present.
func (s StringMap[V]) Get(k string) (V, bool) { return s.m.lookup(k, hashString) }

// At returns the value of k, or the zero V when k is absent.
func (s StringMap[V]) At(k string) V {
	v, _ := s.m.lookup(k, hashString)
	return v
}

// Len returns the number of keys.
func (s StringMap[V]) Len() int { return s.m.len() }

// All yields every key and its value, in no particular order.
func (s StringMap[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		stop := false
		s.m.each(func(k string, v V) {
			if !stop && !yield(k, v) {
				stop = true
			}
		})
	}
}

// With returns s with k set to v, or with k removed (remove); s is not
// changed.
func (s StringMap[V]) With(k string, v V, remove bool) StringMap[V] {
	ed := &edit{}
	if remove {
		s.m.del(ed, k, hashString)
	} else {
		s.m.set(ed, k, v, hashString)
	}
	return s
}
