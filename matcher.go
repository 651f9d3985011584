package eda

import (
	"sync"
	"sync/atomic"

	"github.com/edakit/eda/internal/pattern"
)

// Matcher holds many event patterns by id and finds, in one pass over an
// event, every pattern the event matches. All patterns share one compiled
// structure, so the cost of a match depends on the fields of the event that
// patterns use, not on the number of patterns.
//
// A Matcher is safe for concurrent use: Match and MatchAppend may run on many
// goroutines while Add and Delete run. Matching takes no lock and never
// waits: it reads an immutable compiled snapshot published through an atomic
// pointer. Add and Delete serialize among themselves; each derives the next
// snapshot from the current one, copying only the parts the change touches
// (so its cost depends on the pattern added or deleted, not on the number of
// patterns held), and publishes it before it returns. One cost is
// amortised instead: a field with 1,024 exact string values or more has a
// filter over them, which a change rebuilds, in time proportional to their
// number, once as many values were added as the filter was built with. A
// match that starts after Add or Delete returns sees the change; one that
// started before may finish on the snapshot it began with. The zero value
// is an empty Matcher with default options.
//
// For speed, a Matcher reads an event only as far as it must: once every key
// that patterns name has been seen and the rest of the event cannot hold a
// duplicate of one of them (a later duplicate key would win), it stops
// reading. The part it does not read is not validated, so a malformed tail
// (after the last named key) may go unnoticed; Pattern.Match, MatchPattern
// and a Matcher created WithStrictEvents validate every event completely.
type Matcher struct {
	maxSize     int
	maxRuleSize int
	strict      bool

	mu  sync.Mutex                      // serializes Add and Delete
	cur atomic.Pointer[pattern.Machine] // the published snapshot; nil: empty
}

// emptyMachine stands in for the snapshot of a Matcher that has never held a
// pattern (it still validates events).
var emptyMachine = pattern.Build(nil)

// MatcherOption configures a Matcher.
type MatcherOption func(*Matcher)

// WithMaxPatternSize sets the largest pattern, in bytes, that Add accepts
// (default DefaultMaxPatternSize, EventBridge's 4,096). Values below 1 keep
// the default.
func WithMaxPatternSize(n int) MatcherOption {
	return func(m *Matcher) {
		if n > 0 {
			m.maxSize = n
		}
	}
}

// WithMaxRuleSize sets the largest number of field conditions that one
// AND-combination of a pattern may hold after $or expansion (default
// DefaultMaxRuleSize, event-ruler's rule size limit of 256). Add rejects a
// larger pattern with a *PatternError naming the limit and the size. Values
// below 1 keep the default.
func WithMaxRuleSize(n int) MatcherOption {
	return func(m *Matcher) {
		if n > 0 {
			m.maxRuleSize = n
		}
	}
}

// WithStrictEvents makes the Matcher validate every event completely (and so
// read it to the end), as Pattern.Match does: a malformed event is then always
// an error, whatever the patterns. Matching is slower on large events.
func WithStrictEvents() MatcherOption {
	return func(m *Matcher) { m.strict = true }
}

// NewMatcher returns an empty Matcher.
func NewMatcher(opts ...MatcherOption) *Matcher {
	m := &Matcher{}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Add adds the pattern with the given id, or replaces the pattern that
// already has that id. An invalid pattern returns a *PatternError and leaves
// the Matcher unchanged.
func (m *Matcher) Add(id string, p []byte) error {
	lim := pattern.DefaultLimits()
	if m.maxSize > 0 {
		lim.MaxSize = m.maxSize
	}
	if m.maxRuleSize > 0 {
		lim.MaxRuleSize = m.maxRuleSize
	}
	parsed, err := pattern.Parse(p, lim)
	if err != nil {
		return convertError(err)
	}
	m.add(id, parsed)
	return nil
}

// add adds or replaces the compiled pattern with the given id.
func (m *Matcher) add(id string, parsed *pattern.Parsed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur.Store(m.cur.Load().Apply([]pattern.Entry{{ID: id, P: parsed}}, nil))
}

// Delete removes the pattern with the given id, if present.
func (m *Matcher) Delete(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur.Store(m.cur.Load().Apply(nil, []string{id}))
}

// Len returns the number of patterns.
func (m *Matcher) Len() int {
	return m.cur.Load().Len()
}

// snapshot returns the current compiled snapshot.
func (m *Matcher) snapshot() *pattern.Machine {
	if s := m.cur.Load(); s != nil {
		return s
	}
	return emptyMachine
}

// Match returns the id of every pattern that event matches, each once, in no
// particular order. The error, which wraps ErrNotObject, is only for an event
// that is not a JSON object.
func (m *Matcher) Match(event []byte) ([]string, error) {
	return m.MatchAppend(nil, event)
}

// MatchAppend is Match appending to dst, which it returns. With enough
// capacity in dst it allocates nothing.
func (m *Matcher) MatchAppend(dst []string, event []byte) ([]string, error) {
	if m.strict {
		return m.snapshot().MatchStrict(dst, event)
	}
	return m.snapshot().Match(dst, event)
}
