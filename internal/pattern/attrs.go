package pattern

import "fmt"

// AttrType is the type of a message attribute (SNS's attribute scope).
type AttrType uint8

// Attribute types, as SNS defines them. Binary attributes never match.
const (
	AttrString      AttrType = iota // Value is the string
	AttrNumber                      // Value is the number's text
	AttrStringArray                 // Value is a JSON array of scalars
	AttrBinary                      // not matched
)

// Attr is one message attribute.
type Attr struct {
	Name  string
	Type  AttrType
	Value []byte
}

// MatchAttrs matches a flat set of typed message attributes instead of a
// JSON body: the second source of the engine (see match.go). The attributes
// act as the members of one top-level object, so patterns name them directly
// ({"store":["example_corp"]}); a name given twice: the last wins. It returns
// an error (wrapping ErrNotObject) when a String.Array value is not a JSON
// array or a Number is not a JSON number.
func (m *Machine) MatchAttrs(dst []string, attrs []Attr) ([]string, error) {
	st := m.acquire()
	defer m.release(st)
	st.reset()
	root := st.beginContainer(m.root, eObject, -1)
	// Last wins: process only the last attribute of each name.
	for i := range attrs {
		a := &attrs[i]
		child := m.root.child([]byte(a.Name))
		if child == nil || a.Type == AttrBinary {
			continue
		}
		later := false
		for j := i + 1; j < len(attrs); j++ {
			if attrs[j].Name == a.Name {
				later = true
				break
			}
		}
		if later {
			continue
		}
		switch a.Type {
		case AttrString:
			st.val = leafValue{kind: vString, str: a.Value}
			st.leaf(child, root)
		case AttrNumber:
			if numberGrammarEnd(a.Value, 0) != len(a.Value) {
				return dst, fmt.Errorf("%w: attribute %q: %q is not a number", ErrNotObject, a.Name, a.Value)
			}
			st.val = leafValue{kind: vNumber, str: a.Value}
			st.leaf(child, root)
		case AttrStringArray:
			sc := scanner{data: a.Value, st: st, strict: true, frames: st.frames[:0]}
			i := sc.ws(0)
			if i >= len(a.Value) || a.Value[i] != '[' {
				return dst, fmt.Errorf("%w: attribute %q: not a JSON array", ErrNotObject, a.Name)
			}
			end, err := sc.value(i, child, root)
			if err == nil && sc.ws(end) != len(a.Value) {
				err = sc.fail(end, "data after the array")
			}
			if err != nil {
				return dst, fmt.Errorf("attribute %q: %w", a.Name, err)
			}
		}
	}
	return st.collect(dst), nil
}
