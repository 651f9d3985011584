package eda

// A reference interpreter for event patterns, written independently of the
// engine: it decodes pattern and event with encoding/json (UseNumber) and walks
// the pattern tree against the decoded event. It is meant to be slow, short
// and obviously right; the property, citylots and table tests compare the
// compiled engine with it. It assumes a valid pattern (ParsePattern decides
// validity); on a pattern it cannot read it returns an error.
//
// The semantics it encodes, with their sources:
//   - A pattern object matches an event object when every field matches
//     (EventBridge "Event pattern syntax"); a leaf is a list of alternatives
//     ("Matching on multiple field values").
//   - An event array matches a leaf when any element does ("Arrays in
//     EventBridge event patterns"); nested arrays are flattened.
//   - Arrays of objects are matched array-consistently: all fields of one
//     pattern object must match inside the same array element (event-ruler
//     README, "JSON Array Matching", rulesForJSONEvent).
//   - exists works on leaves only: an object value or an empty array is not a
//     leaf, so exists:true fails and exists:false matches there (EventBridge
//     "Exists matching"; event-ruler README). A JSON null is a leaf value.
//     Below an array of objects, exists:false is checked against the array
//     elements chosen by the conditions on paths that sort before it, as
//     event-ruler's ACFinder walks a rule's sorted keys; see refACMatch.
//   - A null (or scalar) where the pattern expects an object counts as a
//     missing object: every field below it is missing (event-ruler's counts on
//     citylots).
//   - anything-but matches every present value that is not excluded,
//     including null, numbers against string lists and strings against
//     number lists; it never matches a missing field (event-ruler's citylots
//     counts; event-ruler JsonRuleCompiler/AnythingBut).
//   - Numbers: an exact number matches the same literal text, or, when the
//     event number is "comparable" (its decimal value equals that of the
//     shortest text of its float64), a float64-equal value; numeric ranges
//     only consider comparable event numbers (event-ruler
//     JsonRuleCompiler.writeRules and ComparableNumber; its citylots counts).
//   - Exact strings that are IP addresses compare as addresses (event-ruler
//     JsonRuleCompiler: CIDR.ipToRangeIfPossible).
//   - $or is expanded first into $or-free conjunctions (event-ruler
//     JsonRuleCompiler), each matched array-consistently; a field named both
//     beside an $or and inside a branch must satisfy both.
//   - Duplicate keys: the last wins (encoding/json does that for maps).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// refDecode decodes one JSON value keeping numbers as json.Number.
func refDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// refMatch reports whether event matches pattern according to the reference.
func refMatch(pattern, event []byte) (bool, error) {
	p, err := refDecode(pattern)
	if err != nil {
		return false, fmt.Errorf("reference: pattern: %w", err)
	}
	pm, ok := p.(map[string]any)
	if !ok {
		return false, errors.New("reference: pattern is not an object")
	}
	refRecordKeyOrder(pattern, pm)
	e, err := refDecode(event)
	if err != nil {
		return false, fmt.Errorf("reference: event: %w", err)
	}
	em, ok := e.(map[string]any)
	if !ok {
		return false, errors.New("reference: event is not an object")
	}
	return refMatchDecoded(pm, em), nil
}

// refMatchDecoded matches an already decoded pattern against a decoded event.
func refMatchDecoded(pattern map[string]any, event map[string]any) bool {
	return refCompile(pattern).match(event)
}

// refPattern is a pattern expanded into its $or-free conjunctions: it
// matches when any conjunction does. Expanding first (as event-ruler's
// JsonRuleCompiler does) makes array consistency hold across the fields that
// an $or branch and its siblings name inside the same array.
type refPattern []*refNode

// refNode is one object of a conjunction: sub-objects by field, and leaf
// lists by field (several lists under one field must all match).
type refNode struct {
	fields map[string]*refNode
	leaves map[string][][]any
}

func newRefNode() *refNode {
	return &refNode{fields: map[string]*refNode{}, leaves: map[string][][]any{}}
}

