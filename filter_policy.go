package eda

import (
	"errors"
	"strconv"

	"github.com/edakit/eda/internal/pattern"
)

// FilterPolicyScope says what an SNS subscription filter policy applies to
// (SNS's FilterPolicyScope subscription attribute).
type FilterPolicyScope uint8

const (
	// ScopeMessageAttributes applies the policy to the message's attributes
	// (SNS's default): a flat policy whose keys name attributes. String
	// attributes match as strings, Number attributes as numbers,
	// String.Array attributes element by element (any element may match),
	// and Binary attributes never match. A message without attributes
	// matches no policy (SNS: {"exists": false} needs at least one
	// attribute on the message).
	ScopeMessageAttributes FilterPolicyScope = iota
	// ScopeMessageBody applies the policy to the message body, which must
	// be a JSON object: the policy may nest, as an event pattern does. A
	// body that is not a JSON object matches no policy.
	ScopeMessageBody
)

// String returns SNS's name of the scope: "MessageAttributes" or
// "MessageBody".
func (s FilterPolicyScope) String() string {
	switch s {
	case ScopeMessageAttributes:
		return "MessageAttributes"
	case ScopeMessageBody:
		return "MessageBody"
	}
	return "FilterPolicyScope(" + strconv.Itoa(int(s)) + ")"
}

// FilterPolicyLimits are SNS's filter policy constraints, which a Topic
// applies to its subscriptions' policies ([WithFilterPolicyLimits]); the
// zero value means SNS's defaults, and a negative field lifts that
// constraint.
type FilterPolicyLimits struct {
	// MaxSize is the largest policy in bytes (256 KB).
	MaxSize int
	// MaxKeys bounds the keys: attribute names in attribute scope,
	// top-level keys in body scope (5).
	MaxKeys int
	// MaxCombinations bounds the total combination of values (150).
	MaxCombinations int
	// MaxNumber bounds the magnitude of numbers (10^9); MaxDecimals their
	// digits after the decimal point (5).
	MaxNumber   float64
	MaxDecimals int
	// MaxWildcardStars bounds the '*' characters of one wildcard operand,
	// the wildcard complexity EventBridge limits too (25).
	MaxWildcardStars int
}

// filterPolicy is a validated, compiled filter policy, ready to be added to
// a Matcher (see Matcher.addPolicy) or matched on its own.
type filterPolicy struct {
	scope  FilterPolicyScope
	parsed *pattern.Parsed
}

// compileFilterPolicy validates policy in SNS's dialect for scope and
// compiles it. An invalid policy returns a *PatternError naming the
// offending key and the reason.
func compileFilterPolicy(policy []byte, scope FilterPolicyScope, lim FilterPolicyLimits) (filterPolicy, error) {
	if scope != ScopeMessageAttributes && scope != ScopeMessageBody {
		return filterPolicy{}, &PatternError{Reason: "unknown filter policy scope " + scope.String(), policy: true}
	}
	p, err := pattern.ParsePolicy(policy, scope == ScopeMessageAttributes, pattern.PolicyLimits{
		MaxSize:          lim.MaxSize,
		MaxKeys:          lim.MaxKeys,
		MaxCombinations:  lim.MaxCombinations,
		MaxNumber:        lim.MaxNumber,
		MaxDecimals:      lim.MaxDecimals,
		MaxWildcardStars: lim.MaxWildcardStars,
	})
	if err != nil {
		err = convertError(err)
		if pe, ok := err.(*PatternError); ok {
			pe.policy = true
		}
		return filterPolicy{}, err
	}
	return filterPolicy{scope: scope, parsed: p}, nil
}

// MatchFilterPolicy reports whether the message m passes the SNS
// subscription filter policy in the given scope, as SNS decides whether to
// deliver m to the subscription. An invalid policy returns false and a
// *PatternError. In attribute scope, an attribute that SNS would refuse
// (see Message) returns false and a *MessageError. In body scope, a body
// that is not a JSON object matches nothing, without an error.
//
// Two rules differ from event patterns ([MatchPattern]), as the SNS
// developer guide has them:
//
//   - In body scope, {"exists": true} matches only a property whose value is
//     neither null nor "" ("Key matching": "The key must have a non-null and
//     non-empty value"). Where the guide is silent, eda decides: an array
//     property passes when one of its elements is neither null nor "", and
//     a property whose value is null or "" is present all the same, so
//     {"exists": false} does not match it either. In attribute scope every
//     attribute has a value (Publish refuses an empty one).
//   - "$or" is the OR operator only when its value is an array of at least
//     two objects none of which has a reserved keyword (an operator name)
//     as a field name; otherwise it is an ordinary key ("AND/OR logic", "OR
//     operator"), in both scopes. In body scope it then names a property
//     "$or"; in attribute scope no attribute can have that name, so such a
//     key never matches a value ({"exists": false} on it matches every
//     message with attributes).
//
// The policy is compiled on every call; a Topic compiles its subscriptions'
// policies once.
func MatchFilterPolicy(policy []byte, scope FilterPolicyScope, m Message) (bool, error) {
	fp, err := compileFilterPolicy(policy, scope, FilterPolicyLimits{})
	if err != nil {
		return false, err
	}
	if scope == ScopeMessageAttributes {
		for name, a := range m.Attributes {
			if err := validateAttribute(name, a); err != nil {
				return false, err
			}
		}
	}
	mach := pattern.Build([]pattern.Entry{{ID: "", P: fp.parsed}})
	var buf [1]string
	ids, err := matchMessage(mach, buf[:0], scope, &m)
	return len(ids) > 0, err
}

// matchMessage matches m against the policies of mach, all of one scope,
// appending the ids of those that match to dst. The attributes must have
// been validated (validateMessage): an invalid Number or String.Array value
// is an error, other problems go unnoticed.
func matchMessage(mach *pattern.Machine, dst []string, scope FilterPolicyScope, m *Message) ([]string, error) {
	if scope == ScopeMessageBody {
		ids, err := mach.MatchStrict(dst, m.Body)
		if errors.Is(err, pattern.ErrNotObject) {
			return dst, nil // SNS: a body that is not JSON matches no body policy
		}
		return ids, err
	}
	if len(m.Attributes) == 0 {
		return dst, nil
	}
	var stack [16]pattern.Attr
	return mach.MatchAttrs(dst, messageAttrs(stack[:0], m.Attributes))
}

// addPolicy adds the compiled filter policy fp with the given id to the
// Matcher, or replaces the pattern or policy that already has that id. A
// Matcher used for policies must hold policies of one scope only, matched
// with matchMessage; a Topic keeps one Matcher per scope.
func (m *Matcher) addPolicy(id string, fp filterPolicy) {
	m.add(id, fp.parsed)
}

// matchMessage returns the ids of the policies (added with addPolicy, all
// of scope) that the validated message passes, appended to dst.
func (m *Matcher) matchMessage(dst []string, scope FilterPolicyScope, msg *Message) ([]string, error) {
	return matchMessage(m.snapshot(), dst, scope, msg)
}
