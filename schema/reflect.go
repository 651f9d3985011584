package schema

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/edakit/eda"
)

// ErrUnsupportedType is wrapped by the error of [TypeSchema] for a type
// encoding/json cannot marshal (a channel, a function, a complex number)
// or that refers to itself.
var ErrUnsupportedType = errors.New("schema: unsupported Go type")

// TypeSchema returns the JSON Schema 2020-12 of the envelope of events with
// the given source and detail-type whose detail is a T as encoding/json
// marshals it: a struct's exported fields under their JSON names (tags,
// embedded structs, "-", "string"), required unless tagged omitempty or
// omitzero; pointers, slices and maps may also be null; integers
// (unsigned ones at least 0), floats, strings, booleans; time.Time a
// date-time string, []byte a base64 string, a type with MarshalText a
// string, one with its own MarshalJSON (and json.RawMessage, interfaces)
// anything. Properties beyond a struct's are allowed, as consumers of an
// evolving event expect.
//
// The reflector is this package's own rather than invopop/jsonschema's:
// the schema must say exactly what encoding/json writes (a nil slice or
// pointer is null, omitzero omits, the shallowest of embedded fields
// wins), or a validating bus refuses a producer's own events; a few
// hundred lines under test do that, in the draft this package validates,
// without another dependency tree in the module.
func TypeSchema[T any](source, detailType string) ([]byte, error) {
	detail, err := reflectType(reflect.TypeFor[T](), nil)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(envelopeSchema(source, detailType, detail), "", "  ")
}

// RegisterType puts ([Registry.Put]) the schema of events with the given
// source and detail-type whose detail is a T ([TypeSchema]) in reg, named
// [Name](source, detailType), in JSON Schema 2020-12.
func RegisterType[T any](reg *Registry, source, detailType string) (SchemaVersion, error) {
	content, err := TypeSchema[T](source, detailType)
	if err != nil {
		return SchemaVersion{}, err
	}
	return reg.Put(Name(source, detailType), FormatJSONSchema2020, content)
}

// RegisterProducer registers the schema of the events p puts, for its
// source and detail-type ([RegisterType]), so that a [Validator] on the
// same registry checks them.
func RegisterProducer[T any](reg *Registry, p *eda.TypedProducer[T]) (SchemaVersion, error) {
	return RegisterType[T](reg, p.Source(), p.DetailType())
}

// envelopeSchema returns the JSON Schema 2020-12 of an EventBridge
// envelope whose detail has the schema detail.
func envelopeSchema(source, detailType string, detail map[string]any) map[string]any {
	str := func() map[string]any { return map[string]any{"type": "string"} }
	return map[string]any{
		"$schema":                     draft2020,
		"title":                       Name(source, detailType),
		"type":                        "object",
		"x-amazon-events-source":      source,
		"x-amazon-events-detail-type": detailType,
		"required":                    []any{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"},
		"properties": map[string]any{
			"version":     str(),
			"id":          str(),
			"detail-type": map[string]any{"const": detailType},
			"source":      map[string]any{"const": source},
			"account":     str(),
			"time":        map[string]any{"type": "string", "format": "date-time"},
			"region":      str(),
			"resources":   map[string]any{"type": "array", "items": str()},
			"detail":      detail,
		},
	}
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// nullable makes s also allow null.
func nullable(s map[string]any) map[string]any {
	if t, ok := s["type"].(string); ok {
		s["type"] = []any{t, "null"}
	}
	return s
}

// reflectType returns the schema of t's JSON form; visiting holds the
// struct types being reflected, to refuse recursion.
func reflectType(t reflect.Type, visiting []reflect.Type) (map[string]any, error) {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t == rawMessageType:
		return map[string]any{}, nil
	case t.Kind() != reflect.Pointer && (t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType)):
		return map[string]any{}, nil
	case t.Kind() != reflect.Pointer && (t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)):
		return map[string]any{"type": "string"}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "minimum": json.Number("0")}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Interface:
		return map[string]any{}, nil
	case reflect.Pointer:
		s, err := reflectType(t.Elem(), visiting)
		if err != nil {
			return nil, err
		}
		return nullable(s), nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(jsonMarshalerType) && !t.Elem().Implements(textMarshalerType) {
			return map[string]any{"type": []any{"string", "null"}, "contentEncoding": "base64"}, nil
		}
		items, err := reflectType(t.Elem(), visiting)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": []any{"array", "null"}, "items": items}, nil
	case reflect.Array:
		items, err := reflectType(t.Elem(), visiting)
		if err != nil {
			return nil, err
		}
		n := json.Number(fmt.Sprint(t.Len()))
		return map[string]any{"type": "array", "items": items, "minItems": n, "maxItems": n}, nil
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !t.Key().Implements(textMarshalerType) {
				return nil, fmt.Errorf("%w: %s: map key %s", ErrUnsupportedType, t, t.Key())
			}
		}
		values, err := reflectType(t.Elem(), visiting)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": []any{"object", "null"}, "additionalProperties": values}, nil
	case reflect.Struct:
		for _, v := range visiting {
			if v == t {
				return nil, fmt.Errorf("%w: %s refers to itself", ErrUnsupportedType, t)
			}
		}
		return reflectStruct(t, append(visiting, t))
	}
	return nil, fmt.Errorf("%w: %s (%s)", ErrUnsupportedType, t, t.Kind())
}