// refMerge returns a new node holding the constraints of a and then b. A
// value list of b replaces a's list for the same field: in event-ruler's
// JsonRuleCompiler, writing a field puts its path into every current
// sub-rule, so a field written later in the pattern text overrides an earlier
// one on the same path (a sibling of an $or and a field in one of its
// branches, in whichever order they are written).
func refMerge(a, b *refNode) *refNode {
	out := newRefNode()
	for _, n := range []*refNode{a, b} {
		for k, lists := range n.leaves {
			out.leaves[k] = slices.Clone(lists)
		}
		for k, child := range n.fields {
			if prev, ok := out.fields[k]; ok {
				out.fields[k] = refMerge(prev, child)
			} else {
				out.fields[k] = refMerge(newRefNode(), child)
			}
		}
	}
	return out
}

// refOrderKey is where refRecordKeyOrder keeps, in a decoded pattern object,
// the order in which its keys appear in the pattern text. No JSON key can
// collide with it: it is not a string encoding/json produces for a key of a
// pattern object that reaches refCompile.
const refOrderKey = "\x00order"

// refKeys returns the keys of a pattern object in text order when it was
// recorded, and sorted otherwise — the order json.Marshal writes a map in,
// which is how the property tests produce their pattern text.
func refKeys(p map[string]any) []string {
	if order, ok := p[refOrderKey].([]string); ok {
		return order
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// refRecordKeyOrder walks the pattern text alongside its decoded form m and
// records, in m and in every nested pattern object (including $or branches,
// but not operator objects such as {"prefix": "x"}), the order of its keys.
// A key written twice counts at its last place, where its value comes from.
func refRecordKeyOrder(text []byte, m map[string]any) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return
	}
	refOrderObject(dec, m)
}

func refOrderObject(dec *json.Decoder, m map[string]any) {
	var order []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return
		}
		k, _ := t.(string)
		order = slices.DeleteFunc(order, func(s string) bool { return s == k })
		order = append(order, k)
		t, err = dec.Token()
		if err != nil {
			return
		}
		switch {
		case t == json.Delim('{'):
			if child, ok := m[k].(map[string]any); ok {
				refOrderObject(dec, child)
			} else {
				refSkip(dec)
			}
		case t == json.Delim('[') && k == "$or":
			branches, _ := m[k].([]any)
			for i := 0; dec.More(); i++ {
				t, err := dec.Token()
				if err != nil {
					return
				}
				b, ok := map[string]any(nil), false
				if i < len(branches) {
					b, ok = branches[i].(map[string]any)
				}
				switch {
				case t == json.Delim('{') && ok:
					refOrderObject(dec, b)
				case t == json.Delim('{') || t == json.Delim('['):
					refSkip(dec)
				}
			}
			dec.Token() // ]
		case t == json.Delim('['):
			refSkip(dec)
		}
	}
	dec.Token() // }
	m[refOrderKey] = order
}

