package schema

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// shape is what discovery has learnt of the values seen at one place of an
// event: their JSON types, and for objects their properties, for arrays
// their items, for strings whether all were date-times.
type shape struct {
	types    map[string]bool // "null", "boolean", "integer", "number", "string", "object", "array"
	objects  int             // objects seen here
	props    map[string]*shape
	present  map[string]int // per property, the objects that had it
	items    *shape
	strings  int  // strings seen here
	notDates bool // a string here was not a date-time
}

func newShape() *shape { return &shape{types: map[string]bool{}} }

// dateTime checks a string as the validator checks format date-time.
var dateTime = sync.OnceValue(func() *jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(docURL, map[string]any{"format": "date-time"}); err != nil {
		panic(err) // a constant schema: unreachable
	}
	return c.MustCompile(docURL)
})

// add merges the value v (as decodeJSON returns it) into s, and reports
// whether that changed the schema s gives: a new type, property or item
// type, a property that stops being required, strings that stop all being
// date-times.
func (s *shape) add(v any) (changed bool) {
	typ := func(t string) {
		if !s.types[t] {
			s.types[t] = true
			changed = true
		}
	}
	switch x := v.(type) {
	case nil:
		typ("null")
	case bool:
		typ("boolean")
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			typ("number")
		} else {
			typ("integer")
		}
	case string:
		typ("string")
		s.strings++
		if !s.notDates && !isDateTime(x) {
			s.notDates = true
			changed = true
		}
	case map[string]any:
		typ("object")
		if s.props == nil {
			s.props, s.present = map[string]*shape{}, map[string]int{}
		}
		// A property every earlier object had, which this one lacks, stops
		// being required.
		for k := range s.props {
			if _, ok := x[k]; !ok && s.present[k] == s.objects {
				changed = true
			}
		}
		s.objects++
		for k, c := range x {
			p := s.props[k]
			if p == nil {
				p = newShape()
				s.props[k] = p
				changed = true
			}
			if p.add(c) {
				changed = true
			}
			s.present[k]++
		}
	case []any:
		typ("array")
		if s.items == nil {
			s.items = newShape()
		}
		for _, c := range x {
			if s.items.add(c) {
				changed = true
			}
		}
	}
	return changed
}

// isDateTime reports whether str is a date-time as the validator checks
// format date-time; what cannot be one ("2006-01-02T15:04:05Z" at least)
// is told without the validator.
func isDateTime(str string) bool {
	if len(str) < len("2006-01-02T15:04:05Z") || str[4] != '-' || str[7] != '-' {
		return false
	}
	return dateTime().Validate(str) == nil
}

// schema returns s as JSON Schema draft 4: a type (several when values
// differed; integer folded into number when both were seen), properties
// with the ones every object had as required, items, and format date-time
// when every string was one. The items of arrays that were always empty
// are left open.
func (s *shape) schema() map[string]any {
	out := map[string]any{}
	var types []string
	for t := range s.types {
		if t == "integer" && s.types["number"] {
			continue
		}
		types = append(types, t)
	}
	slices.Sort(types)
	switch len(types) {
	case 0:
		return out
	case 1:
		out["type"] = types[0]
	default:
		list := make([]any, len(types))
		for i, t := range types {
			list[i] = t
		}
		out["type"] = list
	}
	if s.props != nil {
		props := make(map[string]any, len(s.props))
		var required []any
		for _, k := range sortedKeys(s.props) {
			props[k] = s.props[k].schema()
			if s.present[k] == s.objects {
				required = append(required, k)
			}
		}
		out["properties"] = props
		if len(required) > 0 {
			out["required"] = required
		}
	}
	if s.items != nil && len(s.items.types) > 0 {
		out["items"] = s.items.schema()
	}
	if s.strings > 0 && !s.notDates {
		out["format"] = "date-time"
	}
	return out
}

// inferDocument returns the JSON Schema draft 4 document of shape s.
func inferDocument(s *shape) *document {
	root := s.schema()
	root["$schema"] = draft4URI
	return &document{format: FormatJSONSchemaDraft4, root: root}
}
