package pattern

import (
	"github.com/edakit/eda/internal/jsontext"

	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The event scanner is purpose-built rather than gjson's iteration: it
// descends only into keys the path trie names, skips every other value
// eight bytes at a time (SWAR: quotes found with a zero-byte test, bracket
// depth moved by popcounts), reports leaves straight to the matching state
// without building anything, and stops early (canStop). gjson stays the
// reference point: BenchmarkGJSONFloor (one gjson.GetBytes per event, which
// also stops early) against BenchmarkEngineCityLots decided it; a scanner
// that reads every byte of the event, as a gjson ForEach walk does, cannot
// reach the targets because the long coordinate arrays dominate the bytes.
//
// Duplicate keys: the last occurrence wins. A duplicate named key is
// detected on the fly (a per-node "seen in this object" stamp); the event is
// then rescanned in a mode that, per object, keeps only the last occurrence
// of each named key. Early stop remains exact under this rule because it
// requires the unread rest to contain no named key text at all.

var errDuplicate = errors.New("duplicate key")

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasZero flags (in bit 7 of each byte) the zero bytes of w; the lowest
// flagged byte is always a true zero.
func hasZero(w uint64) uint64 { return (w - ones) & ^w & highs }

// stringEnd returns the index of the closing quote of the string whose
// opening quote is at data[i], and whether the string holds escapes.
func stringEnd(data []byte, i int) (int, bool, error) {
	i++
	esc := false
	for {
		for i+8 <= len(data) {
			w := binary.LittleEndian.Uint64(data[i:])
			t := hasZero(w^(ones*'"')) | hasZero(w^(ones*'\\'))
			if t != 0 {
				i += bits.TrailingZeros64(t) >> 3
				goto found
			}
			i += 8
		}
		for i < len(data) && data[i] != '"' && data[i] != '\\' {
			i++
		}
		if i >= len(data) {
			return 0, false, errors.New("unterminated string")
		}
	found:
		if data[i] == '"' {
			return i, esc, nil
		}
		esc = true
		i += 2
		if i > len(data) {
			return 0, false, errors.New("unterminated string")
		}
	}
}

// scanner walks one JSON event for a Machine.
type scanner struct {
	data    []byte
	st      *state
	dedup   bool
	depth   int // nesting of containers on named paths
	arrays  int // arrays on the current path: no early stop inside one
	stopped bool
	strict  bool    // validate everything, never stop early (validate.go)
	known   bool    // the top-level members are given (MatchLayout)
	frames  []frame // objects on the current path
}

// frame is an object on the current path: its node and how many of the
// node's direct (dot-free) children it has shown so far.
type frame struct {
	node *pathNode
	seen int
}

// canStop reports whether the rest of the event, data[i:], cannot change the
// result: every object on the current path has shown all the keys patterns
// name there (so nothing is missing that a later key could supply), no array
// is open (later elements could match), and the rest holds neither a
// backslash (an escaped key) nor the text `"key` for any key named at any
// level of the path (so no later duplicate can replace a value, since the last
// duplicate wins). Then the scanner stops: this is the early stop, and the
// rest of the event is not validated.
func (s *scanner) canStop(i int) bool {
	if s.arrays > 0 || s.dedup || s.strict {
		return false
	}
	// With the top-level members given (s.known), the top level's keys are
	// distinct: no later member can replace one, so the rest need not be
	// searched for them.
	first := 0
	if s.known {
		first = 1
	}
	for k := range s.frames {
		f := &s.frames[k]
		if f.seen != f.node.direct || k >= first && f.node.stopKeys == nil {
			return false
		}
	}
	rest := s.data[i:]
	if bytes.IndexByte(rest, '\\') >= 0 {
		return false
	}
	for k := first; k < len(s.frames); k++ {
		for _, key := range s.frames[k].node.stopKeys {
			if containsKey(rest, key) {
				return false
			}
		}
	}
	// The event must at least end like an object: this catches truncated
	// events and trailing garbage without reading the rest. (Checked last:
	// the passes above bring the end of the event into the cache in order.)
	end := len(s.data)
	for end > i && jsontext.IsSpace(s.data[end-1]) {
		end--
	}
	return end > i && s.data[end-1] == '}'
}

// containsKey reports whether rest contains `"` followed by key. It searches
// for key alone (quotes are frequent in JSON and would make the search stop
// often) and then checks the byte before.
func containsKey(rest, key []byte) bool {
	if len(key) == 0 {
		return bytes.IndexByte(rest, '"') >= 0
	}
	for off := 1; off < len(rest); {
		j := bytes.Index(rest[off:], key)
		if j < 0 {
			return false
		}
		if rest[off+j-1] == '"' {
			return true
		}
		off += j + 1
	}
	return false
}

// maxDescent bounds the nesting of containers on named paths (the scanner
// recurses there), as encoding/json bounds nesting at 10,000.
const maxDescent = 10000

func (s *scanner) ws(i int) int {
	for i < len(s.data) && jsontext.IsSpace(s.data[i]) {
		i++
	}
	return i
}

func (s *scanner) fail(i int, msg string) error {
	return fmt.Errorf("%w: invalid JSON at offset %d: %s", ErrNotObject, i, msg)
}

// run scans the whole event.
func (s *scanner) run(root *pathNode) error {
	i := s.ws(0)
	if i >= len(s.data) || s.data[i] != '{' {
		return ErrNotObject
	}
	i, err := s.object(i, root, -1)
	if err != nil {
		return err
	}
	if s.stopped {
		return nil
	}
	if i = s.ws(i); i != len(s.data) {
		return s.fail(i, "data after the event object")
	}
	return nil
}

// object scans the object at data[i] whose path is node.
//
// It is kept whole on purpose, although long: it runs for every object of
// every event, and split into named parts (the member's key, the object's
// id, the deferred members of a scan that takes the last of duplicate keys)
// it measured about 1% slower across the city-lots rule sets and 3% on
// AnythingBut (CPU time, alternated runs), for no gain to the reader that
// would pay for it on this path.
func (s *scanner) object(i int, node *pathNode, parent int32) (int, error) {
	if s.depth >= maxDescent {
		return 0, s.fail(i, "nesting too deep")
	}
	s.depth++
	s.frames = append(s.frames, frame{node: node})
	fi := len(s.frames) - 1
	defer func() { s.depth--; s.frames = s.frames[:fi] }()
	st := s.st
	e := st.beginContainer(node, eObject, parent)
	st.objSeq++
	if st.objSeq == 0 {
		clear(st.seen)
		st.objSeq = 1
	}
	obj := st.objSeq
	base := len(st.pending)
	data := s.data
	i = s.ws(i + 1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return 0, s.fail(i, "expected a key")
		}
		end, esc, err := s.stringEnd(i)
		if err != nil {
			return 0, err
		}
		key := data[i+1 : end]
		if esc {
			var ok bool
			st.keyBuf, ok = jsontext.AppendUnescaped(st.keyBuf[:0], key)
			if !ok {
				return 0, s.fail(i, "invalid escape")
			}
			key = st.keyBuf
		}
		i = s.ws(end + 1)
		if i >= len(data) || data[i] != ':' {
			return 0, s.fail(i, "expected ':'")
		}
		i = s.ws(i + 1)
		child := node.child(key)
		empty := len(key) == 0
		if empty && !st.m.emptyStep {
			child = nil // no pattern reads an empty key (usesEmptyStep)
		}
		if child == nil {
			i, err = s.skip(i)
		} else if s.dedup {
			if st.seen[child.id] == obj {
				st.pending[st.seenPos[child.id]].pos = i
			} else {
				st.seen[child.id] = obj
				st.seenPos[child.id] = int32(len(st.pending))
				st.pending = append(st.pending, pendingMember{node: child, pos: i, empty: empty})
			}
			i, err = s.skip(i)
		} else {
			if st.seen[child.id] == obj {
				return 0, errDuplicate
			}
			st.seen[child.id] = obj
			direct := bytes.IndexByte(key, '.') < 0
			if direct {
				s.frames[fi].seen++
			} else {
				st.dotted = true
			}
			if empty {
				i, err = s.emptyKeyValue(i, child, e)
			} else {
				i, err = s.value(i, child, e)
			}
			if err == nil {
				if s.stopped {
					return i, nil
				}
				if direct && s.frames[fi].seen == node.direct && s.canStop(i) {
					s.stopped = true
					return i, nil
				}
			}
		}
		if err != nil {
			return 0, err
		}
		i = s.ws(i)
		if i >= len(data) {
			return 0, s.fail(i, "unterminated object")
		}
		if data[i] == ',' {
			i = s.ws(i + 1)
			continue
		}
		if data[i] != '}' {
			return 0, s.fail(i, "expected ',' or '}'")
		}
		i++
		break
	}
	if s.dedup {
		top := len(st.pending)
		for k := base; k < top; k++ {
			pm := st.pending[k]
			var err error
			if pm.empty {
				_, err = s.emptyKeyValue(pm.pos, pm.node, e)
			} else {
				_, err = s.value(pm.pos, pm.node, e)
			}
			if err != nil {
				return 0, err
			}
		}
		st.pending = st.pending[:base]
	}
	return i, nil
}