// refSkip consumes the rest of a container whose opening token was read.
func refSkip(dec *json.Decoder) {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// refCompile expands a decoded pattern object into its conjunctions.
func refCompile(p map[string]any) refPattern {
	conj := []*refNode{newRefNode()}
	cross := func(options []*refNode, wrap func(*refNode) *refNode) {
		var next []*refNode
		for _, c := range conj {
			for _, o := range options {
				next = append(next, refMerge(c, wrap(o)))
			}
		}
		conj = next
	}
	for _, k := range refKeys(p) {
		switch v := p[k].(type) {
		case map[string]any:
			cross(refCompile(v), func(o *refNode) *refNode {
				n := newRefNode()
				n.fields[k] = o
				return n
			})
		case []any:
			if k == "$or" {
				var options []*refNode
				for _, b := range v {
					if bm, ok := b.(map[string]any); ok {
						options = append(options, refCompile(bm)...)
					}
				}
				cross(options, func(o *refNode) *refNode { return o })
				continue
			}
			leaf := newRefNode()
			leaf.leaves[k] = [][]any{v}
			cross([]*refNode{leaf}, func(o *refNode) *refNode { return o })
		}
	}
	return conj
}

// match reports whether the decoded event matches any conjunction.
func (rp refPattern) match(event any) bool {
	for _, n := range rp {
		var conds []refCond
		refConds(n, "", false, &conds)
		if refACMatch(conds, refFlatten(event, refUsesEmptyStep(conds))) {
			return true
		}
	}
	return false
}

// refCond is one field condition of a conjunction: a leaf list at a dotted
// path.
type refCond struct {
	path string
	list []any
}

// refConds lists the conditions of conjunction node n, the container named
// name (nested: not the top level). Names follow event-ruler's Path: a
// container's name joins every key from the top with '.'; a leaf's path is
// its container's name, '.', and its key, or its key alone when that name is
// empty.
func refConds(n *refNode, name string, nested bool, out *[]refCond) {
	for k, child := range n.fields {
		refConds(child, refContainerName(name, nested, k), true, out)
	}
	for k, lists := range n.leaves {
		for _, list := range lists {
			*out = append(*out, refCond{path: refLeafPath(name, k), list: list})
		}
	}
}

func refContainerName(name string, nested bool, k string) string {
	if !nested {
		return k
	}
	return name + "." + k
}

func refLeafPath(name, k string) string {
	if name == "" {
		return k
	}
	return name + "." + k
}

// refUsesEmptyStep: event-ruler reads an event member with an empty key only
// when a rule path has an empty step that Java's String.split keeps (not a
// trailing one), or is itself empty.
func refUsesEmptyStep(conds []refCond) bool {
	for _, c := range conds {
		steps := strings.Split(c.path, ".")
		for len(steps) > 1 && steps[len(steps)-1] == "" {
			steps = steps[:len(steps)-1]
		}
		if slices.Contains(steps, "") && !(len(steps) == 1 && c.path != "") {
			return true
		}
	}
	return false
}

// refField is one leaf of a flattened event: its dotted path, its value and
// the array elements it lies in (array id -> element index).
type refField struct {
	path string
	val  any
	mem  map[int]int
}

// refFlatten lists the leaves of an event (scalars and nulls; objects and
// empty arrays are not leaves), each with its array membership. Every array
// gets its own id; nested arrays are arrays in their own right.
func refFlatten(event any, emptyStep bool) []refField {
	var out []refField
	ids := 0
	// walk visits v, the value of a member whose leaf path is path and
	// whose name as a container is name (refConds).
	var walk func(v any, path, name string, mem map[int]int)
	walk = func(v any, path, name string, mem map[int]int) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "" && !emptyStep {
					continue
				}
				walk(child, refLeafPath(name, k), refContainerName(name, true, k), mem)
			}
		case []any:
			id := ids
			ids++
			for i, el := range v {
				m := maps.Clone(mem)
				if m == nil {
					m = map[int]int{}
				}
				m[id] = i
				walk(el, path, name, m)
			}
		default:
			out = append(out, refField{path: path, val: v, mem: mem})
		}
	}
	top, _ := event.(map[string]any)
	for k, child := range top {
		if k == "" && !emptyStep {
			continue
		}
		walk(child, k, k, nil)
	}
	return out
}

// refConsistent reports whether two memberships agree on every array both
// lie in.
func refConsistent(a, b map[int]int) bool {
	for id, i := range a {
		if j, ok := b[id]; ok && i != j {
			return false
		}
	}
	return true
}

// refACMatch is event-ruler's array-consistent search (ACFinder), written
// out plainly: the conditions are taken in the order of their sorted paths;
// each is met either by a leaf at its path whose value matches the list and
// whose array elements agree with those chosen so far (which then joins the
// choice), or, when the list holds {"exists": false}, by no leaf at its path
// agreeing with the elements chosen so far. Every way is tried.
func refACMatch(conds []refCond, fields []refField) bool {
	slices.SortStableFunc(conds, func(a, b refCond) int { return strings.Compare(a.path, b.path) })
	var try func(i int, mem map[int]int) bool
	try = func(i int, mem map[int]int) bool {
		if i == len(conds) {
			return true
		}
		c := conds[i]
		absentOK := false
		for _, alt := range c.list {
			if op, ok := alt.(map[string]any); ok && op["exists"] == false {
				absentOK = true
			}
		}
		present := false
		for _, f := range fields {
			if f.path != c.path || !refConsistent(mem, f.mem) {
				continue
			}
			present = true
			if !refLeafValue(c.list, f.val) {
				continue
			}
			next := maps.Clone(mem)
			if next == nil {
				next = map[int]int{}
			}
			maps.Copy(next, f.mem)
			if try(i+1, next) {
				return true
			}
		}
		return absentOK && !present && try(i+1, mem)
	}
	return try(0, nil)
}

// refLeafValue reports whether one leaf value matches a leaf list
// (exists:true matches any leaf).
func refLeafValue(list []any, val any) bool {
	for _, alt := range list {
		if op, ok := alt.(map[string]any); ok {
			if ex, ok := op["exists"]; ok {
				if ex == true {
					return true
				}
				continue
			}
		}
		if refValue(alt, val) {
			return true
		}
	}
	return false
}

