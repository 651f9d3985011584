package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of InputTransformer, from EventBridge's API reference
// (InputTransformer: "Maximum number of 100 items", key "Minimum length of
// 1. Maximum length of 256", key pattern [A-Za-z0-9\_\-]+, InputTemplate
// "Minimum length of 1. Maximum length of 8192").
const (
	MaxPaths          = 100
	MaxKeyLen         = 256
	MaxTemplateLength = 8192
)

// Names of EventBridge's predefined variables ("Predefined variables" in
// "Amazon EventBridge input transformation"). They need no InputPathsMap
// entry and cannot be used as keys.
const (
	VarRuleARN       = "aws.events.rule-arn"
	VarRuleName      = "aws.events.rule-name"
	VarIngestionTime = "aws.events.event.ingestion-time"
	VarEvent         = "aws.events.event"
	VarEventJSON     = "aws.events.event.json"
)

type varKind uint8

const (
	varPath varKind = iota
	varRuleARN
	varRuleName
	varIngestionTime
	varEvent
	varEventJSON
)

var predefined = map[string]varKind{
	VarRuleARN:       varRuleARN,
	VarRuleName:      varRuleName,
	VarIngestionTime: varIngestionTime,
	VarEvent:         varEvent,
	VarEventJSON:     varEventJSON,
}

// variable is one variable the template uses.
type variable struct {
	name string
	kind varKind
	path *Path // for varPath
}

// segment is a run of literal output, or one placeholder with the mode its
// position in the template gives it.
type segment struct {
	lit  string
	v    int // index into Transformer.vars, or -1 for a literal
	mode writeMode
}

// Transformer is a compiled InputTransformer: InputPathsMap plus
// InputTemplate. It is immutable and may be used by many goroutines at once.
type Transformer struct {
	segs     []segment
	vars     []variable
	isJSON   bool
	sizeHint int // literal bytes plus a guess per placeholder
}

// IsJSON reports whether the output is JSON (the template is a JSON object,
// array or string) rather than plain text.
func (t *Transformer) IsJSON() bool { return t.isJSON }