// emptyKeyValue is value for the member of an empty key: the leaves below it
// do not count for the patterns that do not read empty keys (state.hit).
func (s *scanner) emptyKeyValue(i int, node *pathNode, parent int32) (int, error) {
	st := s.st
	was := st.viaEmpty
	st.viaEmpty = true
	i, err := s.value(i, node, parent)
	st.viaEmpty = was
	return i, err
}

// array scans the array at data[i] whose path is node.
func (s *scanner) array(i int, node *pathNode, parent int32) (int, error) {
	if s.depth >= maxDescent {
		return 0, s.fail(i, "nesting too deep")
	}
	s.depth++
	s.arrays++
	defer func() { s.depth--; s.arrays-- }()
	st := s.st
	e := st.beginContainer(node, eArray, parent)
	data := s.data
	i = s.ws(i + 1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(data) {
			return 0, s.fail(i, "unterminated array")
		}
		switch data[i] {
		case '{':
			if node.hasKids() {
				st.sawArray = true
			}
		case '[':
			st.sawArray = true
		}
		var err error
		if i, err = s.value(i, node, e); err != nil {
			return 0, err
		}
		i = s.ws(i)
		if i >= len(data) {
			return 0, s.fail(i, "unterminated array")
		}
		if data[i] == ',' {
			i = s.ws(i + 1)
			continue
		}
		if data[i] != ']' {
			return 0, s.fail(i, "expected ',' or ']'")
		}
		return i + 1, nil
	}
}

