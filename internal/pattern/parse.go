package pattern

import (
	"errors"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Limits bound what Parse accepts.
type Limits struct {
	// MaxSize is the largest pattern in bytes (EventBridge: 4,096).
	MaxSize int
	// MaxDepth is the deepest JSON nesting of a pattern.
	MaxDepth int
	// MaxCombinations bounds the number of AND-combinations that $or expands
	// to (EventBridge: 1,000).
	MaxCombinations int
	// MaxRuleSize bounds the number of field conditions in one
	// AND-combination after $or expansion (event-ruler's rule size: 256).
	MaxRuleSize int
	// MaxWildcardStars bounds the '*' of one wildcard operand (0:
	// DefaultMaxWildcardStars; negative: no bound).
	MaxWildcardStars int
}

// Default limits.
const (
	DefaultMaxSize         = 4096
	DefaultMaxDepth        = 64
	DefaultMaxCombinations = 1000
	DefaultMaxRuleSize     = 256
)

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{MaxSize: DefaultMaxSize, MaxDepth: DefaultMaxDepth, MaxCombinations: DefaultMaxCombinations, MaxRuleSize: DefaultMaxRuleSize}
}

// altKind is the kind of one alternative of a leaf list.
type altKind uint8

const (
	aString      altKind = iota // exact string; ip set when it is an IP address
	aNumber                     // exact number
	aTrue                       // true
	aFalse                      // false
	aNull                       // null
	aPrefix                     // prefix
	aPrefixFold                 // prefix + equals-ignore-case (s is the operand)
	aSuffix                     // suffix
	aSuffixFold                 // suffix + equals-ignore-case (s is the operand)
	aEqualsFold                 // equals-ignore-case (s is the operand)
	aWildcard                   // wildcard
	aNumeric                    // numeric range
	aCIDR                       // cidr
	aExists                     // exists: true (exists: false sets Req.AllowAbsent)
	aAnythingBut                // anything-but
)

// numRange is a numeric interval; a missing bound is ±Inf.
type numRange struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (r numRange) contains(f float64) bool {
	if f < r.lo || (r.loOpen && f == r.lo) {
		return false
	}
	if f > r.hi || (r.hiOpen && f == r.hi) {
		return false
	}
	return true
}

// abKind is the kind of an anything-but exclusion set.
type abKind uint8

const (
	abStrings abKind = iota
	abNumbers
	abPrefix
	abSuffix
	abFold
	abWildcard
	// abNullOrEmpty excludes null and the empty string: {"exists": true}
	// in an SNS message-body filter policy (see dialect).
	abNullOrEmpty
)

// anythingBut excludes a set of values; it matches every other present value,
// null included (except for abNullOrEmpty).
type anythingBut struct {
	kind abKind
	strs []string // strings, prefixes, suffixes or equals-ignore-case operands
	keys []string // abFold: the fold keys of strs
	nums []float64
	wcs  []*wildcard
}

// alt is one alternative of a leaf list. Operands other than strings and
// numbers live in altExt, to keep the common alternatives small.
type alt struct {
	kind    altKind
	cmp     bool    // aNumber: f is its value (finite), matched against comparable event numbers
	hasIP   bool    // aString: s is an IP address
	f       float64 // aNumber: value when cmp
	s       string
	canonic string // canonical text, for de-duplication (cleared after Parse)
	*altExt
}

type altExt struct {
	ip   netip.Addr
	cidr netip.Prefix
	wc   *wildcard
	rng  numRange
	ab   *anythingBut
}

// Req is one field condition of a conjunction: the leaf list at a dotted path.
// It holds when some leaf value at Path matches one of the alternatives, or,
// with AllowAbsent (an {"exists": false} alternative), when Path has no leaf.
type Req struct {
	Path        string
	alts        []alt
	AllowAbsent bool
	key         string // canonical form of the alternatives (without Path)
}

// Conj is one AND-combination of field conditions ($or expands into several).
type Conj []Req

