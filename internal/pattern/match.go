package pattern

// Matching one event, in three steps:
//
//  1. A source (the JSON scanner in scan.go) walks the event once and reports
//     each container it descends into (beginContainer) and each scalar leaf at
//     a path some pattern names (leaf). A second source can feed the same
//     calls: for SNS's attribute scope, a flat map of typed message
//     attributes becomes one object whose members are leaves, each with its
//     type (String → vString, Number → vNumber, String.Array → an array of
//     leaves); Machine.MatchAttrs (attrs.go) is that second source.
//  2. leaf evaluates the value once against the shared fieldIndex of its path
//     and records the predicates it satisfies (an epoch per predicate). Each
//     subrule has one anchor, chosen when the Machine is built: its required
//     predicate that the fewest subrules require (Build's anchor). The first
//     hit of a predicate that anchors subrules records it as fired; nothing
//     is done per subrule during the scan.
//  3. After the scan (or its early stop), the subrules of each fired anchor
//     whose other required predicates were all hit become candidates. Work
//     is proportional to the hits of the selective predicates, not to the
//     number of patterns sharing a common one (1,000 rules that all name the
//     same source cost no more per event than one). Each candidate (and each
//     subrule made only of {"exists": false} conditions) is confirmed:
//     cheaply when no array of objects took part, otherwise by the
//     array-consistent walk over the recorded event skeleton (consistent).

// entry kinds of the recorded event skeleton.
const (
	eObject uint8 = iota
	eArray
	eLeaf
)

// entry is one node of the recorded skeleton of the parts of the event that
// patterns name: containers on named paths, and leaves that hit something.
type entry struct {
	node         *pathNode
	kind         uint8
	nid, plen    int32 // node.id and len(node.path), read without node
	parent       int32
	first, last  int32 // children
	next         int32 // next sibling
	hitLo, hitHi int32 // leaf: its hits in state.hits
}

// state is the per-goroutine scratch space of matching one event. It is
// reused across events (epochs make resetting O(1)) so a match allocates
// nothing.
type state struct {
	m     *Machine
	epoch uint32

	predEpoch []uint32 // predicate hit in this event
	leafEpoch []uint32 // predicate hit by the current leaf
	leafSeq   uint32
	patEpoch  []uint32 // pattern already reported

	fired    []int32 // anchor predicates hit in this event
	hits     []int32
	entries  []entry
	sawArray bool
	dotted   bool // a key with a '.' led to a named path (manyRoutes)
	routed   int  // routings tried by consistentRoutes in this event
	viaEmpty bool // the current leaf lies below a member with an empty key

	// scanner scratch
	seen    []uint32 // per trie node: object id in which its key was seen
	seenPos []int32
	objSeq  uint32
	keyBuf  []byte
	strBuf  []byte
	foldBuf []byte
	pending []pendingMember
	frames  []frame
	val     leafValue

	choiceBuf []sreq // consistentChoices
}

type pendingMember struct {
	node  *pathNode
	pos   int
	empty bool // the member's key is empty
}

func newState() *state { return &state{} }

// fit makes st ready to match with m: a state from the pool may last have
// served another Machine of the same lineage (Apply), so its per-pred,
// per-pattern and per-node arrays grow to m's sizes (the epochs make stale
// entries harmless).
func (st *state) fit(m *Machine) {
	st.m = m
	st.predEpoch = grow(st.predEpoch, int(m.preds.len()))
	st.leafEpoch = grow(st.leafEpoch, int(m.preds.len()))
	st.patEpoch = grow(st.patEpoch, int(m.pats.len()))
	st.seen = grow(st.seen, int(m.nodes))
	st.seenPos = grow(st.seenPos, int(m.nodes))
}

func grow[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	return append(s, make([]T, n-len(s))...)
}

// reset prepares for a new event (or a rescan of the same event).
func (st *state) reset() {
	st.epoch++
	if st.epoch == 0 {
		clear(st.predEpoch)
		clear(st.patEpoch)
		st.epoch = 1
	}
	st.fired = st.fired[:0]
	st.hits = st.hits[:0]
	st.entries = st.entries[:0]
	st.sawArray = false
	st.dotted = false
	st.routed = 0
	st.viaEmpty = false
}

