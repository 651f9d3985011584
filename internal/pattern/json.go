package pattern

import (
	"github.com/edakit/eda/internal/jsontext"

	"strconv"
	"strings"
	"unicode/utf8"
)

// jkind is the kind of a decoded pattern JSON value.
type jkind uint8

const (
	jNull jkind = iota
	jTrue
	jFalse
	jNumber
	jString
	jArray
	jObject
)

// jmember is one member of a decoded JSON object, in document order.
type jmember struct {
	key string
	val *jval
}

// jval is a decoded pattern JSON value. Numbers keep their literal text so
// that the compiler can apply event-ruler's number rules to it.
type jval struct {
	kind    jkind
	str     string // string value, or number text
	elems   []*jval
	members []jmember
}

// describe names the kind of v for error messages.
func (v *jval) describe() string {
	switch v.kind {
	case jNull:
		return "null"
	case jTrue:
		return "true"
	case jFalse:
		return "false"
	case jNumber:
		return "number " + v.str
	case jString:
		return "string " + strconv.Quote(v.str)
	case jArray:
		return "an array"
	default:
		return "an object"
	}
}

// jparser decodes one strict JSON document (RFC 8259) into a jval tree.
// Patterns are small (a few KB), so clarity matters more than speed here.
type jparser struct {
	data     []byte
	pos      int
	maxDepth int
}

// syntaxError is a JSON syntax problem at a byte offset.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.offset) + ": " + e.msg
}

// parseJSON decodes data; nesting deeper than maxDepth is an error.
func parseJSON(data []byte, maxDepth int) (*jval, error) {
	p := &jparser{data: data, maxDepth: maxDepth}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.fail("unexpected data after the top-level value")
	}
	return v, nil
}

// compactJSON returns valid JSON text data without the whitespace between
// tokens, which a parse ignores.
func compactJSON(data []byte) string {
	var b strings.Builder
	b.Grow(len(data) - spaceBetweenTokens(data, nil))
	spaceBetweenTokens(data, &b)
	return b.String()
}

// spaceBetweenTokens counts the bytes of whitespace between the tokens of
// valid JSON text data and, when b is not nil, writes the other bytes to b.
func spaceBetweenTokens(data []byte, b *strings.Builder) int {
	n, inString := 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString && c == '\\':
			if b != nil {
				b.WriteByte(c)
			}
			i++ // the escaped byte (or the u of \uXXXX) cannot end the string
			c = data[i]
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			n++
			continue
		}
		if b != nil {
			b.WriteByte(c)
		}
	}
	return n
}

func (p *jparser) fail(msg string) error { return &syntaxError{offset: p.pos, msg: msg} }

func (p *jparser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (*jval, error) {
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		if depth >= p.maxDepth {
			return nil, errTooDeep
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= p.maxDepth {
			return nil, errTooDeep
		}
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jval{kind: jString, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		return &jval{kind: jNumber, str: n}, nil
	default:
		for _, lit := range [...]struct {
			text string
			kind jkind
		}{{"true", jTrue}, {"false", jFalse}, {"null", jNull}} {
			if len(p.data)-p.pos >= len(lit.text) && string(p.data[p.pos:p.pos+len(lit.text)]) == lit.text {
				p.pos += len(lit.text)
				return &jval{kind: lit.kind}, nil
			}
		}
		return nil, p.fail("unexpected character " + strconv.QuoteRune(rune(c)))
	}
}

func (p *jparser) object(depth int) (*jval, error) {
	p.pos++ // {
	v := &jval{kind: jObject}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected a string key")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("expected ':' after a key")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		v.members = append(v.members, jmember{key: k, val: val})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return nil, p.fail("expected ',' or '}' in an object")
		}
	}
}

func (p *jparser) array(depth int) (*jval, error) {
	p.pos++ // [
	v := &jval{kind: jArray}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		el, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		v.elems = append(v.elems, el)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return nil, p.fail("expected ',' or ']' in an array")
		}
	}
}

func (p *jparser) number() (string, error) {
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return "", p.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return "", p.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return "", p.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return string(d[start:i]), nil
}

// str decodes the string starting at the opening quote at p.pos.
func (p *jparser) str() (string, error) {
	end, hasEscape, err := stringEnd(p.data, p.pos)
	if err != nil {
		p.pos = len(p.data)
		return "", p.fail(err.Error())
	}
	raw := p.data[p.pos+1 : end]
	for _, c := range raw {
		if c < 0x20 {
			return "", p.fail("control character in a string")
		}
	}
	p.pos = end + 1
	if !hasEscape {
		if !utf8.Valid(raw) {
			return "", p.fail("invalid UTF-8 in a string")
		}
		return string(raw), nil
	}
	out, ok := jsontext.AppendUnescaped(nil, raw)
	if !ok {
		return "", p.fail("invalid escape in a string")
	}
	if !utf8.Valid(out) {
		return "", p.fail("invalid UTF-8 in a string")
	}
	return string(out), nil
}