// Parsed is a validated, compiled pattern: it matches an event when any of
// its conjunctions does. It is read-only: a Machine that holds a parsed
// pattern removes it by parsing its text again (reparse), and expects what
// it added.
type Parsed struct {
	Conjs []Conj
	// emptyStep: a path of the pattern has an empty step that event-ruler
	// records (see usesEmptyStep).
	emptyStep bool
	// d is the dialect the pattern was parsed in, and src its text without
	// insignificant whitespace (compactJSON), or "" for a Parsed not made
	// by parseIn (Only). A Machine keeps src and d instead of the Parsed,
	// which is several times larger, and parses the pattern again to
	// remove it (reparse).
	d   dialect
	src string
}

// reparse parses again the compact text src of a pattern that parseIn
// accepted in dialect d. Limits are lifted: the pattern was checked against
// its own when it was first parsed.
func reparse(src string, d dialect) *Parsed {
	p, err := parseIn([]byte(src), Limits{MaxDepth: math.MaxInt32, MaxCombinations: math.MaxInt32, MaxRuleSize: math.MaxInt32}, d)
	if err != nil {
		panic("pattern: a pattern accepted once no longer parses: " + err.Error())
	}
	return p
}

// usesEmptyStep reports whether a path of conjs has an empty step that
// event-ruler records as used. event-ruler reads an event member only when
// its key is a step that some rule uses; it splits rule paths at '.' the way
// Java's String.split does, which drops trailing empty steps. So "a." uses
// only "a", and an event's empty key {"a":{"":..}} is never read for it,
// while "a..b" and "" (a top-level empty key) do use the empty step.
func usesEmptyStep(conjs []Conj) bool {
	for _, cj := range conjs {
		for _, r := range cj {
			p := strings.TrimRight(r.Path, ".")
			if r.Path == "" || strings.HasPrefix(p, ".") || strings.Contains(p, "..") {
				return true
			}
		}
	}
	return false
}

// Parse validates and compiles one pattern.
func Parse(src []byte, lim Limits) (*Parsed, error) { return parseIn(src, lim, dialect{}) }

