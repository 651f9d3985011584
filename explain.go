package eda

import (
	"fmt"
	"strings"

	"github.com/edakit/eda/internal/pattern"
	"github.com/tidwall/gjson"
)

// Explanation says, field by field, why an event does or does not match an
// event pattern. [Explain] returns it; its String method renders it for a
// person, and its fields serve tests and tools.
//
// A pattern with $or is a choice between combinations: each combination is
// one way to match, holding one condition per field (the fields outside
// $or, and the fields of one branch of each $or). The event matches when
// one combination holds. A pattern without $or has one combination.
type Explanation struct {
	// Matched is the verdict, always the same as MatchPattern's.
	Matched bool
	// Combinations holds one explanation per combination of the pattern,
	// in the order of its $or branches.
	Combinations []CombinationExplanation
	// Closest is the index in Combinations of the first combination that
	// holds when Matched, and otherwise of the one that came closest: the
	// most fields holding, then the fewest failing.
	Closest int
}

// CombinationExplanation explains one combination of a pattern's fields.
type CombinationExplanation struct {
	// Matched reports whether the combination holds for the event.
	Matched bool
	// Fields holds one explanation per field condition, sorted by path.
	Fields []FieldExplanation
	// ArrayConflict is true when every field holds on its own but not
	// together: the values that satisfy them sit in different elements of
	// one array of objects, and EventBridge requires fields under an array
	// to match within one element.
	ArrayConflict bool
}

// Holding counts the combination's fields that hold.
func (c CombinationExplanation) Holding() int {
	n := 0
	for _, f := range c.Fields {
		if f.Matched {
			n++
		}
	}
	return n
}

// FieldExplanation explains one field condition of a combination.
type FieldExplanation struct {
	// Path is the field's dotted path, such as "detail.state".
	Path string
	// Condition is the pattern's list of allowed values for the field, as
	// pattern JSON: ["running", {"prefix": "stop"}].
	Condition string
	// Values are the event's values at Path, as JSON (the elements of
	// arrays each on their own); empty when the event has none.
	Values []string
	// Matched reports whether the condition holds for the event.
	Matched bool
	// Reason says in words why the condition holds or fails.
	Reason string
}

// Explain reports why event does or does not match an event pattern, field
// by field: which field is missing, which value fails which condition, and
// which $or combination came closest. Its verdict is MatchPattern's on
// every input, and so are its errors: a *[PatternError] for an invalid
// pattern, an error wrapping [ErrNotObject] for an event that is not a
// JSON object.
func Explain(pat, event []byte) (Explanation, error) {
	parsed, err := pattern.Parse(pat, pattern.DefaultLimits())
	if err != nil {
		return Explanation{}, convertError(err)
	}
	whole, err := matchParsed(parsed, event)
	if err != nil {
		return Explanation{}, err
	}
	root := gjson.ParseBytes(event)
	ex := Explanation{Matched: whole, Combinations: make([]CombinationExplanation, len(parsed.Conjs))}
	// $or repeats the fields outside it in every combination: each distinct
	// condition is explained once.
	seen := make(map[string]FieldExplanation)
	for i, cj := range parsed.Conjs {
		c := &ex.Combinations[i]
		c.Matched, err = matchParsed(parsed.Only(cj), event)
		if err != nil {
			return Explanation{}, err
		}
		all := true
		for _, r := range cj {
			key := r.Path + "\x00" + r.Condition()
			f, ok := seen[key]
			if !ok {
				if f, err = explainField(parsed, r, root, event); err != nil {
					return Explanation{}, err
				}
				seen[key] = f
			}
			all = all && f.Matched
			c.Fields = append(c.Fields, f)
		}
		c.ArrayConflict = all && !c.Matched
		if better(c, &ex.Combinations[ex.Closest], whole) {
			ex.Closest = i
		}
	}
	return ex, nil
}

// better reports whether combination c explains the verdict better than
// best: the first that holds when the pattern matches, otherwise the one
// with more fields holding, then fewer failing.
func better(c, best *CombinationExplanation, matched bool) bool {
	if matched {
		return c.Matched && !best.Matched
	}
	h, bh := c.Holding(), best.Holding()
	if h != bh {
		return h > bh
	}
	return len(c.Fields)-h < len(best.Fields)-bh
}

// matchParsed matches event against a parsed pattern, validating it whole.
func matchParsed(p *pattern.Parsed, event []byte) (bool, error) {
	var buf [1]string
	ids, err := pattern.Build([]pattern.Entry{{P: p}}).MatchStrict(buf[:0], event)
	return len(ids) > 0, err
}

