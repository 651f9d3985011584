package eda

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/edakit/eda/internal/pattern"
)

// This file holds the route table that both routers use: a Bus's rules
// and a Topic's subscriptions are routes, each a pattern (an event pattern
// or a filter policy) and what matching it leads to.
//
// A routeTable is immutable once published. Writers (one at a time) build
// the next table — the routes, and one compiled machine over the patterns
// of the routes that are on, derived from the previous one at the cost of
// the change (pattern.Machine.Apply) — and swap it in atomically; routing loads the
// current table, counts itself as its reader, matches with its machine and
// queues for its routes' destinations. So routing never waits for a change
// (it keeps the table it started with), and it sees the routes either
// wholly before or wholly after a change. A destination that a change
// removes is retired only once no event is being routed with a table that
// still names it: events routed with an older table may still be on their
// way into its queue.

// retirer is a destination that a change can remove.
type retirer interface{ Retire() }

// routeTable is one published generation of a router's routes.
type routeTable[R comparable] struct {
	// routes maps a route's id (rule name, subscription name) to the
	// route: a persistent map, so that a change copies only a few of its
	// nodes, however many routes there are.
	routes pattern.StringMap[R]
	// machine matches the patterns of the routes that are on (a Topic:
	// those of its attribute-scope filter policies); nil when there are
	// none, so that routing skips the match.
	machine *pattern.Machine
	// body matches a Topic's body-scope filter policies; nil when none.
	body *pattern.Machine
	// always lists the routes that are on without a pattern (a Topic's
	// subscriptions without filter policy): every message matches them.
	always routeList[R]
	// patterned counts the routes with a pattern, per scope.
	patterned [2]int
	// readers counts the events being routed with this table.
	readers atomic.Int64
	// routed counts the events routed with this table, and noAttrs those of
	// them without attributes (a Topic counts them, for the per-subscription
	// filtered-out counts of topic_stats.go; a Bus does not).
	routed, noAttrs atomic.Uint64
	// stale is set once a newer table replaced this one.
	stale atomic.Bool
	// delta is the change that made this table from the one before it.
	delta routeDelta[R]
}

// routeDelta is the change that made a table from the one before it: the
// value of the route it changed before and after (the zero R when absent)
// and whether that route's pattern is now in the main scope's machine. A
// router that keeps counts per route over the tables (a Topic's filtered-
// out counts) follows the changes with these, in order, as tables settle.
type routeDelta[R comparable] struct {
	from, to R
	isMain   bool
}

// routeTables is a router's current route table, the patterns behind its
// machine, and the destinations awaiting retirement.
type routeTables[R comparable] struct {
	// mu serializes changes; routing never takes it.
	mu       sync.Mutex
	current  atomic.Pointer[routeTable[R]]
	patterns map[string]routePattern // the patterns of the routes that are on, by id

	// retireMu guards retiring and the swap of current, so that a reader
	// of unsettled sees every table that events may have been routed with
	// exactly once: the current one, or a replaced one in retiring, or one
	// handed to settle.
	retireMu sync.Mutex
	retiring []retirement[R]
	// settle, when set, is called under retireMu with each replaced table
	// once no event is being routed with it (nor with an older one): its
	// counts are final.
	settle func(*routeTable[R])
}

// routePattern is where the pattern of a route that is on is: in a
// machine, in scope (0, the main one; 1, a Topic's body scope), or nowhere
// (not patterned): every event matches the route. The pattern itself is
// not kept (the machine keeps what it needs).
type routePattern struct {
	scope     int
	patterned bool
}

// retirement holds the destinations that left the routes when table was
// replaced.
type retirement[R comparable] struct {
	table   *routeTable[R]
	targets []retirer
}

// quiet reports whether no event is being routed with t.
func (t *routeTable[R]) quiet() bool { return t.readers.Load() == 0 }

// init publishes an empty table.
func (rt *routeTables[R]) init() {
	rt.patterns = make(map[string]routePattern)
	rt.current.Store(&routeTable[R]{})
}

// acquire returns the current table, counted as in use until release.
func (rt *routeTables[R]) acquire() *routeTable[R] {
	for {
		t := rt.current.Load()
		t.readers.Add(1)
		// Still current after the count went up: a writer that replaces it
		// from now on sees the reader and leaves its destinations alone.
		if rt.current.Load() == t {
			return t
		}
		rt.release(t)
	}
}

// release ends a use of t that acquire began.
func (rt *routeTables[R]) release(t *routeTable[R]) {
	if t.readers.Add(-1) == 0 && t.stale.Load() {
		rt.sweep()
	}
}

// load returns the current table, for reading its routes only (not for
// queueing events: use acquire).
func (rt *routeTables[R]) load() *routeTable[R] { return rt.current.Load() }

// routeChange is one change to a table, built by a writer under rt.mu.
type routeChange[R comparable] struct {
	// id is the route that changes.
	id string
	// route is its new value; remove deletes it instead.
	route  R
	remove bool
	// on says whether the route takes part in matching, with pattern p in
	// scope (0: the main one; 1: a Topic's body scope); with no pattern (p
	// nil), every event matches it.
	on    bool
	p     *pattern.Parsed
	scope int
	// keep says that the route keeps the pattern and the state it has (p
	// and on are not read): only its value changes (a rule's targets).
	keep bool
	// retire lists the destinations that leave the routes with the change.
	retire []retirer
}

