package pattern

import (
	"errors"
	"strconv"
)

// This file holds the SNS dialect of the pattern language: subscription
// filter policies (Amazon SNS developer guide, "Amazon SNS message
// filtering"). A filter policy is parsed and matched by the same engine as an
// EventBridge pattern; ParsePolicy adds SNS's own checks and constraints on
// top of Parse.

// PolicyLimits bound what ParsePolicy accepts. A zero field takes SNS's
// default ("Filter policy constraints in Amazon SNS"); a negative one lifts
// the constraint.
type PolicyLimits struct {
	// MaxSize is the largest policy in bytes (SNS: 256 KB).
	MaxSize int
	// MaxKeys bounds the number of distinct keys (SNS: 5). In attribute
	// scope every key counts; in body scope only top-level keys do.
	MaxKeys int
	// MaxCombinations bounds the total combination of values (SNS: 150),
	// counted as SNS counts it: the product, over the value arrays, of
	// each array's length times the nesting depth of its key (1 at the top
	// level, so in attribute scope simply the product of the lengths); an
	// $or multiplies the product built so far into each branch and adds
	// the branches up.
	MaxCombinations int
	// MaxNumber bounds the magnitude of every number in the policy (SNS:
	// 10^9); MaxDecimals bounds its digits after the decimal point (SNS: 5).
	MaxNumber   float64
	MaxDecimals int
	// MaxWildcardStars bounds the '*' of one wildcard operand
	// (DefaultMaxWildcardStars, as for event patterns; negative: no bound).
	MaxWildcardStars int
}

// SNS's filter policy constraints.
const (
	DefaultPolicyMaxSize         = 256 * 1024
	DefaultPolicyMaxKeys         = 5
	DefaultPolicyMaxCombinations = 150
	DefaultPolicyMaxNumber       = 1e9
	DefaultPolicyMaxDecimals     = 5
)

// withDefaults fills the zero fields of l with SNS's defaults.
func (l PolicyLimits) withDefaults() PolicyLimits {
	if l.MaxSize == 0 {
		l.MaxSize = DefaultPolicyMaxSize
	}
	if l.MaxKeys == 0 {
		l.MaxKeys = DefaultPolicyMaxKeys
	}
	if l.MaxCombinations == 0 {
		l.MaxCombinations = DefaultPolicyMaxCombinations
	}
	if l.MaxNumber == 0 {
		l.MaxNumber = DefaultPolicyMaxNumber
	}
	if l.MaxDecimals == 0 {
		l.MaxDecimals = DefaultPolicyMaxDecimals
	}
	return l
}

// ParsePolicy validates and compiles an SNS subscription filter policy.
// attrScope selects SNS's MessageAttributes scope (no nesting; the policy is
// matched with MatchAttrs) over the MessageBody scope (nesting as in event
// patterns; matched against the JSON body). On top of Parse it rejects what
// SNS does not support — anything-but with anything but a single prefix
// (suffix, wildcard, equals-ignore-case, a list of prefixes), prefix and
// suffix with equals-ignore-case — and enforces SNS's constraints (lim).
// wildcard is accepted, with EventBridge's syntax and complexity limits:
// issue 11 lists it among the operators a policy has, though SNS's guide
// does not.
// It reads "$or", and in body scope {"exists": true}, as SNS does (see
// dialect).
func ParsePolicy(src []byte, attrScope bool, lim PolicyLimits) (*Parsed, error) {
	lim = lim.withDefaults()
	if lim.MaxSize > 0 && len(src) > lim.MaxSize {
		return nil, perr("", "filter policy is "+strconv.Itoa(len(src))+" bytes, more than the limit of "+strconv.Itoa(lim.MaxSize))
	}
	root, err := parseJSON(src, DefaultMaxDepth)
	if err != nil {
		if errors.Is(err, errTooDeep) {
			return nil, perr("", "filter policy nests more than "+strconv.Itoa(DefaultMaxDepth)+" levels deep")
		}
		return nil, perr("", err.Error())
	}
	if root.kind == jObject {
		pc := policyChecker{attrScope: attrScope, lim: lim, keys: map[string]bool{}}
		if err := pc.object(root, "", true); err != nil {
			return nil, err
		}
		// (A limit above 2^30 is as good as none, and keeps the products
		// of clamped counts within an int.)
		if lim.MaxCombinations > 0 && lim.MaxCombinations <= 1<<30 {
			if n := valueCombinations(root, 1, 1, lim.MaxCombinations); n > lim.MaxCombinations {
				return nil, perr("", "filter policy has more than "+strconv.Itoa(lim.MaxCombinations)+
					" combinations of values (the product of the lengths of its value arrays, each times the nesting depth of its key, summed over $or branches)")
			}
		}
		if lim.MaxKeys > 0 && len(pc.keys) > lim.MaxKeys {
			what := "top-level keys"
			if attrScope {
				what = "attribute names"
			}
			return nil, perr("", "filter policy has "+strconv.Itoa(len(pc.keys))+" "+what+", more than the limit of "+strconv.Itoa(lim.MaxKeys))
		}
	}
	// Parse reports structural problems (and a root that is not an object)
	// in the words it uses for event patterns. $or may expand to more
	// combinations than an event pattern's 1,000 as long as the value
	// combinations stay within the policy's limit, checked below.
	maxComb := DefaultMaxCombinations
	if lim.MaxCombinations > maxComb || lim.MaxCombinations < 0 {
		maxComb = 1 << 20
	}
	return parseIn(src, Limits{MaxSize: -1, MaxDepth: DefaultMaxDepth, MaxCombinations: maxComb, MaxWildcardStars: lim.MaxWildcardStars}, policyDialect(attrScope))
}