// parseIn is Parse in dialect d.
func parseIn(src []byte, lim Limits, d dialect) (*Parsed, error) {
	if lim.MaxSize > 0 && len(src) > lim.MaxSize {
		return nil, perr("", "pattern is "+strconv.Itoa(len(src))+" bytes, more than the limit of "+strconv.Itoa(lim.MaxSize))
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if lim.MaxCombinations <= 0 {
		lim.MaxCombinations = DefaultMaxCombinations
	}
	if lim.MaxRuleSize <= 0 {
		lim.MaxRuleSize = DefaultMaxRuleSize
	}
	root, err := parseJSON(src, lim.MaxDepth)
	if err != nil {
		if errors.Is(err, errTooDeep) {
			return nil, perr("", "pattern nests more than "+strconv.Itoa(lim.MaxDepth)+" levels deep")
		}
		return nil, perr("", err.Error())
	}
	if root.kind != jObject {
		return nil, perr("", "pattern must be a JSON object, got "+root.describe())
	}
	p, err := compile(root, lim, d)
	if err != nil {
		return nil, err
	}
	p.d, p.src = d, compactJSON(src)
	return p, nil
}

// dialect selects the rules of SNS filter policies where they differ from
// event patterns (ParsePolicy).
type dialect struct {
	// orNeedsObjects: "$or" is the OR operator only when its value is an
	// array of at least 2 objects none of whose field names is a reserved
	// keyword; otherwise it is an ordinary key (SNS developer guide,
	// "AND/OR logic", "OR operator"). Event patterns report such an $or
	// as an error.
	orNeedsObjects bool
	// existsNonEmpty: {"exists": true} matches only a property whose value
	// is neither null nor the empty string (SNS developer guide, "Key
	// matching": "The key must have a non-null and non-empty value"). In
	// event patterns any value exists.
	existsNonEmpty bool
}

// compile compiles the decoded pattern root (an object) in dialect d.
func compile(root *jval, lim Limits, d dialect) (*Parsed, error) {
	c := compiler{lim: lim, dialect: d}
	var conjs []Conj
	if err := c.object(root, "", false, "", false, &conjs); err != nil {
		return nil, err
	}
	for i, cj := range conjs {
		if len(cj) > lim.MaxRuleSize {
			return nil, perr("", "rule size "+strconv.Itoa(len(cj))+" (field conditions in combination "+strconv.Itoa(i)+
				" after $or expansion) is more than the limit of "+strconv.Itoa(lim.MaxRuleSize))
		}
		sort.SliceStable(cj, func(i, j int) bool { return cj[i].Path < cj[j].Path })
	}
	return &Parsed{Conjs: conjs, emptyStep: usesEmptyStep(conjs)}, nil
}

type compiler struct {
	lim Limits
	dialect
}

// isOr reports whether the member m of a pattern object is the $or
// operator: always for event patterns, and for SNS policies only when
// dialect.orNeedsObjects allows it.
func (d dialect) isOr(m *jmember) bool {
	if m.key != "$or" {
		return false
	}
	if !d.orNeedsObjects {
		return true
	}
	if m.val.kind != jArray || len(m.val.elems) < 2 {
		return false
	}
	for _, el := range m.val.elems {
		if el.kind != jObject {
			return false
		}
		for _, f := range el.members {
			if reservedInOr[f.key] {
				return false
			}
		}
	}
	return true
}

// reservedInOr lists the field names event-ruler refuses inside $or objects
// (operator names and keywords it reserves), so that a mistyped operator is
// not silently taken for a field.
var reservedInOr = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true, "anything-but": true,
	"exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"=": true, "<": true, "<=": true, ">": true, ">=": true,
	"regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true, "date-on-or-before": true, "in-date-range": true,
	"ip-address-in-range": true, "ip-address-not-in-range": true,
}

// Paths are named as event-ruler's Path names them, in patterns and events
// alike. The name of a container is its keys from the top joined with '.'
// (containerPath); a leaf's path is its container's name, '.', and its key,
// or just its key when that name is empty (joinPath, Path.extendedName). So
// the empty top-level key is dropped before a leaf ({"":{"d":..}} names "d")
// but kept before a deeper container ({"":{"a":{"b":..}}} names ".a.b").
func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// containerPath names the container at key inside the container named
// prefix (nested: prefix is a container's name, not the top level's).
func containerPath(prefix string, nested bool, key string) string {
	if !nested {
		return key
	}
	return prefix + "." + key
}

// object compiles a pattern object at event path prefix into rules, the
// AND-combinations built so far (nested: below the top level; epath is the
// path used in error messages).
// It follows event-ruler's JsonRuleCompiler: fields are applied in the order
// of the pattern text, and a leaf list is written into every current
// combination, replacing any earlier condition on the same path there (a
// later field overrides an earlier one; it is not ANDed with it). $or copies
// the current combinations once per branch and writes the branch into each
// copy (see or).
func (c *compiler) object(v *jval, prefix string, nested bool, epath string, inOr bool, rules *[]Conj) error {
	if len(v.members) == 0 {
		if epath == "" {
			return perr("", "pattern must not be an empty object")
		}
		return perr(epath, "empty object is not allowed")
	}
	// Duplicate keys are applied in order like any other fields, as
	// event-ruler's streaming compiler does: {"a":{"b":..},"a":{"c":..}}
	// requires both a.b and a.c, and of two leaf lists on one path the later
	// replaces the earlier (put).
	for _, m := range v.members {
		fpath := joinPath(epath, m.key)
		if c.isOr(&m) {
			if err := c.or(m.val, prefix, nested, fpath, rules); err != nil {
				return err
			}
			continue
		}
		if inOr && reservedInOr[m.key] {
			return perr(fpath, strconv.Quote(m.key)+" is a reserved keyword and cannot be a field name inside $or")
		}
		switch m.val.kind {
		case jObject:
			if err := c.object(m.val, containerPath(prefix, nested, m.key), true, fpath, inOr, rules); err != nil {
				return err
			}
		case jArray:
			r, err := c.leaf(m.val, joinPath(prefix, m.key), fpath)
			if err != nil {
				return err
			}
			if len(*rules) == 0 {
				*rules = append(*rules, nil)
			}
			for j, cj := range *rules {
				(*rules)[j] = put(cj, r)
			}
		default:
			return perr(fpath, "must be an object or an array, got "+m.val.describe())
		}
	}
	return nil
}