// apply publishes a table with c applied to the current one. The caller
// holds rt.mu. The machine is built here, while routing goes on with the
// current table. What it copies is a part of the routes (StringMap,
// routeList, Machine.Apply), so that a change costs about the same however
// many routes there are.
func (rt *routeTables[R]) apply(c routeChange[R]) {
	old := rt.current.Load()
	next := &routeTable[R]{routes: old.routes.With(c.id, c.route, c.remove)}
	prev, had := rt.patterns[c.id]
	on, patterned, scope := c.on && !c.remove, c.p != nil, c.scope
	if c.keep {
		on, patterned, scope = had, prev.patterned, prev.scope
	}
	next.delta.from = old.routes.At(c.id)
	if !c.remove {
		next.delta.to = c.route
	}
	next.delta.isMain = on && patterned && scope == 0
	rt.setPattern(c.id, on, routePattern{scope: scope, patterned: patterned})
	// Each machine changes by what the change touches (Machine.Apply copies
	// only that), not by rebuilding all patterns.
	machines := [2]*pattern.Machine{old.machine, old.body}
	if !c.keep && had && prev.patterned && (!on || !patterned || prev.scope != scope) {
		machines[prev.scope] = machines[prev.scope].Apply(nil, []string{c.id})
	}
	if !c.keep && on && patterned {
		machines[scope] = machines[scope].Apply([]pattern.Entry{{ID: c.id, P: c.p}}, nil)
	}
	for s, m := range machines {
		next.patterned[s] = m.Len()
		if m.Len() == 0 {
			machines[s] = nil // nothing to match: routing skips it
		}
	}
	next.machine, next.body = machines[0], machines[1]
	// The routes without a pattern, in the order they were put: a route
	// that joins goes last, one that is replaced keeps its place.
	next.always = old.always
	wasAlways, isAlways := had && !prev.patterned, on && !patterned
	switch {
	case wasAlways && isAlways:
		next.always = old.always.replace(next.delta.from, c.route)
	case wasAlways:
		next.always = old.always.remove(next.delta.from)
	case isAlways:
		next.always = old.always.add(c.route)
	}
	rt.retireMu.Lock()
	rt.current.Store(next)
	rt.retiring = append(rt.retiring, retirement[R]{table: old, targets: c.retire})
	rt.retireMu.Unlock()
	old.stale.Store(true)
	rt.sweep()
}

// unsettled calls f with the current table and every replaced one not yet
// handed to settle. The caller holds retireMu.
func (rt *routeTables[R]) unsettled(f func(*routeTable[R])) {
	f(rt.current.Load())
	for _, r := range rt.retiring {
		f(r.table)
	}
}

// setPattern makes id's pattern rp take part in matching (on) or not.
func (rt *routeTables[R]) setPattern(id string, on bool, rp routePattern) {
	if on {
		rt.patterns[id] = rp
	} else {
		delete(rt.patterns, id)
	}
}

// sweep retires, oldest first, the destinations of every replaced table
// that no event is being routed with any more (nor with an older one).
func (rt *routeTables[R]) sweep() {
	rt.retireMu.Lock()
	n := 0
	for n < len(rt.retiring) && rt.retiring[n].table.quiet() {
		n++
	}
	done := slices.Clone(rt.retiring[:n])
	rt.retiring = slices.Delete(rt.retiring, 0, n)
	if rt.settle != nil {
		for _, r := range done {
			rt.settle(r.table)
		}
	}
	rt.retireMu.Unlock()
	for _, r := range done {
		for _, d := range r.targets {
			d.Retire()
		}
	}
}

// routeList is a table's routes without a pattern, in order: immutable,
// and changed by copying only a part of it. The routes are kept in chunks
// of at most routeChunk; a change copies the list of chunks and the one
// chunk it changes, so that subscribing to a topic with many subscriptions
// costs little more than to one with few. The zero value is empty.
type routeList[R comparable] struct {
	chunks [][]R
	n      int
}

const routeChunk = 64

// len returns the number of routes.
func (l routeList[R]) len() int { return l.n }

// add returns l with r last.
func (l routeList[R]) add(r R) routeList[R] {
	chunks := slices.Clone(l.chunks)
	if k := len(chunks) - 1; k >= 0 && len(chunks[k]) < routeChunk {
		chunks[k] = append(slices.Clone(chunks[k]), r)
	} else {
		chunks = append(chunks, []R{r})
	}
	return routeList[R]{chunks: chunks, n: l.n + 1}
}

// find returns the chunk and the place in it of the first route equal to
// r, or -1.
func (l routeList[R]) find(r R) (int, int) {
	for k, c := range l.chunks {
		if i := slices.Index(c, r); i >= 0 {
			return k, i
		}
	}
	return -1, -1
}

// replace returns l with the first route equal to old replaced by r.
func (l routeList[R]) replace(old, r R) routeList[R] {
	k, i := l.find(old)
	if k < 0 {
		return l.add(r)
	}
	chunks := slices.Clone(l.chunks)
	chunks[k] = slices.Clone(chunks[k])
	chunks[k][i] = r
	return routeList[R]{chunks: chunks, n: l.n}
}

// remove returns l without the first route equal to r.
func (l routeList[R]) remove(r R) routeList[R] {
	k, i := l.find(r)
	if k < 0 {
		return l
	}
	chunks := slices.Clone(l.chunks)
	if len(chunks[k]) == 1 {
		chunks = slices.Delete(chunks, k, k+1)
	} else {
		chunks[k] = slices.Delete(slices.Clone(chunks[k]), i, i+1)
	}
	return routeList[R]{chunks: chunks, n: l.n - 1}
}
