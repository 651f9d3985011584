package pattern

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// This file gives eda.Explain read-only access to a Parsed pattern: one
// conjunction or one field condition as a pattern of its own, and each
// condition's alternatives written back as pattern JSON.

// Only returns a pattern holding the single conjunction c (a conjunction of
// p, or part of one), matched exactly as p matches it: it keeps p's reading
// of empty keys, which depends on every path of p.
func (p *Parsed) Only(c Conj) *Parsed {
	return &Parsed{Conjs: []Conj{c}, emptyStep: p.emptyStep}
}

// Condition returns r's alternatives as the JSON list of a pattern, such as
// ["a", {"prefix": "b"}, {"exists": false}]. It reads back the compiled
// condition, so equivalent spellings of the source come out alike.
func (r Req) Condition() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range r.alts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.pattern())
	}
	if r.AllowAbsent {
		if len(r.alts) > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"exists": false}`)
	}
	b.WriteByte(']')
	return b.String()
}

// quote writes s as a JSON string, without escaping HTML characters.
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// op writes the operator object {"name": arg}.
func op(name, arg string) string { return `{"` + name + `": ` + arg + `}` }

// num writes a float64 operand the way a pattern would.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// pattern writes a as the pattern JSON it was compiled from.
func (a *alt) pattern() string {
	switch a.kind {
	case aString:
		if _, ip := parseIP(a.s); ip && !a.hasIP {
			return op("exactly", quote(a.s))
		}
		return quote(a.s)
	case aNumber:
		return a.s
	case aTrue:
		return "true"
	case aFalse:
		return "false"
	case aNull:
		return "null"
	case aPrefix:
		return op("prefix", quote(a.s))
	case aPrefixFold:
		return op("prefix", op("equals-ignore-case", quote(a.s)))
	case aSuffix:
		return op("suffix", quote(a.s))
	case aSuffixFold:
		return op("suffix", op("equals-ignore-case", quote(a.s)))
	case aEqualsFold:
		return op("equals-ignore-case", quote(a.s))
	case aWildcard:
		return op("wildcard", quote(a.s))
	case aCIDR:
		return op("cidr", quote(a.cidr.String()))
	case aExists:
		return op("exists", "true")
	case aNumeric:
		return op("numeric", a.rng.pattern())
	case aAnythingBut:
		if a.ab.kind == abNullOrEmpty {
			return op("exists", "true") // as an SNS body policy writes it
		}
		return op("anything-but", a.ab.pattern())
	}
	return "?"
}

// pattern writes r as the array of a numeric operator.
func (r numRange) pattern() string {
	if r.lo == r.hi {
		return `["=", ` + num(r.lo) + `]`
	}
	var parts []string
	if !math.IsInf(r.lo, -1) {
		o := ">="
		if r.loOpen {
			o = ">"
		}
		parts = append(parts, quote(o), num(r.lo))
	}
	if !math.IsInf(r.hi, 1) {
		o := "<="
		if r.hiOpen {
			o = "<"
		}
		parts = append(parts, quote(o), num(r.hi))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pattern writes ab as the argument of an anything-but operator.
func (ab *anythingBut) pattern() string {
	var list []string
	if ab.kind == abNumbers {
		for _, f := range ab.nums {
			list = append(list, num(f))
		}
	} else {
		for _, s := range ab.strs {
			list = append(list, quote(s))
		}
	}
	arg := list[0]
	if len(list) > 1 {
		arg = "[" + strings.Join(list, ", ") + "]"
	}
	switch ab.kind {
	case abPrefix:
		return op("prefix", arg)
	case abSuffix:
		return op("suffix", arg)
	case abFold:
		return op("equals-ignore-case", arg)
	case abWildcard:
		return op("wildcard", arg)
	}
	return arg
}