// put writes r into the combination cj, replacing a condition on the same
// path. cj must not share its backing array with another combination.
func put(cj Conj, r Req) Conj {
	for i := range cj {
		if cj[i].Path == r.Path {
			cj[i] = r
			return cj
		}
	}
	return append(cj, r)
}

// copyRules returns a copy of rules whose combinations share no backing
// arrays with those of rules.
func copyRules(rules []Conj) []Conj {
	out := make([]Conj, len(rules))
	for i, cj := range rules {
		out[i] = append(Conj(nil), cj...)
	}
	return out
}

// or compiles an $or at event path prefix: every branch gets its own copy of
// the combinations built so far and writes its fields into it; rules becomes
// the union of the copies.
func (c *compiler) or(v *jval, prefix string, nested bool, epath string, rules *[]Conj) error {
	if v.kind != jArray {
		return perr(epath, "must be an array of objects, got "+v.describe())
	}
	if len(v.elems) < 2 {
		return perr(epath, "must list at least 2 objects")
	}
	current := *rules
	var out []Conj
	for i, el := range v.elems {
		bpath := epath + "[" + strconv.Itoa(i) + "]"
		if el.kind != jObject {
			return perr(bpath, "must be an object, got "+el.describe())
		}
		branch := copyRules(current)
		if len(branch) == 0 {
			branch = append(branch, nil)
		}
		if err := c.object(el, prefix, nested, bpath, true, &branch); err != nil {
			return err
		}
		out = append(out, branch...)
		if len(out) > c.lim.MaxCombinations {
			return perr(epath, "$or expands to more than "+strconv.Itoa(c.lim.MaxCombinations)+" combinations")
		}
	}
	*rules = out
	return nil
}

// leaf compiles a leaf list of alternatives.
func (c *compiler) leaf(v *jval, path, epath string) (Req, error) {
	r := Req{Path: path}
	if len(v.elems) == 0 {
		return r, perr(epath, "empty list is not allowed; list at least one value")
	}
	for _, el := range v.elems {
		var a alt
		switch el.kind {
		case jString:
			a = alt{kind: aString, s: el.str, canonic: "s" + el.str}
			if ip, ok := parseIP(el.str); ok {
				// Not the canonical text of {"exactly": el.str}, which
				// matches no other spelling of the address.
				a.altExt, a.hasIP, a.canonic = &altExt{ip: ip}, true, "i"+el.str
			}
		case jNumber:
			// Matched by its text and, when it is comparable (number.go), by
			// its value against comparable event numbers: event-ruler adds
			// numericEquals only when ComparableNumber accepts the operand,
			// and drops it silently otherwise, so 9007199254740993 or
			// 0.30000000000000001 match their own literal text only.
			f, exact := numberString(el.str)
			a = alt{kind: aNumber, s: el.str, f: f, cmp: exact}
			if exact {
				a.canonic = "n" + strconv.FormatUint(math.Float64bits(f), 16)
			} else {
				a.canonic = "t" + el.str // distinct texts: distinct matches
			}
		case jTrue:
			a = alt{kind: aTrue, canonic: "T"}
		case jFalse:
			a = alt{kind: aFalse, canonic: "F"}
		case jNull:
			a = alt{kind: aNull, canonic: "N"}
		case jObject:
			var absent bool
			var err error
			a, absent, err = c.operator(el, epath)
			if err != nil {
				return r, err
			}
			if absent {
				r.AllowAbsent = true
				continue
			}
		default:
			return r, perr(epath, "a match value must be a string, number, true, false, null or an operator object, got "+el.describe())
		}
		r.alts = append(r.alts, a)
	}
	r.key = leafKey(r.alts, r.AllowAbsent)
	return r, nil
}

