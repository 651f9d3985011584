package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Format is the format of a schema's content, named as EventBridge names
// its schema types where it has one.
type Format string

// The formats a [Registry] holds.
const (
	// FormatJSONSchemaDraft4 is JSON Schema draft 4, the JSON Schema
	// EventBridge's registries accept. It describes the whole event
	// envelope, its detail under properties.detail.
	FormatJSONSchemaDraft4 Format = "JSONSchemaDraft4"
	// FormatJSONSchema2020 is JSON Schema 2020-12, likewise of the whole
	// envelope.
	FormatJSONSchema2020 Format = "JSONSchema2020-12"
	// FormatOpenAPI3 is OpenAPI 3, the format of EventBridge's AWS and
	// discovered schemas: the envelope schema is one of
	// components/schemas — the one with "x-amazon-events-source", else the
	// one named AWSEvent, else the only one — and refers to the others
	// ("#/components/schemas/…"). OpenAPI 3.0's schemas are read as draft
	// 4 with "nullable", 3.1's as 2020-12.
	FormatOpenAPI3 Format = "OpenApi3"
)

// Errors of parsing and compiling a schema.
var (
	// ErrInvalidSchema is wrapped by the error of a schema that is not
	// JSON, not a valid schema of its format, or whose format is unknown.
	ErrInvalidSchema = errors.New("schema: invalid schema")
)

const (
	draft4URI = "http://json-schema.org/draft-04/schema#"
	draft2020 = "https://json-schema.org/draft/2020-12/schema"
)

// document is a parsed schema: its format, its JSON value and, for
// OpenAPI, the name of the envelope schema under components/schemas.
type document struct {
	format Format
	root   map[string]any
	event  string // OpenAPI only
	oas31  bool   // OpenAPI 3.1
}

// parseDocument parses content in format f; an empty f is detected from
// the content: "openapi" 3.x is OpenAPI 3, a "$schema" of 2020-12 is
// 2020-12, anything else draft 4.
func parseDocument(content []byte, f Format) (*document, error) {
	v, err := decodeJSON(content)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSchema, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidSchema)
	}
	detected := FormatJSONSchemaDraft4
	oas, _ := root["openapi"].(string)
	meta, _ := root["$schema"].(string)
	switch {
	case strings.HasPrefix(oas, "3."):
		detected = FormatOpenAPI3
	case strings.Contains(meta, "2020-12"):
		detected = FormatJSONSchema2020
	case meta != "" && !strings.Contains(meta, "draft-04"):
		return nil, fmt.Errorf("%w: $schema %q: want draft 4 or 2020-12", ErrInvalidSchema, meta)
	}
	switch {
	case f == "":
		f = detected
	case f != FormatJSONSchemaDraft4 && f != FormatJSONSchema2020 && f != FormatOpenAPI3:
		return nil, fmt.Errorf("%w: unknown format %q", ErrInvalidSchema, f)
	case f != detected && (f == FormatOpenAPI3 || detected == FormatOpenAPI3 || meta != ""):
		return nil, fmt.Errorf("%w: content is %s, not %s", ErrInvalidSchema, detected, f)
	}
	d := &document{format: f, root: root, oas31: strings.HasPrefix(oas, "3.1")}
	if f == FormatOpenAPI3 {
		if d.event, err = eventSchemaName(root); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// eventType returns the source and detail-type the document's envelope
// names: EventBridge's x-amazon-events-source and
// x-amazon-events-detail-type on the envelope schema, or a JSON Schema's single allowed value (const, or an enum of one) of
// properties.source and properties.detail-type. Either may be "".
func (d *document) eventType() (source, detailType string) {
	ev := d.root
	if d.format == FormatOpenAPI3 {
		ev, _ = components(d.root)[d.event].(map[string]any)
	}
	source, _ = ev["x-amazon-events-source"].(string)
	detailType, _ = ev["x-amazon-events-detail-type"].(string)
	if source != "" || detailType != "" {
		return source, detailType
	}
	props, _ := ev["properties"].(map[string]any)
	single := func(key string) string {
		p, _ := props[key].(map[string]any)
		if c, ok := p["const"].(string); ok {
			return c
		}
		if e, ok := p["enum"].([]any); ok && len(e) == 1 {
			s, _ := e[0].(string)
			return s
		}
		return ""
	}
	return single("source"), single("detail-type")
}

// components returns an OpenAPI document's components/schemas.
func components(root map[string]any) map[string]any {
	c, _ := root["components"].(map[string]any)
	s, _ := c["schemas"].(map[string]any)
	return s
}

// eventSchemaName finds the envelope schema of an OpenAPI document.
func eventSchemaName(root map[string]any) (string, error) {
	schemas := components(root)
	if len(schemas) == 0 {
		return "", fmt.Errorf("%w: OpenAPI document without components/schemas", ErrInvalidSchema)
	}
	for _, name := range sortedKeys(schemas) {
		if s, ok := schemas[name].(map[string]any); ok && s["x-amazon-events-source"] != nil {
			return name, nil
		}
	}
	if _, ok := schemas["AWSEvent"]; ok {
		return "AWSEvent", nil
	}
	if len(schemas) == 1 {
		for name := range schemas {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: OpenAPI document: no components/schemas entry has x-amazon-events-source, none is AWSEvent, and there are %d", ErrInvalidSchema, len(schemas))
}

// noLoader refuses every URL: a schema refers only to itself.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("schema refers to %s: only references within the schema are resolved", u)
}

const docURL = "mem:///schema.json"

// compile compiles the envelope schema of d. Formats are asserted in every
// draft (date-time, email, …), so that what a schema says of a string is
// checked.
func (d *document) compile() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.AssertFormat()
	root := d.root
	loc := docURL
	switch d.format {
	case FormatJSONSchemaDraft4:
		c.DefaultDraft(jsonschema.Draft4)
	case FormatJSONSchema2020:
		c.DefaultDraft(jsonschema.Draft2020)
	case FormatOpenAPI3:
		if d.oas31 {
			c.DefaultDraft(jsonschema.Draft2020)
		} else {
			c.DefaultDraft(jsonschema.Draft4)
			root = nullableToTypes(root).(map[string]any)
		}
		loc += "#/components/schemas/" + url.PathEscape(strings.ReplaceAll(strings.ReplaceAll(d.event, "~", "~0"), "/", "~1"))
	}
	if err := c.AddResource(docURL, root); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSchema, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSchema, err)
	}
	return sch, nil
}

