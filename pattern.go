package eda

import "errors"

// PatternError reports an invalid event pattern: where in the pattern, and why.
type PatternError struct {
	// Path is the dotted path of the offending field inside the pattern.
	Path string
	// Reason says what is wrong, in words a person can act on.
	Reason string
}

func (e *PatternError) Error() string {
	if e.Path == "" {
		return "event pattern: " + e.Reason
	}
	return "event pattern: " + e.Path + ": " + e.Reason
}

// Pattern is one compiled event pattern. (stub: replaced by the pattern engine)
type Pattern struct{}

// ParsePattern validates and compiles one event pattern.
func ParsePattern(pattern []byte) (*Pattern, error) {
	return nil, errors.New("not implemented")
}

// Match reports whether event matches p.
func (p *Pattern) Match(event []byte) (bool, error) { return false, errors.New("not implemented") }

// MatchPattern reports whether event matches pattern, like EventBridge's TestEventPattern.
func MatchPattern(pattern, event []byte) (bool, error) {
	p, err := ParsePattern(pattern)
	if err != nil {
		return false, err
	}
	return p.Match(event)
}

// Matcher holds many patterns by id. (stub)
type Matcher struct{}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher { return &Matcher{} }

// Add adds or replaces the pattern with the given id.
func (m *Matcher) Add(id string, pattern []byte) error { return errors.New("not implemented") }

// Delete removes the pattern with the given id.
func (m *Matcher) Delete(id string) {}

// Match returns the id of every pattern that event matches, each once.
func (m *Matcher) Match(event []byte) ([]string, error) { return m.MatchAppend(nil, event) }

// MatchAppend appends the id of every matching pattern to dst.
func (m *Matcher) MatchAppend(dst []string, event []byte) ([]string, error) {
	return dst, errors.New("not implemented")
}