// explainField explains one field condition r of parsed on event, whose
// parsed JSON is root.
func explainField(parsed *pattern.Parsed, r pattern.Req, root gjson.Result, event []byte) (FieldExplanation, error) {
	ok, err := matchParsed(parsed.Only(pattern.Conj{r}), event)
	if err != nil {
		return FieldExplanation{}, err
	}
	f := FieldExplanation{Path: r.Path, Condition: r.Condition(), Values: leafValues(root, r.Path), Matched: ok}
	values := strings.Join(f.Values, ", ")
	switch {
	case ok && len(f.Values) == 0:
		f.Reason = "absent, as allowed"
	case ok:
		f.Reason = "value " + values + " matches " + f.Condition
	case len(f.Values) == 0:
		f.Reason = "missing: the event has no value at " + r.Path + "; wanted " + f.Condition
	case len(f.Values) == 1:
		f.Reason = "value " + values + " does not match " + f.Condition
	default:
		f.Reason = "none of the values " + values + " matches " + f.Condition
	}
	return f, nil
}

// leafValues returns the JSON of the values at a dotted path of an event:
// strings, numbers, booleans and null, with arrays on the way and at the
// end read element by element. Objects are not values: a field that
// holds one is missing as far as a condition is concerned.
func leafValues(root gjson.Result, path string) []string {
	level := []gjson.Result{root}
	for _, step := range strings.Split(path, ".") {
		var next []gjson.Result
		for _, v := range flatten(level) {
			if !v.IsObject() {
				continue
			}
			v.ForEach(func(k, member gjson.Result) bool {
				if k.Str == step {
					next = append(next, member)
				}
				return true
			})
		}
		level = next
	}
	var out []string
	for _, v := range flatten(level) {
		if !v.IsObject() {
			out = append(out, v.Raw)
		}
	}
	return out
}

// flatten replaces every array in vs by its elements, recursively.
func flatten(vs []gjson.Result) []gjson.Result {
	var out []gjson.Result
	for _, v := range vs {
		if v.IsArray() {
			out = append(out, flatten(v.Array())...)
			continue
		}
		out = append(out, v)
	}
	return out
}

// String renders the explanation: the verdict, then the fields of the
// combination that holds or came closest, each marked "ok" or "FAIL" with
// its reason, then a line for each other combination.
func (e Explanation) String() string {
	var b strings.Builder
	if len(e.Combinations) == 0 {
		fmt.Fprintf(&b, "match=%v", e.Matched)
		return b.String()
	}
	n := len(e.Combinations)
	best := e.Combinations[e.Closest]
	switch {
	case e.Matched && n == 1:
		b.WriteString("match: every field holds\n")
	case e.Matched:
		fmt.Fprintf(&b, "match: $or combination %d of %d holds\n", e.Closest+1, n)
	case n == 1:
		fmt.Fprintf(&b, "no match: %d of %d fields hold\n", best.Holding(), len(best.Fields))
	default:
		fmt.Fprintf(&b, "no match: none of %d $or combinations holds; closest is combination %d, with %d of %d fields holding\n",
			n, e.Closest+1, best.Holding(), len(best.Fields))
	}
	best.write(&b, "  ")
	if n > 1 {
		for i, c := range e.Combinations {
			if i == e.Closest {
				continue
			}
			fmt.Fprintf(&b, "  combination %d: %d of %d fields hold", i+1, c.Holding(), len(c.Fields))
			if f, ok := c.firstFailing(); ok {
				fmt.Fprintf(&b, "; %s: %s", f.Path, f.Reason)
			}
			b.WriteByte('\n')
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// firstFailing returns the first field of c that fails.
func (c CombinationExplanation) firstFailing() (FieldExplanation, bool) {
	for _, f := range c.Fields {
		if !f.Matched {
			return f, true
		}
	}
	return FieldExplanation{}, false
}

// write writes c's fields, one a line, each with indent.
func (c CombinationExplanation) write(b *strings.Builder, indent string) {
	for _, f := range c.Fields {
		mark := "ok  "
		if !f.Matched {
			mark = "FAIL"
		}
		fmt.Fprintf(b, "%s%s %s: %s\n", indent, mark, f.Path, f.Reason)
	}
	if c.ArrayConflict {
		fmt.Fprintf(b, "%sFAIL every field holds, but not within one element of an array: fields under an array must match in the same element\n", indent)
	}
}
