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
//     Below an array of objects, exists:false holds in the element the other
//     fields matched in; when nothing else pins an element, the field must be
//     absent from every element (event-ruler ACFinder); see refEval.
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
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
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
		if pos, abs := refEval(n, event); pos || abs {
			return true
		}
	}
	return false
}

// refEval matches conjunction node n against the event value v found at the
// same position (an object, an array, a scalar, null, or nil when missing).
// Each constraint of n is met either positively (a value matched, which pins
// an array element) or by absence (exists:false and no value). It reports
// whether all constraints can be met with at least one positive (pos), and
// whether all can be met by absence alone (abs).
//
// In an array, pos needs one element that meets every constraint with at
// least one positive (array consistency: all fields of one pattern object in
// the same element), while abs needs absence in every element: with nothing
// to pin an element, event-ruler (ACFinder) checks absence against all of
// them.
func refEval(n *refNode, v any) (pos, abs bool) {
	if arr, ok := v.([]any); ok {
		abs = true
		for _, el := range refElements(arr) {
			p, a := refEval(n, el)
			pos = pos || p
			abs = abs && a
		}
		return pos, abs
	}
	obj, _ := v.(map[string]any) // nil for scalars, null and missing
	allMet, anyPos, allAbs := true, false, true
	meet := func(p, a bool) {
		allMet = allMet && (p || a)
		anyPos = anyPos || p
		allAbs = allAbs && a
	}
	for k, child := range n.fields {
		meet(refEval(child, obj[k]))
	}
	for k, lists := range n.leaves {
		ev, present := obj[k]
		for _, list := range lists {
			meet(refLeaf(list, ev, present))
		}
	}
	return allMet && anyPos, allAbs
}

// refElements lists the elements of an event array at an object position:
// nested arrays are flattened; an array without any element stands for one
// element with no fields.
func refElements(arr []any) []any {
	var out []any
	var walk func([]any)
	walk = func(a []any) {
		for _, el := range a {
			if inner, ok := el.([]any); ok {
				walk(inner)
				continue
			}
			out = append(out, el)
		}
	}
	walk(arr)
	if len(out) == 0 {
		out = append(out, nil)
	}
	return out
}

// refLeafValues lists the leaf values of an event field: none when missing or
// an object, the scalars (null included) of an array, flattened; else itself.
func refLeafValues(v any, present bool) []any {
	if !present {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		return nil
	case []any:
		var out []any
		for _, el := range v {
			switch el.(type) {
			case map[string]any:
			case []any:
				out = append(out, refLeafValues(el, true)...)
			default:
				out = append(out, el)
			}
		}
		return out
	default:
		return []any{v}
	}
}

// refLeaf matches a leaf list of alternatives against an event field: pos
// when a value matches an alternative (exists:true matches any value), abs
// when the list allows exists:false and the field has no leaf value.
func refLeaf(list []any, v any, present bool) (pos, abs bool) {
	values := refLeafValues(v, present)
	for _, alt := range list {
		if op, ok := alt.(map[string]any); ok {
			if ex, ok := op["exists"]; ok {
				pos = pos || ex == true && len(values) > 0
				abs = abs || ex == false && len(values) == 0
				continue
			}
		}
		for _, val := range values {
			if refValue(alt, val) {
				pos = true
			}
		}
	}
	return pos, abs
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

// refIP parses s as a plain IPv4 or IPv6 address literal (no zone).
func refIP(s string) (netip.Addr, bool) {
	if strings.Contains(s, "%") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}

// refNumberEqual: the same literal text, or a comparable event number whose
// float64 equals the pattern number's float64.
func refNumberEqual(p json.Number, val any) bool {
	n, ok := val.(json.Number)
	if !ok {
		return false
	}
	if string(n) == string(p) {
		return true
	}
	pf, err := strconv.ParseFloat(string(p), 64)
	if err != nil {
		return false
	}
	nf, ok := refComparable(n)
	return ok && nf == pf
}

// refComparable returns the float64 of an event number when the number takes
// part in numeric comparison: its decimal value must equal that of the
// shortest text of its float64.
func refComparable(n json.Number) (float64, bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, false
	}
	a, ok1 := refDecimal(string(n))
	b, ok2 := refDecimal(strconv.FormatFloat(f, 'g', -1, 64))
	return f, ok1 && ok2 && a == b
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
			return refAffix(op, strings.ToLower(s), strings.ToLower(x))
		}
		x, _ := arg.(string)
		return refAffix(op, s, x)
	case "equals-ignore-case":
		s, ok := val.(string)
		x, _ := arg.(string)
		return ok && strings.EqualFold(s, x)
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
				return refAnyString(x, func(xs string) bool { return strings.EqualFold(s, xs) })
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
	prefix, err := netip.ParsePrefix(c)
	if err != nil {
		return false
	}
	addr, ok := refIP(s)
	return ok && prefix.Masked().Contains(addr)
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
		if err != nil || got != c.want {
			t.Errorf("reference %s on %s = %v, %v; want %v", c.pattern, c.event, got, err, c.want)
		}
		got, err = MatchPattern([]byte(c.pattern), []byte(c.event))
		if err != nil || got != c.want {
			t.Errorf("engine %s on %s = %v, %v; want %v", c.pattern, c.event, got, err, c.want)
		}
	}
}
