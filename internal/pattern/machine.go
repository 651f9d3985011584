package pattern

import (
	"strings"
	"sync"
)

// pathNode is a node of the path trie: one dotted event path that some
// pattern names, or a prefix of one. Event keys are looked up in the trie as
// the scanner descends; values under keys that no pattern names are skipped.
//
// EventBridge joins nested keys with '.', so {"a":{"b":..}} and {"a.b":..}
// name the same field. The trie is keyed by joined names: a node has a child
// for every dotted continuation ("b" and "b.c" under "a" for the path
// "a.b.c"), so an event key containing dots finds the same node.
type pathNode struct {
	id     int32
	path   string
	parent *pathNode // the node of the path without its last dotted segment

	keys []string // children, for small fan-out
	kids []*pathNode
	kmap map[string]*pathNode // children, for large fan-out

	field *fieldIndex // value conditions on leaves at this path, or nil

	// Early stop (see scan.go): the number of children whose key has no dot,
	// and, when fan-out is small, the keys of the children that no sibling
	// key prefixes (see hasPrefixIn).
	direct   int
	stopKeys [][]byte
}

const smallFanout = 8

func (n *pathNode) child(key []byte) *pathNode {
	if n.kmap != nil {
		return n.kmap[string(key)]
	}
	for i, k := range n.keys {
		if len(k) == len(key) && k == string(key) {
			return n.kids[i]
		}
	}
	return nil
}

func (n *pathNode) hasKids() bool { return len(n.keys) > 0 || n.kmap != nil }

func (n *pathNode) addChild(key string, c *pathNode) {
	if n.child([]byte(key)) != nil {
		return
	}
	if n.kmap != nil {
		n.kmap[key] = c
		return
	}
	n.keys = append(n.keys, key)
	n.kids = append(n.kids, c)
	if len(n.keys) > smallFanout {
		n.kmap = make(map[string]*pathNode, len(n.keys))
		for i, k := range n.keys {
			n.kmap[k] = n.kids[i]
		}
		n.keys, n.kids = nil, nil
	}
}

// isAncestor reports whether a is b or a dotted prefix of b.
func isAncestor(a, b *pathNode) bool {
	for ; b != nil; b = b.parent {
		if a == b {
			return true
		}
	}
	return false
}

// pred is a shared predicate: one leaf list of alternatives on one path.
// Identical lists on the same path, in any patterns, share one pred.
type pred struct {
	// anchored lists the subrules whose anchor this pred is: the required
	// pred of the subrule that the fewest subrules require (see anchor).
	anchored []int32
	// noEmpty: the pred belongs to patterns that do not read event members
	// with an empty key (Parsed.emptyStep), so leaves below one never hit it.
	noEmpty bool
}

// sreq is a compiled field condition of a subrule.
type sreq struct {
	node        *pathNode
	pred        int32 // -1 when the list is only {"exists": false}
	presence    int32 // presence pred of the path when allowAbsent, else -1
	allowAbsent bool
}

// subrule is one compiled conjunction of a pattern.
type subrule struct {
	pattern int32
	npos    int32 // distinct required preds
	reqs    []sreq
}

// Entry is one pattern of a Machine.
type Entry struct {
	ID string
	P  *Parsed
}

// Machine is an immutable compiled set of patterns. It is safe for
// concurrent use.
type Machine struct {
	root     *pathNode
	nodes    int
	preds    []pred
	subrules []subrule
	ids      []string
	always   []int32   // subrules without required preds: checked on every event
	pool     sync.Pool // *state scratch space (acquire)
	// emptyStep: a pattern uses the empty key as a step (usesEmptyStep);
	// otherwise an event member with an empty key is not read.
	emptyStep bool
}

// Build compiles entries into a Machine.
func Build(entries []Entry) *Machine {
	b := builder{
		m:        &Machine{},
		nodes:    make(map[string]*pathNode),
		predKeys: make(map[string]int32),
		presence: make(map[presenceKey]int32),
	}
	b.m.root = &pathNode{id: 0}
	b.m.nodes = 1
	for _, e := range entries {
		b.add(e)
	}
	b.m.root.finish()
	b.anchor()
	return b.m
}

// anchor gives every subrule with required preds one anchor: of its required
// preds, the one required by the fewest subrules (the most selective, as far
// as the snapshot can tell; ties go to the first named). Matching checks a
// subrule only when its anchor is hit (match.go), so a pred that many
// subrules share, such as the source of Bus-style rules, costs nothing per
// subrule when it is hit, unless it is their most selective condition.
func (b *builder) anchor() {
	preds := b.m.preds
	for si := range b.m.subrules {
		sr := &b.m.subrules[si]
		best := int32(-1)
		for i := range sr.reqs {
			q := &sr.reqs[i]
			if q.allowAbsent {
				continue
			}
			if best < 0 || b.nsub[q.pred] < b.nsub[best] {
				best = q.pred
			}
		}
		if best >= 0 {
			preds[best].anchored = append(preds[best].anchored, int32(si))
		}
	}
}