// beginContainer records an object or array at node under parent and
// returns its entry index.
func (st *state) beginContainer(node *pathNode, kind uint8, parent int32) int32 {
	idx := int32(len(st.entries))
	st.entries = append(st.entries, entry{node: node, kind: kind, nid: node.id, plen: int32(len(node.path)), parent: parent, first: -1, last: -1, next: -1})
	if parent >= 0 {
		st.link(parent, idx)
	}
	return idx
}

func (st *state) link(parent, idx int32) {
	p := &st.entries[parent]
	if p.last < 0 {
		p.first = idx
	} else {
		st.entries[p.last].next = idx
	}
	p.last = idx
}

// leaf evaluates the scalar value st.val found at node under parent.
func (st *state) leaf(node *pathNode, parent int32) {
	fi := node.field
	if fi == nil {
		return
	}
	st.leafSeq++
	if st.leafSeq == 0 {
		clear(st.leafEpoch)
		st.leafSeq = 1
	}
	lo := int32(len(st.hits))
	fi.eval(&st.val, st)
	hi := int32(len(st.hits))
	if hi > lo {
		idx := int32(len(st.entries))
		st.entries = append(st.entries, entry{node: node, kind: eLeaf, nid: node.id, plen: int32(len(node.path)), parent: parent, first: -1, last: -1, next: -1, hitLo: lo, hitHi: hi})
		if parent >= 0 {
			st.link(parent, idx)
		}
	}
}

// hit records that the current leaf satisfies predicate p.
func (st *state) hit(p int32) {
	if st.leafEpoch[p] == st.leafSeq || st.viaEmpty && st.m.preds.at(p).noEmpty {
		return
	}
	st.leafEpoch[p] = st.leafSeq
	st.hits = append(st.hits, p)
	if st.predEpoch[p] == st.epoch {
		return
	}
	st.predEpoch[p] = st.epoch
	if len(st.m.preds.at(p).anchored) > 0 {
		st.fired = append(st.fired, p)
	}
}

// collect appends the ids of the matching patterns to dst.
func (st *state) collect(dst []string) []string {
	m := st.m
	// Anchored lists mostly run in index order, and so do their patterns.
	var cur cursor[subrule]
	var pcur cursor[patRec]
	for _, p := range st.fired {
		for _, a := range m.preds.at(p).anchored {
			if a.also >= 0 && st.predEpoch[a.also] != st.epoch {
				continue
			}
			if sr := cur.at(&m.subrules, a.sub); st.requiredHit(sr) {
				dst = st.confirm(sr, &pcur, dst)
			}
		}
	}
	for _, s := range m.always {
		dst = st.confirm(cur.at(&m.subrules, s), &pcur, dst)
	}
	return dst
}

// requiredHit reports whether every required predicate of subrule sr was
// hit in this event.
func (st *state) requiredHit(sr *subrule) bool {
	for i := range sr.reqs {
		q := &sr.reqs[i]
		if !q.allowAbsent && st.predEpoch[q.pred] != st.epoch {
			return false
		}
	}
	return true
}

func (st *state) confirm(sr *subrule, pcur *cursor[patRec], dst []string) []string {
	if st.patEpoch[sr.pattern] == st.epoch {
		return dst
	}
	var ok bool
	if !st.sawArray || (len(sr.reqs) == 1 && !sr.reqs[0].allowAbsent) {
		ok = true
		for i := range sr.reqs {
			q := &sr.reqs[i]
			if q.allowAbsent && st.predEpoch[q.presence] == st.epoch && (q.pred < 0 || st.predEpoch[q.pred] != st.epoch) {
				ok = false
				break
			}
		}
	} else {
		ok = st.consistentChoices(sr.reqs)
	}
	if ok {
		st.patEpoch[sr.pattern] = st.epoch
		dst = append(dst, pcur.at(&st.m.pats, sr.pattern).id)
	}
	return dst
}

