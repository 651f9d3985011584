package schema

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// decodeJSON decodes one JSON value into the form the validator takes:
// map[string]any, []any, string, json.Number, bool and nil. It is a small
// one-pass parser, several times faster than encoding/json into an any,
// because validation at PutEvents decodes every envelope. A repeated key
// keeps its last value, as encoding/json does.
func decodeJSON(data []byte) (any, error) {
	d := decoder{b: data}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.ws(); d.i != len(d.b) {
		return nil, d.syntax("data after the value")
	}
	return v, nil
}

// maxDecodeDepth bounds nesting, as EventBridge bounds a detail's.
const maxDecodeDepth = 1200

var errDepth = errors.New("schema: JSON nested too deep")

type decoder struct {
	b []byte
	i int
}

func (d *decoder) syntax(what string) error {
	return errors.New("schema: invalid JSON at offset " + strconv.Itoa(d.i) + ": " + what)
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.i == len(d.b) {
		return nil, d.syntax("unexpected end")
	}
	switch c := d.b[d.i]; {
	case c == '{':
		if depth >= maxDecodeDepth {
			return nil, errDepth
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= maxDecodeDepth {
			return nil, errDepth
		}
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.syntax("unexpected character")
}

func (d *decoder) object(depth int) (any, error) {
	m := make(map[string]any)
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		if d.i == len(d.b) || d.b[d.i] != '"' {
			return nil, d.syntax("want a key")
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		if d.ws(); d.i == len(d.b) || d.b[d.i] != ':' {
			return nil, d.syntax("want ':'")
		}
		d.i++
		d.ws()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		if end, err := d.after('}'); end || err != nil {
			return m, err
		}
	}
}

// after scans what follows a member of an object or array: a comma, or
// the closing bracket (end is true then).
func (d *decoder) after(closing byte) (end bool, err error) {
	if d.ws(); d.i == len(d.b) {
		return false, d.syntax("unexpected end")
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		d.ws()
		return false, nil
	case closing:
		d.i++
		return true, nil
	}
	return false, d.syntax("want ',' or '" + string(closing) + "'")
}

func (d *decoder) array(depth int) (any, error) {
	a := make([]any, 0, 4)
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if end, err := d.after(']'); end || err != nil {
			return a, err
		}
	}
}

// string decodes the string whose quote is at d.i. A string without
// escapes is copied once; one with escapes goes through strconv.Unquote's
// rules via encoding/json.
func (d *decoder) string() (string, error) {
	start := d.i
	escaped := false
	for d.i++; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			raw := d.b[start+1 : d.i-1]
			if !escaped {
				if !utf8.Valid(raw) {
					return string([]rune(string(raw))), nil // invalid bytes become U+FFFD, as encoding/json does
				}
				return string(raw), nil
			}
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				return "", d.syntax("invalid string")
			}
			return s, nil
		case c == '\\':
			escaped = true
			d.i++
		case c < ' ':
			return "", d.syntax("control character in string")
		}
	}
	return "", d.syntax("unterminated string")
}

func (d *decoder) number() (any, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return nil, d.syntax("invalid number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, d.syntax("invalid number")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, d.syntax("invalid number")
		}
	}
	return json.Number(d.b[start:d.i]), nil
}

func (d *decoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

func (d *decoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return d.syntax("invalid literal")
	}
	d.i += len(lit)
	return nil
}
