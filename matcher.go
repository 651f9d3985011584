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
	optErr      error // the first invalid option given to NewMatcher

	mu  sync.Mutex                      // serializes Add and Delete
	cur atomic.Pointer[pattern.Machine] // the published snapshot; nil: empty
}

// emptyMachine stands in for the snapshot of a Matcher that has never held a
// pattern (it still validates events).
var emptyMachine = pattern.Build(nil)

// MatcherOption configures a Matcher.
type MatcherOption func(*Matcher)

// WithMaxPatternSize sets the largest pattern, in bytes, that Add accepts
// (default DefaultMaxPatternSize, EventBridge's 4,096). n must be positive:
// a Matcher given another value refuses every Add (see NewMatcher).
func WithMaxPatternSize(n int) MatcherOption {
	return func(m *Matcher) {
		if n < 1 {
			m.refuse(optionError("WithMaxPatternSize", "must be positive, got %d", n))
			return
		}
		m.maxSize = n
	}
}

// WithMaxRuleSize sets the largest number of field conditions that one
// AND-combination of a pattern may hold after $or expansion (default
// DefaultMaxRuleSize, event-ruler's rule size limit of 256). Add rejects a
// larger pattern with a *PatternError naming the limit and the size. n must
// be positive: a Matcher given another value refuses every Add (see
// NewMatcher).
func WithMaxRuleSize(n int) MatcherOption {
	return func(m *Matcher) {
		if n < 1 {
			m.refuse(optionError("WithMaxRuleSize", "must be positive, got %d", n))
			return
		}
		m.maxRuleSize = n
	}
}

// refuse records the first invalid option.
func (m *Matcher) refuse(err error) {
	if m.optErr == nil {
		m.optErr = err
	}
}

// WithStrictEvents makes the Matcher validate every event completely (and so
// read it to the end), as Pattern.Match does: a malformed event is then always
// an error, whatever the patterns. Matching is slower on large events.
func WithStrictEvents() MatcherOption {
	return func(m *Matcher) { m.strict = true }
}

// NewMatcher returns an empty Matcher.
//
// An invalid option (a nil one, or a size limit below 1) is never ignored:
// since NewMatcher returns no error, the Matcher keeps the option's error,
// which wraps ErrInvalidOption, and returns it from every Add, so that no
// pattern is ever held under limits other than those asked for. Match on
// such a Matcher matches nothing, as on any empty Matcher.
func NewMatcher(opts ...MatcherOption) *Matcher {
	m := &Matcher{}
	for i, o := range opts {
		if o == nil {
			m.refuse(optionError("NewMatcher", "option %d is nil", i))
			continue
		}
		o(m)
	}
	return m
}

// Add adds the pattern with the given id, or replaces the pattern that
// already has that id. An invalid pattern returns a *PatternError and leaves
// the Matcher unchanged. On a Matcher made with an invalid option, Add
// returns that option's error (see NewMatcher).
func (m *Matcher) Add(id string, p []byte) error {
	if m.optErr != nil {
		return m.optErr
	}
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