// consistent reports whether the conditions reqs, all on paths below the
// entry e, hold in e with array consistency: where e (or a container below
// it) is an array, one element must satisfy all the conditions routed into
// it. e < 0 stands for a missing value. Each entry is visited at most once
// per condition group, so the walk is polynomial.
func (st *state) consistent(e int32, reqs []sreq) bool {
	if e >= 0 && st.entries[e].kind == eArray {
		return st.arrayHolds(e, reqs)
	}
	if st.dotted && st.manyRoutes(e, reqs) {
		return st.consistentRoutes(e, reqs)
	}
	// e is an object (or missing, or a scalar where an object was expected):
	// route each condition to the child entry leading to its path.
	var cbuf [8]int32
	var children []int32
	if len(reqs) <= len(cbuf) {
		children = cbuf[:len(reqs)]
	} else {
		children = make([]int32, len(reqs))
	}
	for i := range reqs {
		q := &reqs[i]
		c := st.childToward(e, q)
		children[i] = c
		switch {
		case c < 0:
			if !q.allowAbsent {
				return false
			}
		case st.entries[c].nid == q.node:
			children[i] = -1 // decided here
			if !st.leafHolds(c, q) {
				return false
			}
		}
	}
	var gbuf [8]sreq
	for i := range reqs {
		c := children[i]
		if c < 0 {
			continue
		}
		group := gbuf[:0]
		for j := i; j < len(reqs); j++ {
			if children[j] == c {
				group = append(group, reqs[j])
				children[j] = -1
			}
		}
		if !st.consistent(c, group) {
			return false
		}
	}
	return true
}

// manyRoutes reports whether some condition of reqs has more than one child
// of object e leading to its path: a member whose key is the dotted path
// itself ("a.b") beside one whose key is a prefix of it ("a"), which
// event-ruler reads as the same path.
func (st *state) manyRoutes(e int32, reqs []sreq) bool {
	if e < 0 {
		return false
	}
	for i := range reqs {
		n := 0
		for c := st.entries[e].first; c >= 0; c = st.entries[c].next {
			if st.entries[c].holds(&reqs[i]) {
				if n++; n > 1 {
					return true
				}
			}
		}
	}
	return false
}

// maxRouteChoices bounds the routings of required conditions that
// consistentRoutes tries in full at one object, and maxRoutedPerEvent those
// it tries in all of one event's checks (objects with several routes nested
// in one another would otherwise multiply them).
const (
	maxRouteChoices   = 64
	maxRoutedPerEvent = 4096
)

// consistentRoutes is consistent for an object e where a condition's path
// has several children leading to it (manyRoutes). A required condition
// holds by one of them, so each routing of the required conditions is tried
// (the conditions routed into one child are then checked together, for
// array consistency); a pure absence must hold in every one. Beyond
// maxRouteChoices routings (or maxRoutedPerEvent in the event), each
// required condition takes the first route where it holds on its own (a
// bound on the work, exact unless an event repeats many paths in both
// spellings).
func (st *state) consistentRoutes(e int32, reqs []sreq) bool {
	routes := make([][]int32, len(reqs))
	choices := 1
	for i := range reqs {
		q := &reqs[i]
		for c := st.entries[e].first; c >= 0; c = st.entries[c].next {
			if st.entries[c].holds(q) {
				routes[i] = append(routes[i], c)
			}
		}
		if q.allowAbsent {
			continue
		}
		if len(routes[i]) == 0 {
			return false
		}
		choices = min(choices*len(routes[i]), maxRouteChoices+1)
	}
	pick := make([]int, len(reqs))
	if choices > maxRouteChoices || st.routed > maxRoutedPerEvent {
		for i := range reqs {
			if reqs[i].allowAbsent {
				continue
			}
			for k := range routes[i] {
				pick[i] = k
				if st.routedHolds(reqs[i:i+1], routes[i:i+1], pick[i:i+1]) {
					break
				}
			}
		}
		return st.routedHolds(reqs, routes, pick)
	}
	for {
		st.routed++
		if st.routedHolds(reqs, routes, pick) {
			return true
		}
		i := 0 // the next routing, as an odometer over the required conditions
		for ; i < len(reqs); i++ {
			if reqs[i].allowAbsent {
				continue
			}
			if pick[i]++; pick[i] < len(routes[i]) {
				break
			}
			pick[i] = 0
		}
		if i == len(reqs) {
			return false
		}
	}
}

