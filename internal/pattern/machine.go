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
//
// A node is immutable once its Machine is returned. Apply copies the nodes
// it changes and every ancestor (which links to them), so a node's identity
// is its id (stable for its path while the path is in the trie), not its
// address; a node holds no link to its parent.
type pathNode struct {
	id   int32
	path string
	ed   *edit // the Apply that owns this copy

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

func (n *pathNode) hasKids() bool { return len(n.keys) > 0 || len(n.kmap) > 0 }

// copyFor returns a copy of n owned by ed (its lists of children copied, its
// field shared until changed).
func (n *pathNode) copyFor(ed *edit) *pathNode {
	c := &pathNode{id: n.id, path: n.path, ed: ed, field: n.field}
	if n.kmap != nil {
		c.kmap = make(map[string]*pathNode, len(n.kmap)+1)
		for k, v := range n.kmap {
			c.kmap[k] = v
		}
	} else {
		c.keys = append(make([]string, 0, len(n.keys)+1), n.keys...)
		c.kids = append(make([]*pathNode, 0, len(n.kids)+1), n.kids...)
	}
	return c
}

// setChild links key to c, replacing an earlier link; n must be owned.
func (n *pathNode) setChild(key string, c *pathNode) {
	if n.kmap != nil {
		n.kmap[key] = c
		return
	}
	for i, k := range n.keys {
		if k == key {
			n.kids[i] = c
			return
		}
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

// removeChild drops the link of key; n must be owned.
func (n *pathNode) removeChild(key string) {
	if n.kmap != nil {
		delete(n.kmap, key)
		return
	}
	for i, k := range n.keys {
		if k == key {
			n.keys = append(n.keys[:i], n.keys[i+1:]...)
			n.kids = append(n.kids[:i], n.kids[i+1:]...)
			return
		}
	}
}

// pred is a shared predicate: one leaf list of alternatives on one path.
// Identical lists on the same path, in any patterns, share one pred.
type pred struct {
	// anchored lists the subrules whose anchor this pred is: the required
	// pred that the fewest subrules required when the subrule was added (see
	// anchor).
	anchored []anchorRef
	nsub     int32 // subrules that require this pred
	uses     int32 // conditions that name it (it leaves the index at 0)
	// noEmpty: the pred belongs to patterns that do not read event members
	// with an empty key (Parsed.emptyStep), so leaves below one never hit it.
	noEmpty bool
}

// anchorRef is a subrule in the anchored list of its anchor, with its next
// most selective required pred (-1 if none): matching skips the subrule
// without reading it when that pred was not hit.
type anchorRef struct {
	sub, also int32
}

// predKey names a pred among those of its path (fieldIndex.preds): the
// canonical text of its alternatives (Req.key, never empty), or "" for the
// presence pred of the path, and the reading of empty keys.
type predKey struct {
	key     string
	noEmpty bool
}

// presenceKey names the presence pred of a path.
func presenceKey(noEmpty bool) predKey { return predKey{noEmpty: noEmpty} }

// sreq is a compiled field condition of a subrule: a Req of the pattern
// with its pred ids. path is the Req's path, sharing the text of its trie
// node's.
type sreq struct {
	path        string
	node        int32 // id of the trie node of path
	pred        int32 // -1 when the list is only {"exists": false}
	presence    int32 // presence pred of the path when allowAbsent, else -1
	allowAbsent bool
}

// subrule is one compiled conjunction of a pattern.
type subrule struct {
	pattern int32 // -1: a free slot
	npos    int32 // distinct required preds
	anchor  int32 // the pred whose anchored list holds it, or -1
	next    int32 // the next subrule of the pattern, or -1
	reqs    []sreq
}

// patRec is one pattern of a Machine. It keeps the compact text of the
// pattern (Parsed.src), not the Parsed, which remove parses again: that
// costs microseconds per removal, and keeps several times less memory per
// pattern. A pattern whose Parsed has no text is kept in Machine.kept.
type patRec struct {
	id    string
	src   string
	first int32   // its first subrule (one per conjunction, by next)
	d     dialect // the dialect of src
}

// Entry is one pattern of a Machine.
type Entry struct {
	ID string
	P  *Parsed
}

// Machine is an immutable compiled set of patterns. It is safe for
// concurrent use. Apply derives a changed Machine from it in time that
// depends on the change, not on the patterns already there (doc.go, "Live
// changes").
type Machine struct {
	root      *pathNode
	nodes     int32 // node ids handed out (the high-water mark)
	freeNodes *freeList
	preds     pvec[pred]
	freePreds *freeList
	subrules  pvec[subrule]
	freeSubs  *freeList
	pats      pvec[patRec]
	freePats  *freeList
	byID      pmap[string, int32]
	kept      pmap[int32, *Parsed] // by pattern index: patterns without text (patRec)
	always    []int32              // subrules without required preds: checked on every event
	npats     int
	nempty    int // patterns that use the empty key as a step
	// emptyStep: a pattern uses the empty key as a step (usesEmptyStep);
	// otherwise an event member with an empty key is not read.
	emptyStep bool
	// pool holds *state scratch space (acquire), shared by every Machine
	// derived from one Build or one Apply on nil.
	pool *sync.Pool
	// layout caches the last Layout resolved against this Machine
	// (MatchLayout); a derived Machine starts with an empty cache.
	layout *layoutCache
}

// Build compiles entries into a Machine; of several entries with one ID the
// last is kept. It is (*Machine)(nil).Apply(entries, nil).
func Build(entries []Entry) *Machine {
	return (*Machine)(nil).Apply(entries, nil)
}

// Len returns the number of patterns.
func (m *Machine) Len() int {
	if m == nil {
		return 0
	}
	return m.npats
}

// Has reports whether m holds a pattern with the given id.
func (m *Machine) Has(id string) bool {
	if m == nil {
		return false
	}
	_, ok := m.byID.lookup(id, hashString)
	return ok
}

// Apply returns a Machine with the entries of add added (replacing entries
// of the same ID; of several with one ID the last wins) and then the entries
// with the IDs in remove removed (unknown IDs are ignored). m is not changed
// and stays valid for readers that hold it. Nil m means an empty machine.
//
// The work is proportional to the size of the change (the conditions of the
// entries added and removed) times the depth of the persistent structures
// (logarithmic), not to the number of patterns in m; see doc.go for the
// parts that grow with what a change touches.
func (m *Machine) Apply(add []Entry, remove []string) *Machine {
	var nm Machine
	if m != nil {
		nm = *m
	} else {
		nm.pool = &sync.Pool{}
	}
	a := applier{m: &nm, ed: &edit{}, nodes: make(map[string]*pathNode)}
	if nm.root == nil {
		nm.root = &pathNode{id: 0, ed: a.ed}
		nm.nodes = 1
	} else {
		nm.root = nm.root.copyFor(a.ed)
	}
	for _, e := range add {
		a.remove(e.ID)
		a.add(e)
	}
	for _, id := range remove {
		a.remove(id)
	}
	a.anchor()
	a.prune()
	a.finish()
	nm.emptyStep = nm.nempty > 0
	nm.layout = new(layoutCache)
	return &nm
}

// applier is the state of one Apply.
type applier struct {
	m     *Machine
	ed    *edit
	nodes map[string]*pathNode // nodes owned by ed, by path
	// anchoredOwned: preds whose anchored list ed has copied.
	anchoredOwned map[int32]bool
	alwaysOwned   bool
	pending       []int32  // subrules added, to anchor at the end
	pruneAt       []string // paths that lost a pred
}

// alloc returns a free index of v, reusing one from f first.
func alloc[T any](ed *edit, v *pvec[T], f **freeList) int32 {
	if *f != nil {
		i := (*f).i
		*f = (*f).next
		return i
	}
	return v.push(ed)
}

// node returns the current node of path, or nil.
func (a *applier) node(path string) *pathNode {
	if n, ok := a.nodes[path]; ok {
		return n
	}
	return a.m.root.child([]byte(path))
}

// ownNode returns the node of path owned by this Apply, copying it or
// creating it, and links every ancestor (each owned too) to it.
func (a *applier) ownNode(path string) *pathNode {
	if n, ok := a.nodes[path]; ok && n != nil {
		return n
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		a.ownNode(path[:i])
	}
	m := a.m
	var n *pathNode
	if old := m.root.child([]byte(path)); old != nil {
		n = old.copyFor(a.ed)
	} else {
		id := int32(0)
		if m.freeNodes != nil {
			id, m.freeNodes = m.freeNodes.i, m.freeNodes.next
		} else {
			id = m.nodes
			m.nodes++
		}
		n = &pathNode{id: id, path: path, ed: a.ed}
	}
	a.nodes[path] = n
	a.link(path, n, true)
	return n
}

// link sets (or with set false removes) the link to the node of path from
// the root and from every ancestor, all owned by this Apply.
func (a *applier) link(path string, n *pathNode, set bool) {
	update := func(p *pathNode, key string) {
		if set {
			p.setChild(key, n)
		} else {
			p.removeChild(key)
		}
	}
	update(a.m.root, path)
	for i := 0; i < len(path); i++ {
		if path[i] == '.' {
			update(a.nodes[path[:i]], path[i+1:])
		}
	}
}

func (a *applier) add(e Entry) {
	m, ed := a.m, a.ed
	pi := alloc(ed, &m.pats, &m.freePats)
	m.byID.set(ed, e.ID, pi, hashString)
	m.npats++
	if e.P.emptyStep {
		m.nempty++
	}
	noEmpty := !e.P.emptyStep
	first, prev := int32(-1), int32(-1)
	for _, cj := range e.P.Conjs {
		si := alloc(ed, &m.subrules, &m.freeSubs)
		sr := subrule{pattern: pi, anchor: -1, next: -1, reqs: make([]sreq, 0, len(cj))}
		for i := range cj {
			r := &cj[i]
			q := sreq{pred: -1, presence: -1, allowAbsent: r.AllowAbsent}
			if len(r.alts) > 0 {
				q.pred = a.use(r.Path, predKey{key: r.key, noEmpty: noEmpty}, r.alts)
			}
			if r.AllowAbsent {
				q.presence = a.use(r.Path, presenceKey(noEmpty), nil)
			} else if !requiredIn(sr.reqs, q.pred) {
				m.preds.mut(ed, q.pred).nsub++
				sr.npos++
			}
			n := a.node(r.Path)
			q.path, q.node = n.path, n.id
			sr.reqs = append(sr.reqs, q)
		}
		*m.subrules.mut(ed, si) = sr
		if prev < 0 {
			first = si
		} else {
			m.subrules.mut(ed, prev).next = si
		}
		prev = si
		if sr.npos == 0 {
			if !a.alwaysOwned {
				m.always = append(make([]int32, 0, len(m.always)+1), m.always...)
				a.alwaysOwned = true
			}
			m.always = append(m.always, si)
		} else {
			a.pending = append(a.pending, si)
		}
	}
	*m.pats.mut(ed, pi) = patRec{id: e.ID, src: e.P.src, first: first, d: e.P.d}
	if e.P.src == "" {
		m.kept.set(ed, pi, e.P, hashAny[int32])
	}
}

// requiredIn reports whether reqs require pred p.
func requiredIn(reqs []sreq, p int32) bool {
	for i := range reqs {
		if !reqs[i].allowAbsent && reqs[i].pred == p {
			return true
		}
	}
	return false
}

// use returns the pred named k on path, counting one more use, and creates
// and indexes it when new (alts nil: a presence pred).
func (a *applier) use(path string, k predKey, alts []alt) int32 {
	m, ed := a.m, a.ed
	if n := a.node(path); n != nil && n.field != nil {
		if id, ok := n.field.pred(k); ok {
			m.preds.mut(ed, id).uses++
			return id
		}
	}
	id := alloc(ed, &m.preds, &m.freePreds)
	*m.preds.mut(ed, id) = pred{uses: 1, noEmpty: k.noEmpty}
	n := a.ownNode(path)
	n.field = n.field.own(ed)
	n.field.setPred(ed, k, id)
	if k.key == "" {
		n.field.addAny(id)
	}
	for i := range alts {
		n.field.add(ed, &alts[i], id)
	}
	return id
}

// release counts one use less of pred id, named k on path, and takes it out
// of the index at none.
func (a *applier) release(id int32, path string, k predKey, alts []alt) {
	m, ed := a.m, a.ed
	p := m.preds.mut(ed, id)
	if p.uses--; p.uses > 0 {
		return
	}
	*p = pred{}
	m.freePreds = &freeList{i: id, next: m.freePreds}
	n := a.ownNode(path)
	n.field = n.field.own(ed)
	n.field.delPred(ed, k)
	if k.key == "" {
		n.field.any = without(n.field.any, func(x int32) bool { return x == id })
	}
	for i := range alts {
		n.field.remove(ed, &alts[i], id)
	}
	if n.field.npreds() == 0 {
		n.field = nil
		a.pruneAt = append(a.pruneAt, path)
	}
}

// remove removes the pattern with the given id, if any.
func (a *applier) remove(id string) {
	m, ed := a.m, a.ed
	h := hashString(id)
	pi, ok := m.byID.get(h, id)
	if !ok {
		return
	}
	rec := *m.pats.at(pi)
	var p *Parsed
	if rec.src != "" {
		p = reparse(rec.src, rec.d)
	} else {
		p, _ = m.kept.get(hashAny(pi), pi)
		m.kept.del(ed, pi, hashAny[int32])
	}
	m.byID.del(ed, id, hashString)
	*m.pats.mut(ed, pi) = patRec{}
	m.freePats = &freeList{i: pi, next: m.freePats}
	m.npats--
	if p.emptyStep {
		m.nempty--
	}
	noEmpty := !p.emptyStep
	for c, si := 0, rec.first; si >= 0; c++ {
		sr := *m.subrules.at(si)
		a.unanchor(si, &sr)
		for i, q := range sr.reqs {
			r := &p.Conjs[c][i]
			if q.pred >= 0 {
				if !q.allowAbsent && !requiredIn(sr.reqs[:i], q.pred) {
					m.preds.mut(ed, q.pred).nsub--
				}
				a.release(q.pred, r.Path, predKey{key: r.key, noEmpty: noEmpty}, r.alts)
			}
			if q.presence >= 0 {
				a.release(q.presence, r.Path, presenceKey(noEmpty), nil)
			}
		}
		*m.subrules.mut(ed, si) = subrule{pattern: -1, anchor: -1, next: -1}
		m.freeSubs = &freeList{i: si, next: m.freeSubs}
		si = sr.next
	}
}

// unanchor takes subrule si out of its anchor's list (or always).
func (a *applier) unanchor(si int32, sr *subrule) {
	m := a.m
	is := func(x int32) bool { return x == si }
	switch {
	case sr.npos == 0:
		m.always = without(m.always, is)
		a.alwaysOwned = false
	case sr.anchor >= 0:
		p := m.preds.mut(a.ed, sr.anchor)
		p.anchored = without(p.anchored, func(r anchorRef) bool { return r.sub == si })
		delete(a.anchoredOwned, sr.anchor)
	}
}

// anchor gives every subrule added by this Apply one anchor: of its required
// preds, the one required by the fewest subrules (the most selective, as far
// as the Machine can tell now; ties go to the first named). Matching checks a
// subrule only when its anchor is hit (match.go), so a pred that many
// subrules share, such as the source of Bus-style rules, costs nothing per
// subrule when it is hit, unless it is their most selective condition.
// Anchors are not revised when later changes shift the counts (doc.go).
func (a *applier) anchor() {
	m, ed := a.m, a.ed
	for _, si := range a.pending {
		sr := m.subrules.at(si)
		if sr.pattern < 0 || sr.anchor >= 0 {
			continue // removed again, or a reused slot already anchored
		}
		best, bestN, also, alsoN := int32(-1), int32(0), int32(-1), int32(0)
		for i := range sr.reqs {
			q := &sr.reqs[i]
			if q.allowAbsent || q.pred == best || q.pred == also {
				continue
			}
			switch n := m.preds.at(q.pred).nsub; {
			case best < 0 || n < bestN:
				best, bestN, also, alsoN = q.pred, n, best, bestN
			case also < 0 || n < alsoN:
				also, alsoN = q.pred, n
			}
		}
		m.subrules.mut(ed, si).anchor = best
		p := m.preds.mut(ed, best)
		if !a.anchoredOwned[best] {
			if a.anchoredOwned == nil {
				a.anchoredOwned = make(map[int32]bool)
			}
			a.anchoredOwned[best] = true
			p.anchored = append(make([]anchorRef, 0, len(p.anchored)+1), p.anchored...)
		}
		p.anchored = append(p.anchored, anchorRef{sub: si, also: also})
	}
}

// prune takes out of the trie the nodes that lost their last pred and have
// no children, and then their ancestors that are left the same way.
func (a *applier) prune() {
	for _, path := range a.pruneAt {
		for {
			n := a.node(path)
			if n == nil || n.field != nil || n.hasKids() {
				break
			}
			a.link(path, nil, false)
			a.nodes[path] = nil
			a.m.freeNodes = &freeList{i: n.id, next: a.m.freeNodes}
			i := strings.LastIndexByte(path, '.')
			if i < 0 {
				break
			}
			path = path[:i]
		}
	}
}

// finish recomputes the early-stop data of the nodes this Apply changed.
func (a *applier) finish() {
	a.m.root.finish()
	for _, n := range a.nodes {
		if n != nil {
			n.finish()
		}
	}
}

// finish computes the early-stop data of n.
func (n *pathNode) finish() {
	n.direct, n.stopKeys = 0, nil
	if n.kmap != nil {
		return
	}
	for _, k := range n.keys {
		if !strings.Contains(k, ".") {
			n.direct++
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
