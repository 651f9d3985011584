package pattern

// Member is one member of an event's top-level object whose place the
// caller already knows: its key, and the offset in the event of the first
// byte of its value.
type Member struct {
	Key   string
	Value int
}

// MatchMembers is Match for an event whose top-level object the caller has
// written itself, so that its members need not be found by reading it: the
// Bus writes every envelope and knows where each value starts. members
// lists the top-level members in the order they appear in event, each key
// once; event must be that object, valid JSON, in which the values not
// named by any pattern are not read at all. The result is Match's.
func (m *Machine) MatchMembers(dst []string, event []byte, members []Member) ([]string, error) {
	st := m.acquire()
	defer m.release(st)
	st.reset()
	sc := scanner{data: event, st: st, frames: st.frames[:0], known: true}
	err := sc.members(m.root, members)
	if err == errDuplicate {
		st.reset()
		st.pending = st.pending[:0]
		sc = scanner{data: event, st: st, frames: sc.frames[:0], known: true, dedup: true}
		err = sc.members(m.root, members)
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
func (s *scanner) members(root *pathNode, members []Member) error {
	if len(s.data) == 0 || s.data[0] != '{' {
		return ErrNotObject
	}
	s.frames = append(s.frames, frame{node: root})
	st := s.st
	e := st.beginContainer(root, eObject, -1)
	for _, mb := range members {
		if mb.Key == "" {
			continue // the envelope has no empty key; see object for its rules
		}
		child := root.childString(mb.Key)
		if child == nil {
			continue
		}
		direct := !containsDot(mb.Key)
		if direct {
			s.frames[0].seen++ // before the value: an early stop inside it counts it
		}
		i, err := s.value(mb.Value, child, e)
		if err != nil || s.stopped {
			return err
		}
		if direct && s.frames[0].seen == root.direct && s.canStop(i) {
			s.stopped = true
			return nil
		}
	}
	return nil
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
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