// routedHolds checks reqs routed as given: required condition i into child
// routes[i][pick[i]], every absence into each of its routes.
func (st *state) routedHolds(reqs []sreq, routes [][]int32, pick []int) bool {
	var group []sreq
	for i := range reqs {
		for k, c := range routes[i] {
			if !reqs[i].allowAbsent && k != pick[i] {
				continue
			}
			if st.entries[c].nid == reqs[i].node {
				if !st.leafHolds(c, &reqs[i]) {
					return false
				}
				continue
			}
			// Gather every condition routed into c, once per child.
			first := true
			for j := 0; j < i && first; j++ {
				first = !st.routedInto(reqs, routes, pick, j, c)
			}
			if !first {
				continue
			}
			group = group[:0]
			for j := i; j < len(reqs); j++ {
				if st.routedInto(reqs, routes, pick, j, c) {
					group = append(group, reqs[j])
				}
			}
			if !st.consistent(c, group) {
				return false
			}
		}
	}
	return true
}

// routedInto reports whether condition j is routed into child c, below it
// (a condition at c's own path is checked on c by routedHolds).
func (st *state) routedInto(reqs []sreq, routes [][]int32, pick []int, j int, c int32) bool {
	if st.entries[c].nid == reqs[j].node {
		return false
	}
	for k, r := range routes[j] {
		if r == c && (reqs[j].allowAbsent || k == pick[j]) {
			return true
		}
	}
	return false
}

// arrayHolds applies consistent to the elements of array entry e, flattened
// through nested arrays, following event-ruler's array-consistent matching:
// when a required condition is routed into the array, one element must
// satisfy all of reqs.
//
// {"exists": false} follows event-ruler's order: it checks the conditions of
// a combination in the order of their sorted paths, and checks that a path
// is absent against the array elements chosen by the conditions checked
// before it. So an absent path that sorts before every required condition
// routed into this array (or that has none beside it) must be absent from
// every element; one that sorts after such a condition must be absent from
// the element that condition chose. Every condition in reqs is either
// required or a pure absence here (see consistentChoices).
func (st *state) arrayHolds(e int32, reqs []sreq) bool {
	var buf [8]sreq
	rest := buf[:0]
	required := false
	for i := range reqs {
		q := &reqs[i]
		if !q.allowAbsent {
			required = true
			rest = append(rest, *q)
			continue
		}
		if !requiredBefore(reqs, q.path) {
			if st.presentBelow(e, q.node, q.presence) {
				return false
			}
			continue
		}
		rest = append(rest, *q)
	}
	return !required || st.anyElement(e, rest)
}

// requiredBefore reports whether a required condition of reqs has a path
// that sorts before path.
func requiredBefore(reqs []sreq, path string) bool {
	for i := range reqs {
		if !reqs[i].allowAbsent && reqs[i].path < path {
			return true
		}
	}
	return false
}

func (st *state) anyElement(e int32, reqs []sreq) bool {
	for c := st.entries[e].first; c >= 0; c = st.entries[c].next {
		switch st.entries[c].kind {
		case eObject:
			if st.consistent(c, reqs) {
				return true
			}
		case eArray:
			if st.anyElement(c, reqs) {
				return true
			}
		}
	}
	return false
}

