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
// goroutines while Add and Delete run. Matching takes no lock: it reads an
// immutable compiled snapshot published through an atomic pointer. Add and
// Delete serialize among themselves and only record the change; the next
// match after a change rebuilds the snapshot once (in time linear in the
// number of patterns), so adding many patterns in a row costs no more than
// compiling them. A match that starts after Add or Delete returns sees the
// change. The zero value is an empty Matcher with default options.
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

	mu      sync.Mutex // serializes Add, Delete and rebuilds
	ids     []string   // insertion order (with swap-removal on Delete)
	pos     map[string]int
	parsed  []*pattern.Parsed
	version atomic.Uint64 // bumped by every change

	snap atomic.Pointer[matcherSnapshot]
}

type matcherSnapshot struct {
	version uint64
	m       *pattern.Machine
}

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
	if m.pos == nil {
		m.pos = make(map[string]int)
	}
	if i, ok := m.pos[id]; ok {
		m.parsed[i] = parsed
	} else {
		m.pos[id] = len(m.ids)
		m.ids = append(m.ids, id)
		m.parsed = append(m.parsed, parsed)
	}
	m.version.Add(1)
}

// Delete removes the pattern with the given id, if present.
func (m *Matcher) Delete(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.pos[id]
	if !ok {
		return
	}
	last := len(m.ids) - 1
	if i != last {
		m.ids[i], m.parsed[i] = m.ids[last], m.parsed[last]
		m.pos[m.ids[i]] = i
	}
	m.ids[last], m.parsed[last] = "", nil
	m.ids, m.parsed = m.ids[:last], m.parsed[:last]
	delete(m.pos, id)
	m.version.Add(1)
}

// Len returns the number of patterns.
func (m *Matcher) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids)
}

// snapshot returns a compiled snapshot that includes every change made so far.
func (m *Matcher) snapshot() *pattern.Machine {
	s := m.snap.Load()
	if s != nil && s.version == m.version.Load() {
		return s.m
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.version.Load() // stable: changes hold mu
	if s = m.snap.Load(); s != nil && s.version == v {
		return s.m
	}
	entries := make([]pattern.Entry, len(m.ids))
	for i, id := range m.ids {
		entries[i] = pattern.Entry{ID: id, P: m.parsed[i]}
	}
	s = &matcherSnapshot{version: v, m: pattern.Build(entries)}
	m.snap.Store(s)
	return s.m
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