// jsonField is a field of a struct's JSON form.
type jsonField struct {
	name     string
	depth    int
	tagged   bool
	required bool
	schema   map[string]any
}

// reflectStruct returns the schema of struct t: its fields as
// encoding/json finds them (the shallowest of a name wins; of several at
// one depth, the tagged one; otherwise none).
func reflectStruct(t reflect.Type, visiting []reflect.Type) (map[string]any, error) {
	var fields []jsonField
	if err := collectFields(t, 0, true, visiting, &fields); err != nil {
		return nil, err
	}
	byName := map[string][]jsonField{}
	var order []string
	for _, f := range fields {
		if _, ok := byName[f.name]; !ok {
			order = append(order, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	props := map[string]any{}
	var required []any
	for _, name := range order {
		f, ok := dominant(byName[name])
		if !ok {
			continue
		}
		props[name] = f.schema
		if f.required {
			required = append(required, name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if t.Name() != "" {
		out["title"] = t.Name()
	}
	if len(required) > 0 {
		out["required"] = required
	}
	return out, nil
}

// dominant picks the field encoding/json uses among fields of one name.
func dominant(fs []jsonField) (jsonField, bool) {
	min := fs[0].depth
	for _, f := range fs {
		min = minInt(min, f.depth)
	}
	var at []jsonField
	for _, f := range fs {
		if f.depth == min {
			at = append(at, f)
		}
	}
	if len(at) == 1 {
		return at[0], true
	}
	var tagged []jsonField
	for _, f := range at {
		if f.tagged {
			tagged = append(tagged, f)
		}
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return jsonField{}, false
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// collectFields appends the JSON fields of struct t, at depth, to out;
// present is false below an embedded pointer (whose fields are absent
// when it is nil).
func collectFields(t reflect.Type, depth int, present bool, visiting []reflect.Type, out *[]jsonField) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && et != timeType && !et.Implements(jsonMarshalerType) && !reflect.PointerTo(et).Implements(jsonMarshalerType) {
				if err := collectFields(et, depth+1, present && ft.Kind() != reflect.Pointer, visiting, out); err != nil {
					return err
				}
				continue
			}
			if !sf.IsExported() {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		tagged := hasTag && name != ""
		if name == "" {
			name = sf.Name
		}
		s, err := reflectType(ft, visiting)
		if err != nil {
			return fmt.Errorf("field %s: %w", sf.Name, err)
		}
		optional := false
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty", "omitzero":
				optional = true
			case "string":
				switch ft.Kind() {
				case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
					reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
					reflect.Float32, reflect.Float64, reflect.String:
					s = map[string]any{"type": "string"}
				}
			}
		}
		*out = append(*out, jsonField{name: name, depth: depth, tagged: tagged,
			required: present && !optional, schema: s})
	}
	return nil
}