// refValue matches one alternative of a leaf list against one event value.
func refValue(alt any, val any) bool {
	switch a := alt.(type) {
	case nil:
		return val == nil
	case bool:
		b, ok := val.(bool)
		return ok && a == b
	case string:
		return refStringEqual(a, val)
	case json.Number:
		return refNumberEqual(a, val)
	case map[string]any:
		for op, arg := range a { // exactly one key in a valid pattern
			return refOperator(op, arg, val)
		}
	}
	return false
}

func refStringEqual(p string, val any) bool {
	s, ok := val.(string)
	if !ok {
		return false
	}
	if s == p {
		return true
	}
	pa, ok1 := refIP(p)
	sa, ok2 := refIP(s)
	return ok1 && ok2 && pa == sa
}

// refIP parses s as an IP address literal as event-ruler's CIDR.ipToBytes
// does: dotted IPv4 of four decimal fields, or IPv6 of hex digits and colons only (no zone, no
// embedded IPv4); an IPv4-mapped IPv6 address is its IPv4 address.
func refIP(s string) (netip.Addr, bool) {
	if strings.Contains(s, "%") || strings.Contains(s, ":") && strings.Contains(s, ".") {
		return netip.Addr{}, false
	}
	if fields := strings.Split(s, "."); len(fields) == 4 && len(s) <= 15 {
		// Java's InetAddress reads each field as decimal, leading zeros
		// and all; text longer than 15 bytes is a host name to it.
		var b [4]byte
		for i, f := range fields {
			n, err := strconv.ParseUint(f, 10, 8)
			if err != nil || strings.ContainsAny(f, "+-") {
				return netip.Addr{}, false
			}
			b[i] = byte(n)
		}
		return netip.AddrFrom4(b), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// refNumberEqual: the same literal text, or, when the pattern number and the
// event number are both comparable, equal float64 values.
func refNumberEqual(p json.Number, val any) bool {
	n, ok := val.(json.Number)
	if !ok {
		return false
	}
	if string(n) == string(p) {
		return true
	}
	pf, ok := refComparable(p)
	if !ok {
		return false
	}
	nf, ok := refComparable(n)
	return ok && nf == pf
}

// refComparable returns the float64 of an event number when the number takes
// part in numeric comparison: its decimal value must equal that of the text
// Java writes for its float64 (refJavaText).
func refComparable(n json.Number) (float64, bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, false
	}
	a, ok1 := refDecimal(string(n))
	b, ok2 := refDecimal(refJavaText(f))
	return f, ok1 && ok2 && a == b
}

// refJavaText is the decimal Java's Double.toString writes for f (JDK 19 and
// later, as its documentation states): of the decimals that read back as f,
// those of the fewest digits — or, when that is one digit, those of one or
// two — and of them the closest to f. It tries every decimal of two digits
// at the power of ten below the shortest one's.
func refJavaText(f float64) string {
	short := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(short, "e")
	if strings.Contains(mant, ".") || f == 0 {
		return short // two digits or more
	}
	x, _ := strconv.Atoi(exp)
	exact := new(big.Rat).SetFloat64(f)
	best, bestDist := short, new(big.Rat).Abs(new(big.Rat).Sub(refRat(short), exact))
	sign := ""
	if f < 0 {
		sign = "-"
	}
	for c := 10; c <= 99; c++ {
		cand := fmt.Sprintf("%s%d.%de%d", sign, c/10, c%10, x)
		if g, err := strconv.ParseFloat(cand, 64); err != nil || g != f {
			continue
		}
		d := new(big.Rat).Abs(new(big.Rat).Sub(refRat(cand), exact))
		if k := d.Cmp(bestDist); k < 0 || k == 0 && c%2 == 0 {
			best, bestDist = cand, d
		}
	}
	return best
}

func refRat(s string) *big.Rat {
	r, _ := new(big.Rat).SetString(s)
	return r
}

// refDecimalValue is a decimal number in canonical form: sign, significant
// digits without leading or trailing zeros, and the power of ten of the last
// digit. Zero is {false, "", 0}.
type refDecimalValue struct {
	neg    bool
	digits string
	exp    int
}

// refDecimal puts the text of a JSON number into canonical form.
func refDecimal(s string) (refDecimalValue, bool) {
	var d refDecimalValue
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		e, err := strconv.Atoi(strings.TrimPrefix(expText, "+"))
		if err != nil {
			return d, false
		}
		d.exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	d.digits = intPart + frac
	d.exp -= len(frac)
	d.digits = strings.TrimLeft(d.digits, "0")
	for strings.HasSuffix(d.digits, "0") {
		d.digits = d.digits[:len(d.digits)-1]
		d.exp++
	}
	if d.digits == "" {
		return refDecimalValue{}, true
	}
	return d, true
}

func refOperator(op string, arg any, val any) bool {
	switch op {
	case "prefix", "suffix":
		s, ok := val.(string)
		if !ok {
			return false
		}
		if m, ok := arg.(map[string]any); ok { // {"prefix": {"equals-ignore-case": "x"}}
			x, _ := m["equals-ignore-case"].(string)
			if op == "prefix" {
				return refFoldAny(x, s, func(rest string) bool { return true })
			}
			for i := 0; i <= len(s); i++ { // every suffix of s
				if (i == len(s) || utf8.RuneStart(s[i])) && refFoldEqual(x, s[i:]) {
					return true
				}
			}
			return false
		}
		x, _ := arg.(string)
		return refAffix(op, s, x)
	case "exactly":
		s, ok := val.(string)
		x, _ := arg.(string)
		return ok && s == x
	case "equals-ignore-case":
		s, ok := val.(string)
		x, _ := arg.(string)
		return ok && refFoldEqual(x, s)
	case "wildcard":
		s, ok := val.(string)
		x, _ := arg.(string)
		return ok && refWildcard(x, s)
	case "numeric":
		return refNumeric(arg, val)
	case "cidr":
		return refCIDR(arg, val)
	case "anything-but":
		return !refExcluded(arg, val)
	}
	return false
}

// refFoldEqual is equals-ignore-case as event-ruler's EqualsIgnoreCaseParser
// defines it: each character of the operand p matches its lower-case or its
// upper-case form (full mappings) in s.
func refFoldEqual(p, s string) bool {
	return refFoldAny(p, s, func(rest string) bool { return rest == "" })
}

// refFoldAny reports whether s starts with a string the operand p matches
// character by character, such that the rest of s satisfies done. It tries
// every way.
func refFoldAny(p, s string, done func(rest string) bool) bool {
	if p == "" {
		return done(s)
	}
	r, n := utf8.DecodeRuneInString(p)
	lower, upper := string(unicode.ToLower(r)), string(unicode.ToUpper(r))
	if m, ok := refUpperSpecial[r]; ok {
		upper = m
	}
	if r == 'İ' {
		lower = "i\u0307"
	}
	for _, f := range []string{lower, upper} {
		if strings.HasPrefix(s, f) && refFoldAny(p[n:], s[len(f):], done) {
			return true
		}
	}
	return false
}

// refUpperSpecial lists a few characters whose upper case is two characters
// (Unicode SpecialCasing), enough for the tests.
var refUpperSpecial = map[rune]string{'ß': "SS", 'ﬁ': "FI", 'ﬀ': "FF", 'ŉ': "ʼN", 'ǰ': "J\u030C"}

func refAffix(op, s, x string) bool {
	if op == "prefix" {
		return strings.HasPrefix(s, x)
	}
	return strings.HasSuffix(s, x)
}

// refExcluded reports whether an anything-but argument excludes val.
func refExcluded(arg any, val any) bool {
	switch a := arg.(type) {
	case string:
		s, ok := val.(string)
		return ok && s == a
	case json.Number:
		n, ok := val.(json.Number)
		if !ok {
			return false
		}
		af, err := strconv.ParseFloat(string(a), 64)
		nf, comparable := refComparable(n)
		return err == nil && comparable && nf == af
	case []any:
		for _, x := range a {
			if refExcluded(x, val) {
				return true
			}
		}
		return false
	case map[string]any:
		s, ok := val.(string)
		if !ok {
			return false // only strings can be excluded by a string operator
		}
		for op, x := range a {
			switch op {
			case "prefix", "suffix":
				xs, _ := x.(string)
				return refAffix(op, s, xs)
			case "equals-ignore-case":
				return refAnyString(x, func(xs string) bool { return refFoldEqual(xs, s) })
			case "wildcard":
				return refAnyString(x, func(xs string) bool { return refWildcard(xs, s) })
			}
		}
	}
	return false
}

// refAnyString applies f to a string or to each string of a list.
func refAnyString(x any, f func(string) bool) bool {
	switch x := x.(type) {
	case string:
		return f(x)
	case []any:
		for _, el := range x {
			if s, ok := el.(string); ok && f(s) {
				return true
			}
		}
	}
	return false
}

func refNumeric(arg any, val any) bool {
	n, ok := val.(json.Number)
	if !ok {
		return false
	}
	f, ok := refComparable(n)
	if !ok {
		return false
	}
	terms, _ := arg.([]any)
	for i := 0; i+1 < len(terms); i += 2 {
		op, _ := terms[i].(string)
		bn, _ := terms[i+1].(json.Number)
		b, err := strconv.ParseFloat(string(bn), 64)
		if err != nil {
			return false
		}
		var holds bool
		switch op {
		case "=":
			holds = f == b
		case "<":
			holds = f < b
		case "<=":
			holds = f <= b
		case ">":
			holds = f > b
		case ">=":
			holds = f >= b
		}
		if !holds {
			return false
		}
	}
	return true
}

func refCIDR(arg any, val any) bool {
	s, ok := val.(string)
	if !ok {
		return false
	}
	c, _ := arg.(string)
	base, bits, _ := strings.Cut(c, "/")
	n, err := strconv.Atoi(bits)
	a, ok1 := refIP(base)
	if err != nil || !ok1 {
		return false
	}
	prefix, err := a.Prefix(n)
	if err != nil {
		return false
	}
	addr, ok := refIP(s)
	return ok && prefix.Contains(addr)
}

// refWildcard matches s against a wildcard pattern: '*' matches any run of
// characters, `\*` a literal star and `\\` a literal backslash. It uses the
// textbook dynamic program over runes, O(len(p)·len(s)).
func refWildcard(pattern, s string) bool {
	type tok struct {
		star bool
		r    rune
	}
	var toks []tok
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		switch r {
		case '*':
			toks = append(toks, tok{star: true})
		case '\\':
			if i < len(pattern) {
				r2, size2 := utf8.DecodeRuneInString(pattern[i:])
				i += size2
				toks = append(toks, tok{r: r2})
			}
		default:
			toks = append(toks, tok{r: r})
		}
	}
	runes := []rune(s)
	// prev[j]: toks[:i] matches runes[:j]
	prev := make([]bool, len(runes)+1)
	prev[0] = true
	for _, t := range toks {
		cur := make([]bool, len(runes)+1)
		if t.star {
			cur[0] = prev[0]
		}
		for j := 1; j <= len(runes); j++ {
			if t.star {
				cur[j] = prev[j] || cur[j-1]
			} else {
				cur[j] = prev[j-1] && runes[j-1] == t.r
			}
		}
		prev = cur
	}
	return prev[len(runes)]
}

