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
type routeTable[R any] struct {
	// routes maps a route's id (rule name, subscription name) to the route.
	routes map[string]R
	// machine matches the patterns of the routes that are on (a Topic:
	// those of its attribute-scope filter policies); nil when there are
	// none, so that routing skips the match.
	machine *pattern.Machine
	// body matches a Topic's body-scope filter policies; nil when none.
	body *pattern.Machine
	// always lists the routes that are on without a pattern (a Topic's
	// subscriptions without filter policy): every message matches them.
	always []R
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
}

// routeTables is a router's current route table, the patterns behind its
// machine, and the destinations awaiting retirement.
type routeTables[R any] struct {
	// mu serializes changes; routing never takes it.
	mu       sync.Mutex
	current  atomic.Pointer[routeTable[R]]
	order    []string                // ids of the routes that are on, in the order they were put
	patterns map[string]routePattern // their patterns, by id

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

// routePattern is the pattern of a route that is on: p in scope (0, the
// main one; 1, a Topic's body scope), or no pattern at all (p nil): every
// event matches.
type routePattern struct {
	scope int
	p     *pattern.Parsed
}

// retirement holds the destinations that left the routes when table was
// replaced.
type retirement[R any] struct {
	table   *routeTable[R]
	targets []retirer
}

// quiet reports whether no event is being routed with t.
func (t *routeTable[R]) quiet() bool { return t.readers.Load() == 0 }

// init publishes an empty table.
func (rt *routeTables[R]) init() {
	rt.patterns = make(map[string]routePattern)
	rt.current.Store(&routeTable[R]{routes: map[string]R{}})
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
type routeChange[R any] struct {
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
	// retire lists the destinations that leave the routes with the change.
	retire []retirer
}

// apply publishes a table with c applied to the current one. The caller
// holds rt.mu. The machine is built here, while routing goes on with the
// current table.
func (rt *routeTables[R]) apply(c routeChange[R]) {
	old := rt.current.Load()
	next := &routeTable[R]{routes: make(map[string]R, len(old.routes)+1)}
	for k, v := range old.routes {
		next.routes[k] = v
	}
	if c.remove {
		delete(next.routes, c.id)
	} else {
		next.routes[c.id] = c.route
	}
	prev, had := rt.patterns[c.id]
	on := c.on && !c.remove
	rt.setPattern(c.id, on, routePattern{scope: c.scope, p: c.p})
	// Each machine changes by what the change touches (Machine.Apply copies
	// only that), not by rebuilding all patterns.
	machines := [2]*pattern.Machine{old.machine, old.body}
	if had && prev.p != nil && (!on || c.p == nil || prev.scope != c.scope) {
		machines[prev.scope] = machines[prev.scope].Apply(nil, []string{c.id})
	}
	if on && c.p != nil {
		machines[c.scope] = machines[c.scope].Apply([]pattern.Entry{{ID: c.id, P: c.p}}, nil)
	}
	for s, m := range machines {
		next.patterned[s] = m.Len()
		if m.Len() == 0 {
			machines[s] = nil // nothing to match: routing skips it
		}
	}
	next.machine, next.body = machines[0], machines[1]
	next.always = old.always
	if had && prev.p == nil || on && c.p == nil {
		next.always = nil
		for _, id := range rt.order {
			if rt.patterns[id].p == nil {
				next.always = append(next.always, next.routes[id])
			}
		}
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
	_, had := rt.patterns[id]
	switch {
	case on:
		rt.patterns[id] = rp
		if !had {
			rt.order = append(rt.order, id)
		}
	case had:
		delete(rt.patterns, id)
		rt.order = slices.DeleteFunc(rt.order, func(s string) bool { return s == id })
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