// finish computes the early-stop data of n and its descendants.
func (n *pathNode) finish() {
	if n.kmap != nil {
		for _, c := range n.kmap {
			if c.parent == n {
				c.finish()
			}
		}
		return
	}
	for i, k := range n.keys {
		if !strings.Contains(k, ".") {
			n.direct++
			n.kids[i].finish()
		}
		if !hasPrefixIn(n.keys, k) {
			n.stopKeys = append(n.stopKeys, []byte(k))
		}
	}
}

// hasPrefixIn reports whether another of keys is a prefix of k. The early
// stop looks for the text `"key` of every stop key in the rest of the event,
// and a rest that holds `"a.b` holds `"a`, so a key with a prefix among its
// siblings adds nothing but a pass over the rest. This drops every dotted
// continuation ("a.b" beside "a"), which the trie always has beside the key
// of its first segment.
func hasPrefixIn(keys []string, k string) bool {
	for _, p := range keys {
		if len(p) < len(k) && strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

type builder struct {
	m        *Machine
	nodes    map[string]*pathNode
	predKeys map[string]int32
	presence map[presenceKey]int32
	nsub     []int32 // per pred: the subrules in which it is required
	last     []int32 // per pred: the last subrule counted in nsub
}

// node returns the trie node for a dotted path, creating it and the links
// from every ancestor.
func (b *builder) node(path string) *pathNode {
	if n, ok := b.nodes[path]; ok {
		return n
	}
	var parent *pathNode
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent = b.node(path[:i])
	} else {
		parent = b.m.root
	}
	n := &pathNode{id: int32(b.m.nodes), path: path, parent: parent}
	b.m.nodes++
	b.nodes[path] = n
	// Link from every ancestor (the root included) by the dotted remainder.
	for a := parent; a != nil; a = a.parent {
		var rest string
		if a == b.m.root {
			rest = path
		} else {
			rest = path[len(a.path)+1:]
		}
		a.addChild(rest, n)
	}
	return n
}

// presenceKey names the presence pred of a path for the patterns that read
// empty keys or for those that do not.
type presenceKey struct {
	n       *pathNode
	noEmpty bool
}

func (b *builder) newPred(key string, n *pathNode, alts []alt, noEmpty bool) int32 {
	if noEmpty {
		key = "N" + key
	} else {
		key = "E" + key
	}
	if id, ok := b.predKeys[key]; ok {
		return id
	}
	id := int32(len(b.m.preds))
	b.m.preds = append(b.m.preds, pred{noEmpty: noEmpty})
	b.nsub = append(b.nsub, 0)
	b.last = append(b.last, -1)
	b.predKeys[key] = id
	if n.field == nil {
		n.field = &fieldIndex{}
	}
	for i := range alts {
		n.field.add(&alts[i], id)
	}
	return id
}

func (b *builder) presencePred(n *pathNode, noEmpty bool) int32 {
	k := presenceKey{n: n, noEmpty: noEmpty}
	if id, ok := b.presence[k]; ok {
		return id
	}
	id := int32(len(b.m.preds))
	b.m.preds = append(b.m.preds, pred{noEmpty: noEmpty})
	b.nsub = append(b.nsub, 0)
	b.last = append(b.last, -1)
	b.presence[k] = id
	if n.field == nil {
		n.field = &fieldIndex{}
	}
	n.field.any = appendUnique(n.field.any, id)
	return id
}

func (b *builder) add(e Entry) {
	pi := int32(len(b.m.ids))
	b.m.ids = append(b.m.ids, e.ID)
	b.m.emptyStep = b.m.emptyStep || e.P.emptyStep
	for _, cj := range e.P.Conjs {
		si := int32(len(b.m.subrules))
		sr := subrule{pattern: pi, reqs: make([]sreq, 0, len(cj))}
		for _, r := range cj {
			n := b.node(r.Path)
			q := sreq{node: n, pred: -1, presence: -1, allowAbsent: r.AllowAbsent}
			if len(r.alts) > 0 {
				q.pred = b.newPred(r.Path+"\x00"+r.key, n, r.alts, !e.P.emptyStep)
			}
			if r.AllowAbsent {
				q.presence = b.presencePred(n, !e.P.emptyStep)
			} else {
				if b.last[q.pred] != si {
					b.last[q.pred] = si
					b.nsub[q.pred]++
					sr.npos++
				}
			}
			sr.reqs = append(sr.reqs, q)
		}
		if sr.npos == 0 {
			b.m.always = append(b.m.always, si)
		}
		b.m.subrules = append(b.m.subrules, sr)
	}
}