// TestReferenceOverrideFollowsTextOrder checks the reference's reading of
// event-ruler's field override (JsonRuleCompilerTest.testWithRuleOverride):
// a field written later replaces an earlier one on the same path, in
// whichever order the $or and its sibling are written.
func TestReferenceOverrideFollowsTextOrder(t *testing.T) {
	cases := []struct {
		pattern, event string
		want           bool
	}{
		{`{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"condition1":["x"]}]}`, `{"name":"c"}`, true},
		{`{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"condition1":["x"]}]}`, `{"name":"b","condition1":"x"}`, true},
		{`{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`, `{"a":"x"}`, true},
		{`{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`, `{"a":"y"}`, false},
		{`{"a":["x"],"$or":[{"a":["y"]},{"b":["z"]}]}`, `{"a":"y"}`, true},
		{`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`, `{"detail":{"x":2}}`, true},
		{`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`, `{"detail":{"x":2,"y":3}}`, true},
		{`{"detail":{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}}`, `{"detail":{"x":1}}`, false},
	}
	for _, c := range cases {
		got, err := refMatch([]byte(c.pattern), []byte(c.event))
		if assert.NoError(t, err, "reference %s on %s", c.pattern, c.event) {
			assert.Equal(t, c.want, got, "reference %s on %s", c.pattern, c.event)
		}
		got, err = MatchPattern([]byte(c.pattern), []byte(c.event))
		if assert.NoError(t, err, "engine %s on %s", c.pattern, c.event) {
			assert.Equal(t, c.want, got, "engine %s on %s", c.pattern, c.event)
		}
	}
}