// dataKeys hold data, not schemas: a walk over schemas does not enter them.
var dataKeys = map[string]bool{"enum": true, "const": true, "default": true, "examples": true, "example": true}

// schemaMapKeys hold maps of names to schemas.
var schemaMapKeys = map[string]bool{"properties": true, "patternProperties": true, "definitions": true,
	"$defs": true, "dependentSchemas": true, "schemas": true, "components": true}

// rewrite returns a deep copy of the schema v in which fn has rewritten
// every schema object (fn gets a copy it may change; it runs on a parent
// after its children).
func rewrite(v any, fn func(map[string]any)) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			switch {
			case dataKeys[k]:
				out[k] = c
			case schemaMapKeys[k]:
				if m, ok := c.(map[string]any); ok {
					mm := make(map[string]any, len(m))
					for name, s := range m {
						mm[name] = rewrite(s, fn)
					}
					out[k] = mm
				} else {
					out[k] = c
				}
			default:
				out[k] = rewrite(c, fn)
			}
		}
		fn(out)
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = rewrite(c, fn)
		}
		return out
	}
	return v
}

// nullableToTypes turns OpenAPI 3.0's "nullable": true into a type that
// also allows null.
func nullableToTypes(v any) any {
	return rewrite(v, func(s map[string]any) {
		if s["nullable"] != true {
			return
		}
		delete(s, "nullable")
		switch t := s["type"].(type) {
		case string:
			s["type"] = []any{t, "null"}
		case []any:
			s["type"] = append(t, "null")
		}
	})
}

// typesToNullable turns a list of types, which OpenAPI 3.0 lacks, into its
// forms: null as "nullable", one other type as "type", several as an
// anyOf of one type each (the schema's other keywords apply to the values
// of their own types, as before).
func typesToNullable(v any) any {
	return rewrite(v, func(s map[string]any) {
		list, ok := s["type"].([]any)
		if !ok {
			return
		}
		var types []any
		for _, t := range list {
			if t == "null" {
				s["nullable"] = true
			} else {
				types = append(types, t)
			}
		}
		delete(s, "type")
		switch len(types) {
		case 0:
			s["type"], s["enum"] = "string", []any{nil} // null alone
		case 1:
			s["type"] = types[0]
		default:
			branches := make([]any, len(types))
			for i, t := range types {
				branches[i] = map[string]any{"type": t}
			}
			s["anyOf"] = branches
			if s["nullable"] == true {
				delete(s, "nullable")
				branches[0].(map[string]any)["nullable"] = true
			}
		}
	})
}

// retarget rewrites every local "$ref" with fn.
func retarget(v any, fn func(ref string) string) any {
	return rewrite(v, func(s map[string]any) {
		if ref, ok := s["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
			s["$ref"] = fn(ref)
		}
	})
}