// value scans the value at data[i] whose path is node (a named path).
func (s *scanner) value(i int, node *pathNode, parent int32) (int, error) {
	data := s.data
	if i >= len(data) {
		return 0, s.fail(i, "expected a value")
	}
	st := s.st
	switch c := data[i]; c {
	case '{':
		if node.hasKids() {
			return s.object(i, node, parent)
		}
		return s.skip(i) // an object is not a leaf
	case '[':
		return s.array(i, node, parent)
	case '"':
		end, esc, err := s.stringEnd(i)
		if err != nil {
			return 0, err
		}
		if node.field != nil {
			raw := data[i+1 : end]
			if esc {
				var ok bool
				st.strBuf, ok = jsontext.AppendUnescaped(st.strBuf[:0], raw)
				if !ok {
					return 0, s.fail(i, "invalid escape")
				}
				raw = st.strBuf
			}
			st.val = leafValue{kind: vString, str: raw}
			st.leaf(node, parent)
		}
		return end + 1, nil
	case 't', 'f', 'n':
		var lit string
		var k vkind
		switch c {
		case 't':
			lit, k = "true", vTrue
		case 'f':
			lit, k = "false", vFalse
		default:
			lit, k = "null", vNull
		}
		if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
			return 0, s.fail(i, "invalid literal")
		}
		if node.field != nil {
			st.val = leafValue{kind: k}
			st.leaf(node, parent)
		}
		return i + len(lit), nil
	default:
		j := numberEnd(data, i)
		if s.strict {
			j = numberGrammarEnd(data, i)
		}
		if j <= i {
			return 0, s.fail(i, "invalid number")
		}
		if node.field != nil {
			st.val = leafValue{kind: vNumber, str: data[i:j]}
			st.leaf(node, parent)
		}
		return j, nil
	}
}

// stringEnd finds the end of the string at data[i] (validating it in strict
// mode).
func (s *scanner) stringEnd(i int) (int, bool, error) {
	if s.strict {
		end, esc, ok := strictStringEnd(s.data, i)
		if !ok {
			return 0, false, s.fail(i, "invalid string")
		}
		return end, esc, nil
	}
	end, esc, err := stringEnd(s.data, i)
	if err != nil {
		return 0, false, s.fail(i, err.Error())
	}
	return end, esc, nil
}

// numberEnd returns the end of the number-like token at data[i].
func numberEnd(data []byte, i int) int {
	for i < len(data) {
		c := data[i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			i++
			continue
		}
		break
	}
	return i
}