// leafKey returns the canonical key of a leaf list (Req.key): the canonical
// texts of alts (and "!" for absent), sorted and joined by NUL. Each text is
// prefixed with its length, so that the key of one list is never that of
// another (texts may hold any byte). It clears the texts, and points the
// operand text of each alternative that ends its canonical text (s of
// "s"+s) into the key, so that a Machine that keeps the key keeps the
// operand in the same bytes.
func leafKey(alts []alt, absent bool) string {
	type part struct {
		text string
		alt  int // index in alts, or -1 for "!"
	}
	parts := make([]part, 0, len(alts)+1)
	n := 0
	for i := range alts {
		c := alts[i].canonic
		parts = append(parts, part{strconv.Itoa(len(c)) + ":" + c, i})
		n += len(parts[i].text) + 1
	}
	if absent {
		parts = append(parts, part{"!", -1})
		n += 2
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].text < parts[j].text })
	var b strings.Builder
	b.Grow(max(n-1, 0)) // the separators are one fewer than the parts
	ends := make([]int, len(alts))
	for j, p := range parts {
		if j > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p.text)
		if p.alt >= 0 {
			ends[p.alt] = b.Len()
		}
	}
	key := b.String()
	for i := range alts {
		a := &alts[i]
		if end := ends[i]; len(a.s) > 0 && strings.HasSuffix(key[:end], a.s) {
			a.s = key[end-len(a.s) : end]
		}
		a.canonic = ""
	}
	return key
}

// parseIP reads an exact pattern string as an IP address when event-ruler
// would (ipLiteral).
func parseIP(s string) (netip.Addr, bool) { return ipLiteral([]byte(s)) }