// consistentChoices is consistent for a whole subrule. A condition that lists
// values beside {"exists": false} holds either by a value (then it picks an
// array element like any value condition) or by absence (event-ruler follows
// both transitions); each choice is tried, so that consistent sees only
// required conditions and pure absences. In a subrule with more than
// maxChoiceConds such conditions, the first maxChoiceConds are tried both
// ways and each of the rest is read by a value when a leaf of the event has
// one, else by absence (a bound on the work, exact in all but contrived
// cases).
func (st *state) consistentChoices(reqs []sreq) bool {
	var idx [maxChoiceConds]int
	k, more := 0, false
	for i := range reqs {
		if reqs[i].allowAbsent && reqs[i].pred >= 0 {
			if k == maxChoiceConds {
				more = true
				break
			}
			idx[k] = i
			k++
		}
	}
	if k == 0 {
		return st.consistent(0, reqs)
	}
	work := append(st.choiceBuf[:0], reqs...)
	st.choiceBuf = work
	if more {
		// Beyond maxChoiceConds: by a value when some leaf of the event
		// has one, else by absence.
		for i := idx[k-1] + 1; i < len(work); i++ {
			if q := &work[i]; q.allowAbsent && q.pred >= 0 {
				if st.predEpoch[q.pred] == st.epoch {
					q.allowAbsent = false
				} else {
					q.pred = -1
				}
			}
		}
	}
	for mask := 0; mask < 1<<k; mask++ {
		for j := 0; j < k; j++ {
			q := &work[idx[j]]
			if mask&(1<<j) != 0 {
				q.allowAbsent, q.pred = false, reqs[idx[j]].pred
			} else {
				q.allowAbsent, q.pred = true, -1
			}
		}
		if st.consistent(0, work) {
			return true
		}
	}
	return false
}

// maxChoiceConds bounds the value-or-absent conditions of one subrule whose
// both readings consistentChoices tries.
const maxChoiceConds = 8

// presentBelow reports whether some leaf at node n (an id) below entry e
// exists (presence is the presence predicate of n).
func (st *state) presentBelow(e int32, n int32, presence int32) bool {
	for c := st.entries[e].first; c >= 0; c = st.entries[c].next {
		ce := &st.entries[c]
		if ce.kind == eLeaf {
			if ce.nid == n {
				for _, p := range st.hits[ce.hitLo:ce.hitHi] {
					if p == presence {
						return true
					}
				}
			}
			continue
		}
		if st.presentBelow(c, n, presence) {
			return true
		}
	}
	return false
}

// childToward returns the child entry of object e whose path is q's or a
// dotted prefix of it, or -1.
func (st *state) childToward(e int32, q *sreq) int32 {
	if e < 0 {
		return -1
	}
	for c := st.entries[e].first; c >= 0; c = st.entries[c].next {
		if st.entries[c].holds(q) {
			return c
		}
	}
	return -1
}

// holds reports whether entry e's path is q's or a dotted prefix of it (the
// root, id 0, is everyone's ancestor).
func (e *entry) holds(q *sreq) bool {
	if e.nid == q.node || e.nid == 0 {
		return true
	}
	p := q.path
	return int(e.plen) < len(p) && p[e.plen] == '.' && p[:e.plen] == e.node.path
}

// leafHolds evaluates a condition against the value entry c at its own path:
// a scalar, or an array whose scalars (through nested arrays) are the values.
func (st *state) leafHolds(c int32, q *sreq) bool {
	hit, present := st.leafScan(c, q)
	if hit {
		return true
	}
	return q.allowAbsent && !present
}

func (st *state) leafScan(c int32, q *sreq) (hit, present bool) {
	ce := &st.entries[c]
	switch ce.kind {
	case eLeaf:
		for _, p := range st.hits[ce.hitLo:ce.hitHi] {
			if p == q.pred {
				return true, true
			}
			if p == q.presence {
				present = true
			}
		}
		return false, present
	case eArray:
		for x := ce.first; x >= 0; x = st.entries[x].next {
			if k := st.entries[x].kind; k == eLeaf || k == eArray {
				h, p := st.leafScan(x, q)
				if h {
					return true, true
				}
				present = present || p
			}
		}
	}
	return false, present
}