// Compile validates and compiles an InputTransformer. paths is InputPathsMap
// (variable name to JSONPath, may be nil) and template is InputTemplate.
//
// It rejects what EventBridge rejects when the target is put: more than 100
// paths; keys outside [A-Za-z0-9_-]{1,256}, keys that start with "AWS" or
// name a predefined variable; a template that is empty or longer than 8192
// characters; a placeholder that is neither a key nor a predefined variable
// ("InputTemplate ... contains invalid placeholder"); a placeholder used as
// an object key; and a template that starts as a JSON object or array but is
// not valid JSON. It also rejects invalid paths (EventBridge evaluates
// paths only at delivery; eda fails early instead). The error is an *Error,
// or several joined with errors.Join, each wrapping ErrInvalid.
func Compile(paths map[string]string, template string) (*Transformer, error) {
	var errs []error
	if len(paths) > MaxPaths {
		errs = append(errs, newError("InputPathsMap", fmt.Sprintf("has %d entries; the maximum is %d", len(paths), MaxPaths)))
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	compiled := make(map[string]*Path, len(paths))
	for _, k := range keys {
		field := "InputPathsMap[" + strconv.Quote(k) + "]"
		if err := checkKey(k); err != nil {
			errs = append(errs, newError(field, err.Error()))
			continue
		}
		p, err := compilePath(paths[k], field, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		compiled[k] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := compileTemplate(template, compiled)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func checkKey(k string) error {
	if _, ok := predefined[k]; ok {
		return fmt.Errorf("%q is a predefined variable and cannot be redefined", k)
	}
	if k == "" {
		return errors.New("key is empty")
	}
	if len(k) > MaxKeyLen {
		return fmt.Errorf("key is %d characters long; the maximum is %d", len(k), MaxKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if !isNameChar(k[i]) {
			return fmt.Errorf("key %q has %q; keys may contain only letters, digits, '_' and '-'", k, k[i])
		}
	}
	if strings.HasPrefix(k, "AWS") {
		return fmt.Errorf("key %q starts with \"AWS\", which is reserved", k)
	}
	return nil
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// placeholderAt reports whether s starts with a placeholder "<name>", name
// being a key or predefined variable name, and returns the name and the
// placeholder's length. Other uses of '<' are literal text.
func placeholderAt(s string) (name string, n int, ok bool) {
	j := 1
	for j < len(s) && (isNameChar(s[j]) || s[j] == '.') && j <= MaxKeyLen+1 {
		j++
	}
	if j == 1 || j >= len(s) || s[j] != '>' {
		return "", 0, false
	}
	return s[1:j], j + 1, true
}

// compiler builds a Transformer's segments.
type compiler struct {
	t     *Transformer
	paths map[string]*Path
	index map[string]int
	lit   []byte
}

func (c *compiler) flush() {
	if len(c.lit) > 0 {
		c.t.segs = append(c.t.segs, segment{lit: string(c.lit), v: -1})
		c.t.sizeHint += len(c.lit)
		c.lit = c.lit[:0]
	}
}

// variable returns the index of the named variable, adding it on first use.
func (c *compiler) variable(name string) (int, error) {
	if i, ok := c.index[name]; ok {
		return i, nil
	}
	v := variable{name: name}
	if k, ok := predefined[name]; ok {
		v.kind = k
	} else if p, ok := c.paths[name]; ok {
		v.path = p
	} else {
		return 0, newError("InputTemplate", fmt.Sprintf("placeholder <%s> is not defined in InputPathsMap", name))
	}
	c.t.vars = append(c.t.vars, v)
	c.index[name] = len(c.t.vars) - 1
	return len(c.t.vars) - 1, nil
}

func (c *compiler) placeholder(name string, mode writeMode) error {
	i, err := c.variable(name)
	if err != nil {
		return err
	}
	c.flush()
	c.t.segs = append(c.t.segs, segment{v: i, mode: mode})
	c.t.sizeHint += 32
	return nil
}

func compileTemplate(tpl string, paths map[string]*Path) (*Transformer, error) {
	if tpl == "" {
		return nil, newError("InputTemplate", "is empty; the minimum length is 1")
	}
	if n := utf8.RuneCountInString(tpl); n > MaxTemplateLength {
		return nil, newError("InputTemplate", fmt.Sprintf("is %d characters long; the maximum is %d", n, MaxTemplateLength))
	}
	trimmed := strings.Trim(tpl, " \t\n\r") // JSON's whitespace
	if trimmed != "" {
		switch trimmed[0] {
		case '{', '[':
			// "If InputTemplate is a JSON object (surrounded by curly
			// braces)": it must be JSON.
			return compileJSON(trimmed, paths, true)
		case '"':
			// A JSON string template is JSON when it is exactly one string;
			// otherwise it is text that happens to start with a quote.
			t, err := compileJSON(trimmed, paths, false)
			if t != nil || err != nil {
				return t, err
			}
		}
	}
	return compileText(tpl, paths)
}

// compileText compiles a plain-text template: literal text is kept as it
// is and every placeholder is written as text.
func compileText(tpl string, paths map[string]*Path) (*Transformer, error) {
	c := &compiler{t: &Transformer{}, paths: paths, index: map[string]int{}}
	for i := 0; i < len(tpl); {
		if tpl[i] == '<' {
			if name, n, ok := placeholderAt(tpl[i:]); ok {
				if err := c.placeholder(name, modeText); err != nil {
					return nil, err
				}
				i += n
				continue
			}
		}
		c.lit = append(c.lit, tpl[i])
		i++
	}
	c.flush()
	return c.t, nil
}

// compileJSON compiles a JSON template, dropping whitespace between tokens.
// A placeholder outside strings is a JSON value; one inside a string writes
// into the string. When the template is not valid JSON, compileJSON
// returns an error if must is set and (nil, nil) otherwise.
func compileJSON(tpl string, paths map[string]*Path, must bool) (*Transformer, error) {
	c := &jsonCompiler{compiler: compiler{t: &Transformer{isJSON: true}, paths: paths, index: map[string]int{}}}
	for i := 0; i < len(tpl); {
		if tpl[i] == '<' {
			if name, n, ok := placeholderAt(tpl[i:]); ok {
				if err := c.jsonPlaceholder(name); err != nil {
					return nil, err
				}
				i += n
				continue
			}
		}
		if c.inString {
			i = c.stringByte(tpl, i)
		} else {
			c.tokenByte(tpl[i])
			i++
		}
	}
	err := validJSON(c.probe)
	switch {
	case c.keyErr != nil && (must || err == nil):
		return nil, c.keyErr
	case err != nil && must:
		return nil, newError("InputTemplate", "starts like a JSON object or array but is not valid JSON: "+err.Error())
	case err != nil:
		return nil, nil
	}
	c.flush()
	return c.t, nil
}

// jsonCompiler is a compiler for a JSON template that follows where the
// template stands in JSON's grammar, and builds the probe that validates it.
type jsonCompiler struct {
	compiler
	stack    []byte // open '{' and '[' outside strings
	last     byte   // last significant byte outside strings
	inString bool
	strIsKey bool   // the string being read is an object key
	probe    []byte // the template with value placeholders as null, for validation
	keyErr   error  // the first placeholder used as an object key
}

// atKey says whether the next token outside strings is an object key.
func (c *jsonCompiler) atKey() bool {
	return len(c.stack) > 0 && c.stack[len(c.stack)-1] == '{' && (c.last == '{' || c.last == ',')
}

// jsonPlaceholder compiles the placeholder <name>: a JSON value outside
// strings, text written into the string inside one. A placeholder in an
// object key is an error, reported once the template is known to be JSON.
func (c *jsonCompiler) jsonPlaceholder(name string) error {
	mode := modeValue
	key := c.atKey()
	if c.inString {
		mode, key = modeInString, c.strIsKey
	}
	if key && c.keyErr == nil {
		c.keyErr = newError("InputTemplate", fmt.Sprintf("placeholder <%s> is used in an object key; placeholders cannot be object keys", name))
	}
	if err := c.placeholder(name, mode); err != nil {
		return err
	}
	if !c.inString {
		// Spaced so that it cannot merge with a neighbouring token.
		c.probe = append(c.probe, " null "...)
		c.last = 'v'
	}
	return nil
}

// stringByte copies the byte tpl[i] inside a string (with the byte after
// it, when it is a backslash) and returns the index of the next byte.
func (c *jsonCompiler) stringByte(tpl string, i int) int {
	ch := tpl[i]
	switch ch {
	case '\\':
		c.lit = append(c.lit, ch)
		c.probe = append(c.probe, ch)
		i++
		if i < len(tpl) {
			c.lit = append(c.lit, tpl[i])
			c.probe = append(c.probe, tpl[i])
			i++
		}
		return i
	case '"':
		c.inString = false
		c.last = 'v'
	}
	c.lit = append(c.lit, ch)
	c.probe = append(c.probe, ch)
	return i + 1
}

// tokenByte copies the byte ch outside strings, dropping whitespace from the
// output, and follows the containers it opens and closes.
func (c *jsonCompiler) tokenByte(ch byte) {
	switch ch {
	case ' ', '\t', '\n', '\r':
		c.probe = append(c.probe, ch) // kept for validation, dropped from the output
		return
	case '"':
		c.strIsKey = c.atKey()
		c.inString = true
	case '{', '[':
		c.stack = append(c.stack, ch)
		c.last = ch
	case '}', ']':
		if len(c.stack) > 0 {
			c.stack = c.stack[:len(c.stack)-1]
		}
		c.last = 'v'
	case ',', ':':
		c.last = ch
	default:
		c.last = 'v'
	}
	c.lit = append(c.lit, ch)
	c.probe = append(c.probe, ch)
}

func validJSON(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return errors.New("invalid JSON")
}