// operator compiles an operator object such as {"prefix": "x"}. absent is
// true for {"exists": false}.
func (c *compiler) operator(v *jval, epath string) (a alt, absent bool, err error) {
	if len(v.members) != 1 {
		if len(v.members) == 0 {
			return a, false, perr(epath, "empty operator object")
		}
		return a, false, perr(epath, "an operator object must have exactly one key, got "+strconv.Itoa(len(v.members)))
	}
	op, arg := v.members[0].key, v.members[0].val
	bad := func(reason string) (alt, bool, error) { return alt{}, false, perr(epath, op+": "+reason) }
	switch op {
	case "prefix", "suffix":
		// Canonical tags: one letter per operator, distinct from every other
		// alternative's first letter.
		kind, foldKind, tag, foldTag := aPrefix, aPrefixFold, "p", "q"
		if op == "suffix" {
			kind, foldKind, tag, foldTag = aSuffix, aSuffixFold, "u", "v"
		}
		switch arg.kind {
		case jString:
			return alt{kind: kind, s: arg.str, canonic: tag + arg.str}, false, nil
		case jObject:
			if len(arg.members) != 1 || arg.members[0].key != "equals-ignore-case" {
				return bad(`the only operator allowed inside is "equals-ignore-case"`)
			}
			if arg.members[0].val.kind != jString {
				return bad("equals-ignore-case needs a string, got " + arg.members[0].val.describe())
			}
			s := arg.members[0].val.str
			return alt{kind: foldKind, s: s, canonic: foldTag + s}, false, nil
		default:
			return bad("needs a string or an equals-ignore-case object, got " + arg.describe())
		}
	case "exactly":
		// event-ruler's exact match: plain string equality, without the IP
		// address normalisation that a bare string gets; strings only.
		if arg.kind != jString {
			return bad("needs a string, got " + arg.describe())
		}
		return alt{kind: aString, s: arg.str, canonic: "s" + arg.str}, false, nil
	case "equals-ignore-case":
		if arg.kind != jString {
			return bad("needs a string, got " + arg.describe())
		}
		return alt{kind: aEqualsFold, s: arg.str, canonic: "e" + arg.str}, false, nil
	case "wildcard":
		if arg.kind != jString {
			return bad("needs a string, got " + arg.describe())
		}
		w, reason := parseWildcard(arg.str, c.lim.MaxWildcardStars)
		if w == nil {
			return alt{}, false, perr(epath, reason)
		}
		return alt{kind: aWildcard, s: arg.str, altExt: &altExt{wc: w}, canonic: "w" + arg.str}, false, nil
	case "exists":
		switch arg.kind {
		case jTrue:
			if c.existsNonEmpty {
				ab := &anythingBut{kind: abNullOrEmpty}
				return alt{kind: aAnythingBut, altExt: &altExt{ab: ab}, canonic: "a" + ab.canonical()}, false, nil
			}
			return alt{kind: aExists, canonic: "x"}, false, nil
		case jFalse:
			return alt{}, true, nil
		default:
			return bad("needs true or false, got " + arg.describe())
		}
	case "cidr":
		if arg.kind != jString {
			return bad("needs a string, got " + arg.describe())
		}
		p, reason := parseCIDR(arg.str)
		if reason != "" {
			return bad(strconv.Quote(arg.str) + " " + reason)
		}
		return alt{kind: aCIDR, altExt: &altExt{cidr: p}, canonic: "c" + p.String()}, false, nil
	case "numeric":
		r, reason := numericRange(arg)
		if reason != "" {
			return bad(reason)
		}
		return alt{kind: aNumeric, altExt: &altExt{rng: r}, canonic: "r" + strconv.FormatFloat(r.lo, 'g', -1, 64) + strconv.FormatBool(r.loOpen) +
			strconv.FormatFloat(r.hi, 'g', -1, 64) + strconv.FormatBool(r.hiOpen)}, false, nil
	case "anything-but":
		ab, reason := anythingButOf(arg, c.lim.MaxWildcardStars)
		if reason != "" {
			return bad(reason)
		}
		return alt{kind: aAnythingBut, altExt: &altExt{ab: ab}, canonic: "a" + ab.canonical()}, false, nil
	default:
		return alt{}, false, perr(epath, "unknown operator "+strconv.Quote(op))
	}
}

// comparableOperand checks that a JSON value is a number usable as an operand
// of numeric or anything-but, and returns its float64 value. As in
// event-ruler (ComparableNumber.generate), the number must be comparable
// (number.go): its decimal value must be exactly that of the shortest text of
// its float64. 0.30000000000000001, 9007199254740993, 1E309 and 2.5E-324 are
// rejected; 0.3, 9007199254740992, 5.0, 1E-320 and 4.9E-324 are accepted.
func comparableOperand(v *jval, what string) (float64, string) {
	if v.kind != jNumber {
		return 0, what + " needs a number, got " + shortDescribe(v)
	}
	f, ok := numberString(v.str)
	if !ok {
		return 0, what + " cannot compare number " + v.str + ": it is not exactly a float64 (" + operandReason(v.str) + ")"
	}
	return f, ""
}

// operandReason says why number text is not comparable.
func operandReason(text string) string {
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case err != nil || math.IsInf(f, 0):
		return "beyond the range of a float64"
	case f == 0:
		return "too small for a float64: it underflows to 0"
	}
	near := strconv.AppendFloat(nil, f, 'g', -1, 64)
	if two := javaTwoDigits(nil, f, strconv.AppendFloat(nil, f, 'e', -1, 64)); two != nil {
		near = two // as Java writes it (number.go)
	}
	return "the nearest float64 is " + string(near)
}

// shortDescribe renders a value the way error messages quote it.
func shortDescribe(v *jval) string {
	switch v.kind {
	case jString:
		return strconv.Quote(v.str)
	case jNumber:
		return v.str
	default:
		return v.describe()
	}
}