// skip steps over the value at data[i] without looking inside.
func (s *scanner) skip(i int) (int, error) {
	if s.strict {
		return s.validate(i)
	}
	data := s.data
	if i >= len(data) {
		return 0, s.fail(i, "expected a value")
	}
	switch c := data[i]; c {
	case '"':
		end, _, err := stringEnd(data, i)
		if err != nil {
			return 0, s.fail(i, err.Error())
		}
		return end + 1, nil
	case '{', '[':
		return s.skipContainer(i)
	case 't':
		return s.skipLit(i, "true")
	case 'f':
		return s.skipLit(i, "false")
	case 'n':
		return s.skipLit(i, "null")
	default:
		j := numberEnd(data, i)
		if j == i {
			return 0, s.fail(i, "unexpected character")
		}
		return j, nil
	}
}

func (s *scanner) skipLit(i int, lit string) (int, error) {
	if len(s.data)-i < len(lit) || string(s.data[i:i+len(lit)]) != lit {
		return 0, s.fail(i, "invalid literal")
	}
	return i + len(lit), nil
}

// exactZero flags (in bit 7 of each byte) exactly the zero bytes of w.
func exactZero(w uint64) uint64 {
	const low7 = 0x7F7F7F7F7F7F7F7F
	return ^(((w & low7) + low7) | w | low7)
}

// skipContainer steps over the object or array at data[i]. Outside strings
// the only bytes it must see are brackets and quotes. It reads 8 bytes at a
// time: a word without a quote only moves the depth by the number of opening
// minus closing brackets in it (counted with popcount, no branch per
// bracket), unless the depth could reach zero inside the word; such words,
// and words with a quote, are handled byte by byte. Brackets must balance;
// their kinds are checked on the byte-by-byte path.
func (s *scanner) skipContainer(i int) (int, error) {
	data := s.data
	depth := 0
	for {
		for i+8 <= len(data) {
			w := binary.LittleEndian.Uint64(data[i:])
			if exactZero(w^(ones*'"')) != 0 {
				break
			}
			// bytes equal to [ ] { } (the formula also flags Y _ y DEL, which
			// cannot occur outside strings in valid JSON; invalid input only
			// miscounts depth and is reported as unbalanced or runs to the end)
			m := exactZero(((w | (ones * 0x20)) & (ones * 0xF9)) ^ (ones * 0x79))
			if m == 0 {
				i += 8
				continue
			}
			closes := bits.OnesCount64(m & (w << 5))
			if closes >= depth {
				break
			}
			depth += bits.OnesCount64(m&(w<<6)) - closes
			i += 8
		}
		// byte by byte until the end of the current word
		stop := i + 8
		if stop > len(data) {
			stop = len(data)
		}
		if i >= len(data) {
			return 0, s.fail(i, "unterminated container")
		}
		for ; i < stop; i++ {
			switch data[i] {
			case '"':
				end, _, err := stringEnd(data, i)
				if err != nil {
					return 0, s.fail(i, err.Error())
				}
				i = end
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
				if depth < 0 {
					return 0, s.fail(i, "unbalanced bracket")
				}
			}
		}
	}
}

// Match appends the ids of the patterns event matches to dst. It reads the
// event only as far as needed: once nothing later in the event can change the
// result it stops, and the rest is not validated (see canStop).
func (m *Machine) Match(dst []string, event []byte) ([]string, error) {
	return m.match(dst, event, false)
}

// MatchStrict is Match that validates the whole event as JSON and never stops
// early: a malformed event is an error whatever the patterns.
func (m *Machine) MatchStrict(dst []string, event []byte) ([]string, error) {
	return m.match(dst, event, true)
}

func (m *Machine) match(dst []string, event []byte, strict bool) ([]string, error) {
	st := m.acquire()
	defer m.release(st)
	st.reset()
	sc := scanner{data: event, st: st, frames: st.frames[:0], strict: strict}
	err := sc.run(m.root)
	if errors.Is(err, errDuplicate) {
		st.reset()
		st.dotted = true // the rescan does not tell (manyRoutes)
		st.pending = st.pending[:0]
		sc = scanner{data: event, st: st, frames: sc.frames[:0], dedup: true, strict: strict}
		err = sc.run(m.root)
	}
	st.frames = sc.frames[:0]
	if err != nil {
		return dst, err
	}
	return st.collect(dst), nil
}

// acquire returns a scratch state for one match. States live in a
// sync.Pool, which keeps them per P (so goroutines matching in parallel do
// not contend on one shared slot) and, through its victim cache, across a
// garbage collection, so that a steady stream of matches allocates nothing.
func (m *Machine) acquire() *state {
	st, _ := m.pool.Get().(*state)
	if st == nil {
		st = newState()
	}
	st.fit(m)
	return st
}

// release returns st to the pool, without its link to m (so that a pooled
// state does not keep an older Machine alive).
func (m *Machine) release(st *state) {
	st.m = nil
	m.pool.Put(st)
}