// convertDraft converts a JSON Schema between draft 4 and 2020-12: the
// definitions keyword and references into it, const (an enum of one in
// draft 4), and exclusiveMinimum and
// exclusiveMaximum (booleans beside minimum/maximum in draft 4, numbers
// in 2020-12).
func convertDraft(v any, to Format) any {
	from, into, fromRef, intoRef := "$defs", "definitions", "#/$defs/", "#/definitions/"
	if to == FormatJSONSchema2020 {
		from, into, fromRef, intoRef = into, from, intoRef, fromRef
	}
	v = retarget(v, func(ref string) string {
		if strings.HasPrefix(ref, fromRef) {
			return intoRef + ref[len(fromRef):]
		}
		return ref
	})
	return rewrite(v, func(s map[string]any) {
		if defs, ok := s[from]; ok {
			delete(s, from)
			s[into] = defs
		}
		if c, ok := s["const"]; ok && to == FormatJSONSchemaDraft4 {
			delete(s, "const") // draft 4 has no const: an enum of one says the same
			s["enum"] = []any{c}
		}
		for _, bound := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
			excl, plain := bound[0], bound[1]
			if to == FormatJSONSchema2020 {
				if s[excl] == true {
					s[excl] = s[plain]
					delete(s, plain)
				} else if s[excl] == false {
					delete(s, excl)
				}
			} else if n, ok := s[excl].(json.Number); ok {
				s[plain], s[excl] = n, true
			}
		}
	})
}

// export returns d's content in format to: as JSON Schema (draft 4 or
// 2020-12) of the envelope, or as OpenAPI 3.0 with the envelope as
// components/schemas/AWSEvent. name is the schema's registry name, the
// title of an OpenAPI export; source and detailType, when known, are
// written as x-amazon-events-source and x-amazon-events-detail-type.
func (d *document) export(name, source, detailType string, to Format) (map[string]any, error) {
	var js map[string]any // the envelope as JSON Schema, in draft `draft`
	draft := d.format
	switch d.format {
	case FormatOpenAPI3:
		if to == FormatOpenAPI3 {
			return d.root, nil
		}
		draft = FormatJSONSchemaDraft4
		if d.oas31 {
			draft = FormatJSONSchema2020
		}
		schemas := components(d.root)
		ev, _ := schemas[d.event].(map[string]any)
		js = maps.Clone(ev)
		defs := make(map[string]any, len(schemas))
		for k, s := range schemas {
			if k != d.event {
				defs[k] = s
			}
		}
		defsKey := "definitions"
		if draft == FormatJSONSchema2020 {
			defsKey = "$defs"
		}
		if len(defs) > 0 {
			js[defsKey] = defs
		}
		js = retarget(js, func(ref string) string {
			if target, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
				if target == d.event {
					return "#"
				}
				return "#/" + defsKey + "/" + target
			}
			return ref
		}).(map[string]any)
		if !d.oas31 {
			js = nullableToTypes(js).(map[string]any)
		}
	default:
		js = d.root
	}
	switch to {
	case FormatJSONSchemaDraft4, FormatJSONSchema2020:
		out := js
		if draft != to {
			out = convertDraft(js, to).(map[string]any)
		} else {
			out = maps.Clone(out)
		}
		out["$schema"] = draft4URI
		if to == FormatJSONSchema2020 {
			out["$schema"] = draft2020
		}
		return out, nil
	case FormatOpenAPI3:
		if draft != FormatJSONSchemaDraft4 {
			js = convertDraft(js, FormatJSONSchemaDraft4).(map[string]any)
		}
		js = typesToNullable(js).(map[string]any)
		ev := maps.Clone(js)
		delete(ev, "$schema")
		schemas := map[string]any{}
		if defs, ok := ev["definitions"].(map[string]any); ok {
			maps.Copy(schemas, defs)
			delete(ev, "definitions")
		}
		if source != "" && ev["x-amazon-events-source"] == nil {
			ev["x-amazon-events-source"] = source
		}
		if detailType != "" && ev["x-amazon-events-detail-type"] == nil {
			ev["x-amazon-events-detail-type"] = detailType
		}
		schemas["AWSEvent"] = ev
		out := map[string]any{
			"openapi":    "3.0.0",
			"info":       map[string]any{"title": name, "version": "1.0.0"},
			"paths":      map[string]any{},
			"components": map[string]any{"schemas": schemas},
		}
		return retarget(out, func(ref string) string {
			if ref == "#" {
				return "#/components/schemas/AWSEvent"
			}
			if target, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
				return "#/components/schemas/" + target
			}
			return ref
		}).(map[string]any), nil
	}
	return nil, fmt.Errorf("%w: cannot export as %q", ErrInvalidSchema, to)
}