func numericRange(arg *jval) (numRange, string) {
	r := numRange{lo: math.Inf(-1), hi: math.Inf(1)}
	if arg.kind != jArray {
		return r, "needs an array such as [\">\", 0, \"<=\", 5], got " + arg.describe()
	}
	el := arg.elems
	if len(el) != 2 && len(el) != 4 {
		return r, "needs one or two comparisons (2 or 4 elements), got " + strconv.Itoa(len(el)) + " elements"
	}
	opOf := func(v *jval) (string, string) {
		if v.kind != jString {
			return "", "expected a comparison operator (=, <, <=, >, >=), got " + shortDescribe(v)
		}
		switch v.str {
		case "=", "<", "<=", ">", ">=":
			return v.str, ""
		}
		return "", "unknown comparison operator " + strconv.Quote(v.str)
	}
	op1, reason := opOf(el[0])
	if reason != "" {
		return r, reason
	}
	f1, reason := comparableOperand(el[1], strconv.Quote(op1))
	if reason != "" {
		return r, reason
	}
	apply := func(op string, f float64) {
		switch op {
		case "=":
			r.lo, r.hi = f, f
		case ">":
			r.lo, r.loOpen = f, true
		case ">=":
			r.lo = f
		case "<":
			r.hi, r.hiOpen = f, true
		case "<=":
			r.hi = f
		}
	}
	apply(op1, f1)
	if len(el) == 2 {
		return r, ""
	}
	if op1 != ">" && op1 != ">=" {
		return r, "in a two-comparison range the first operator must be > or >=, got " + strconv.Quote(op1)
	}
	op2, reason := opOf(el[2])
	if reason != "" {
		return r, reason
	}
	if op2 != "<" && op2 != "<=" {
		return r, "in a two-comparison range the second operator must be < or <=, got " + strconv.Quote(op2)
	}
	f2, reason := comparableOperand(el[3], strconv.Quote(op2))
	if reason != "" {
		return r, reason
	}
	apply(op2, f2)
	if !(r.lo < r.hi) {
		return r, "bad range: the lower bound " + el[1].str + " must be less than the upper bound " + el[3].str
	}
	return r, ""
}

func anythingButOf(arg *jval, maxStars int) (*anythingBut, string) {
	switch arg.kind {
	case jString:
		return &anythingBut{kind: abStrings, strs: []string{arg.str}}, ""
	case jNumber:
		f, reason := comparableOperand(arg, "a number")
		if reason != "" {
			return nil, reason
		}
		return &anythingBut{kind: abNumbers, nums: []float64{f}}, ""
	case jArray:
		return anythingButList(arg.elems)
	case jObject:
		return anythingButOperator(arg, maxStars)
	default:
		return nil, "needs a string, a number, a list, or a prefix/suffix/equals-ignore-case/wildcard object, got " + arg.describe()
	}
}

// anythingButList is anythingButOf for a list: of strings only or of
// numbers only, and not empty.
func anythingButList(elems []*jval) (*anythingBut, string) {
	if len(elems) == 0 {
		return nil, "empty list is not allowed"
	}
	ab := &anythingBut{}
	for i, el := range elems {
		switch el.kind {
		case jString:
			if i > 0 && ab.kind != abStrings {
				return nil, "a list must hold only strings or only numbers"
			}
			ab.kind = abStrings
			ab.strs = append(ab.strs, el.str)
		case jNumber:
			if i > 0 && ab.kind != abNumbers {
				return nil, "a list must hold only strings or only numbers"
			}
			ab.kind = abNumbers
			f, reason := comparableOperand(el, "a number")
			if reason != "" {
				return nil, reason
			}
			ab.nums = append(ab.nums, f)
		default:
			return nil, "a list may hold only strings or only numbers, got " + el.describe()
		}
	}
	return ab, ""
}

