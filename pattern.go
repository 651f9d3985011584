package eda

import (
	"errors"

	"github.com/edakit/eda/internal/pattern"
)

// PatternError reports an invalid event pattern or SNS filter policy: where
// in it, and why. ParsePattern, MatchPattern, Matcher.Add and
// MatchFilterPolicy return it; use errors.As to get it. Its message starts
// with "event pattern: " or, for a filter policy, "filter policy: ".
type PatternError struct {
	// Path is the dotted path of the offending field inside the pattern
	// ("" when the problem is the pattern as a whole). $or branches appear as
	// "$or[i]", e.g. "detail.$or[1].price".
	Path string
	// Reason says what is wrong, in words a person can act on.
	Reason string

	policy bool // an SNS filter policy rather than an event pattern
}

func (e *PatternError) Error() string {
	what := "event pattern: "
	if e.policy {
		what = "filter policy: "
	}
	if e.Path == "" {
		return what + e.Reason
	}
	return what + e.Path + ": " + e.Reason
}

// ErrNotObject is returned, possibly wrapped with detail, when an event to be
// matched is not a JSON object (or is not valid JSON). Test with errors.Is.
var ErrNotObject = pattern.ErrNotObject

// DefaultMaxPatternSize is the largest pattern, in bytes, that ParsePattern
// and a default Matcher accept: EventBridge's limit.
const DefaultMaxPatternSize = pattern.DefaultMaxSize

// DefaultMaxRuleSize is the largest number of field conditions that one
// AND-combination of a pattern (after $or expansion) may hold in ParsePattern
// and a default Matcher: event-ruler's rule size limit. A Matcher created
// WithMaxRuleSize accepts larger ones.
const DefaultMaxRuleSize = pattern.DefaultMaxRuleSize

// convertError turns an engine error into the public *PatternError.
func convertError(err error) error {
	var pe *pattern.Error
	if errors.As(err, &pe) {
		return &PatternError{Path: pe.Path, Reason: pe.Reason}
	}
	return err
}

// Pattern is one compiled event pattern with EventBridge semantics. It is
// immutable and safe for concurrent use.
type Pattern struct {
	m *pattern.Machine
}

// ParsePattern validates and compiles one event pattern. An invalid pattern
// returns a *PatternError. Patterns larger than DefaultMaxPatternSize bytes,
// or with more than DefaultMaxRuleSize field conditions in one combination,
// are rejected; use a Matcher with WithMaxPatternSize or WithMaxRuleSize for
// larger ones.
func ParsePattern(p []byte) (*Pattern, error) {
	parsed, err := pattern.Parse(p, pattern.DefaultLimits())
	if err != nil {
		return nil, convertError(err)
	}
	return &Pattern{m: pattern.Build([]pattern.Entry{{ID: "", P: parsed}})}, nil
}

// Match reports whether event matches p. The error, which wraps
// ErrNotObject, is only for an event that is not a JSON object; Match
// validates the whole event, so a malformed event is always an error (a
// Matcher, tuned for throughput, stops reading early instead).
func (p *Pattern) Match(event []byte) (bool, error) {
	if p == nil || p.m == nil {
		return false, errors.New("eda: Match on a nil Pattern")
	}
	var buf [1]string
	ids, err := p.m.MatchStrict(buf[:0], event)
	return len(ids) > 0, err
}

// MatchPattern reports whether event matches pattern, like EventBridge's
// TestEventPattern: a *PatternError for an invalid pattern, an error wrapping
// ErrNotObject for an event that is not a JSON object.
func MatchPattern(pattern, event []byte) (bool, error) {
	p, err := ParsePattern(pattern)
	if err != nil {
		return false, err
	}
	return p.Match(event)
}