// snsOr is the dialect part that decides what an "$or" key is, which does
// not depend on the scope.
var snsOr = dialect{orNeedsObjects: true}

// policyDialect returns the dialect of SNS filter policies in attribute
// scope (attrScope) or body scope: "$or" is the OR operator only in the
// shape SNS documents, and in body scope {"exists": true} needs a value
// other than null or "". (In attribute scope every attribute has a
// non-empty value: Publish refuses an empty one.)
func policyDialect(attrScope bool) dialect {
	return dialect{orNeedsObjects: true, existsNonEmpty: !attrScope}
}

// valueCombinations counts SNS's "total combination of values" of the
// policy object v at nesting depth, starting from the product c built so
// far (see PolicyLimits.MaxCombinations). Counts above limit are clamped to
// limit+1, so that the product cannot overflow.
func valueCombinations(v *jval, depth, c, limit int) int {
	clamp := func(n int) int { return min(n, limit+1) }
	for _, m := range v.members {
		switch {
		case m.val.kind == jObject:
			c = valueCombinations(m.val, depth+1, c, limit)
		case snsOr.isOr(&m):
			sum := 0
			for _, el := range m.val.elems {
				if el.kind == jObject {
					sum = clamp(sum + valueCombinations(el, depth, c, limit))
				}
			}
			c = sum
		case m.val.kind == jArray:
			c = clamp(c * clamp(len(m.val.elems)*depth))
		}
	}
	return c
}

// policyChecker walks a decoded policy for SNS's dialect rules.
type policyChecker struct {
	attrScope bool
	lim       PolicyLimits
	keys      map[string]bool // the keys that count toward MaxKeys
}

// object checks a policy object; top is true for the policy itself and the
// branches of a top-level $or (whose keys are top-level keys).
func (pc *policyChecker) object(v *jval, epath string, top bool) error {
	for _, m := range v.members {
		fpath := joinPath(epath, m.key)
		if snsOr.isOr(&m) {
			for i, el := range m.val.elems {
				if el.kind == jObject {
					if err := pc.object(el, fpath+"["+strconv.Itoa(i)+"]", top); err != nil {
						return err
					}
				}
			}
			continue
		}
		if top {
			pc.keys[m.key] = true
		}
		switch m.val.kind {
		case jObject:
			if pc.attrScope {
				return perr(fpath, "a nested policy is not allowed in the MessageAttributes scope (attributes are flat); use the MessageBody scope to filter on nested properties")
			}
			if err := pc.object(m.val, fpath, false); err != nil {
				return err
			}
		case jArray:
			for _, el := range m.val.elems {
				if err := pc.value(el, fpath); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// value checks one element of a value array.
func (pc *policyChecker) value(v *jval, epath string) error {
	switch v.kind {
	case jNumber:
		return pc.number(v, epath)
	case jObject:
	default:
		return nil
	}
	if len(v.members) != 1 {
		return nil // Parse reports it
	}
	op, arg := v.members[0].key, v.members[0].val
	switch op {
	case "prefix", "suffix":
		if arg.kind == jObject {
			return perr(epath, op+`: SNS filter policies take a string here; equals-ignore-case cannot be combined with `+op)
		}
	case "numeric":
		if arg.kind == jArray {
			for _, el := range arg.elems {
				if err := pc.number(el, epath); err != nil {
					return err
				}
			}
		}
	case "anything-but":
		switch arg.kind {
		case jNumber:
			return pc.number(arg, epath)
		case jArray:
			for _, el := range arg.elems {
				if err := pc.number(el, epath); err != nil {
					return err
				}
			}
		case jObject:
			if len(arg.members) == 1 {
				switch k := arg.members[0].key; k {
				case "prefix":
					if a := arg.members[0].val; a.kind != jString {
						return perr(epath, "anything-but: prefix takes one string in SNS filter policies, got "+a.describe())
					}
				case "suffix", "wildcard", "equals-ignore-case":
					return perr(epath, "anything-but: SNS filter policies do not support "+strconv.Quote(k)+" inside anything-but (only prefix)")
				}
			}
		}
	}
	return nil
}

// number checks a policy number against SNS's numeric constraint: within
// ±MaxNumber, with at most MaxDecimals digits after the decimal point.
func (pc *policyChecker) number(v *jval, epath string) error {
	if v.kind != jNumber {
		return nil
	}
	var buf [32]byte
	digits, x, _, ok := decimalDigits([]byte(v.str), buf[:0])
	if !ok || len(digits) == 0 {
		return nil
	}
	if pc.lim.MaxDecimals > 0 && -x > pc.lim.MaxDecimals {
		return perr(epath, "number "+v.str+" has more than "+strconv.Itoa(pc.lim.MaxDecimals)+" digits after the decimal point (SNS's numeric accuracy)")
	}
	if pc.lim.MaxNumber > 0 {
		f, err := strconv.ParseFloat(v.str, 64)
		if err != nil || f > pc.lim.MaxNumber || f < -pc.lim.MaxNumber {
			return perr(epath, "number "+v.str+" is outside the range SNS allows (±"+strconv.FormatFloat(pc.lim.MaxNumber, 'g', -1, 64)+")")
		}
	}
	return nil
}