// anythingButOperator is anythingButOf for an operator object: one of
// prefix, suffix, equals-ignore-case or wildcard, given a string or a
// non-empty list of strings.
func anythingButOperator(arg *jval, maxStars int) (*anythingBut, string) {
	if len(arg.members) != 1 {
		return nil, "an operator object must have exactly one key"
	}
	op, v := arg.members[0].key, arg.members[0].val
	ab := &anythingBut{}
	switch op {
	case "prefix":
		ab.kind = abPrefix
	case "suffix":
		ab.kind = abSuffix
	case "equals-ignore-case":
		ab.kind = abFold
	case "wildcard":
		ab.kind = abWildcard
	default:
		return nil, "unsupported operator " + strconv.Quote(op) + " (allowed: prefix, suffix, equals-ignore-case, wildcard)"
	}
	var list []*jval
	switch v.kind {
	case jString:
		list = []*jval{v}
	case jArray:
		if len(v.elems) == 0 {
			return nil, op + ": empty list is not allowed"
		}
		list = v.elems
	default:
		return nil, op + " needs a string or a list of strings, got " + v.describe()
	}
	for _, el := range list {
		if el.kind != jString {
			return nil, op + " needs strings, got " + el.describe()
		}
		switch ab.kind {
		case abPrefix, abSuffix:
			if el.str == "" {
				return nil, op + ": an empty string is not allowed"
			}
			ab.strs = append(ab.strs, el.str)
		case abFold:
			ab.strs = append(ab.strs, el.str)
			ab.keys = append(ab.keys, string(foldKey(nil, []byte(el.str))))
		case abWildcard:
			w, reason := parseWildcard(el.str, maxStars)
			if w == nil {
				return nil, reason
			}
			ab.wcs = append(ab.wcs, w)
			ab.strs = append(ab.strs, el.str)
		}
	}
	return ab, ""
}

func (ab *anythingBut) canonical() string {
	var b strings.Builder
	b.WriteByte(byte('0' + ab.kind))
	if ab.kind == abNumbers {
		nums := append([]float64(nil), ab.nums...)
		sort.Float64s(nums)
		for _, f := range nums {
			b.WriteString(strconv.FormatUint(math.Float64bits(f), 16))
			b.WriteByte(1)
		}
		return b.String()
	}
	strs := append([]string(nil), ab.strs...)
	sort.Strings(strs)
	for _, s := range strs {
		b.WriteString(s)
		b.WriteByte(1)
	}
	return b.String()
}

// excludes reports whether the anything-but set excludes a leaf value.
// Only strings can be excluded by string sets, only comparable numbers by
// number sets; everything else (null, booleans, other types) is never excluded.
func (ab *anythingBut) excludes(v *leafValue, st *state) bool {
	switch ab.kind {
	case abNullOrEmpty:
		return v.kind == vNull || v.kind == vString && len(v.str) == 0
	case abNumbers:
		if v.kind != vNumber {
			return false
		}
		vf, ok := v.number()
		if !ok {
			return false
		}
		for _, f := range ab.nums {
			if f == vf {
				return true
			}
		}
		return false
	}
	if v.kind != vString {
		return false
	}
	s := v.str
	switch ab.kind {
	case abStrings:
		for _, x := range ab.strs {
			if string(s) == x {
				return true
			}
		}
	case abPrefix:
		for _, x := range ab.strs {
			if len(s) >= len(x) && string(s[:len(x)]) == x {
				return true
			}
		}
	case abSuffix:
		for _, x := range ab.strs {
			if len(s) >= len(x) && string(s[len(s)-len(x):]) == x {
				return true
			}
		}
	case abFold:
		k := v.foldKey(&st.foldBuf)
		for i, x := range ab.keys {
			if string(k) == x && foldMatch(ab.strs[i], s, false) {
				return true
			}
		}
	case abWildcard:
		for _, w := range ab.wcs {
			if w.match(s) {
				return true
			}
		}
	}
	return false
}
