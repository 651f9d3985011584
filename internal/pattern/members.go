package pattern

import (
	"strings"
	"sync/atomic"
)

// Layout names the members of the top-level object of events that all have
// these members, in this order: the Bus's envelopes. A Machine resolves a
// Layout against its trie once (MatchLayout) and keeps the result, so that
// matching such an event costs no key lookups at the top level. A Layout is
// immutable.
type Layout struct {
	keys []string
}

// NewLayout returns the Layout of events whose top-level members are keys,
// in that order, each once.
func NewLayout(keys ...string) *Layout {
	return &Layout{keys: append([]string(nil), keys...)}
}

// resolved is a Layout resolved against one Machine: per member, the trie
// node of its key (nil when no pattern names it) and whether the key is
// direct (has no dot: see frame.seen).
type resolved struct {
	layout *Layout
	nodes  []*pathNode
	direct []bool
}

// resolve returns l resolved against m, from m's cache when it is l's.
func (m *Machine) resolve(l *Layout) *resolved {
	if r := m.layout.Load(); r != nil && r.layout == l {
		return r
	}
	r := &resolved{layout: l, nodes: make([]*pathNode, len(l.keys)), direct: make([]bool, len(l.keys))}
	for k, key := range l.keys {
		if key == "" && !m.emptyStep {
			continue // no pattern reads an empty key (usesEmptyStep)
		}
		r.nodes[k] = m.root.childString(key)
		r.direct[k] = strings.IndexByte(key, '.') < 0
	}
	m.layout.Store(r)
	return r
}

// layoutCache holds a Machine's last resolved Layout.
type layoutCache = atomic.Pointer[resolved]

// MatchLayout is Match for an event whose top-level object the caller has
// written itself, so that its members need not be found by reading it: the
// Bus writes every envelope and knows where each value starts. The event's
// top-level members are those of l, in l's order, and offsets[k] is the
// offset in event of member k's value (or of white space before it); event
// must be that object and valid JSON. The values that no pattern names are not read at
// all. The result is Match's.
func (m *Machine) MatchLayout(dst []string, event []byte, l *Layout, offsets []int) ([]string, error) {
	r := m.resolve(l)
	st := m.acquire()
	defer m.release(st)
	st.reset()
	sc := scanner{data: event, st: st, frames: st.frames[:0], known: true}
	err := sc.members(m.root, r, offsets)
	if err == errDuplicate {
		st.reset()
		st.dotted = true // the rescan does not tell (manyRoutes)
		st.pending = st.pending[:0]
		sc = scanner{data: event, st: st, frames: sc.frames[:0], known: true, dedup: true}
		err = sc.members(m.root, r, offsets)
	}
	st.frames = sc.frames[:0]
	if err != nil {
		return dst, err
	}
	return st.collect(dst), nil
}

// members is object for the top-level object, whose members are given: it
// reads only the values of the members that patterns name. The keys are
// distinct, so the top level needs neither the duplicate checks of object
// nor, for an early stop, the search of the rest for its keys (canStop
// skips the first frame when s.known).
func (s *scanner) members(root *pathNode, r *resolved, offsets []int) error {
	if len(s.data) == 0 || s.data[0] != '{' {
		return ErrNotObject
	}
	s.frames = append(s.frames, frame{node: root})
	e := s.st.beginContainer(root, eObject, -1)
	for k, child := range r.nodes {
		if child == nil {
			continue
		}
		if r.direct[k] {
			s.frames[0].seen++ // before the value: an early stop inside it counts it
		}
		i, err := s.value(s.ws(offsets[k]), child, e) // a value may follow white space (a detail may start with some)
		if err != nil || s.stopped {
			return err
		}
		if r.direct[k] && s.frames[0].seen == root.direct && s.canStop(i) {
			s.stopped = true
			return nil
		}
	}
	return nil
}

// childString is child for a key held as a string.
func (n *pathNode) childString(key string) *pathNode {
	if n.kmap != nil {
		return n.kmap[key]
	}
	for i, k := range n.keys {
		if k == key {
			return n.kids[i]
		}
	}
	return nil
}
