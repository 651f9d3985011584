package transform

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/edakit/eda/internal/jsontext"
	"github.com/tidwall/gjson"
)

// maxPathLen is EventBridge's length limit for InputPath and for the values
// of InputPathsMap (API reference: Target.InputPath and InputTransformer,
// "Maximum length of 256").
const maxPathLen = 256

// maxIndex bounds array indexes so that they always fit an int.
const maxIndex = 1<<31 - 1

// Path is a compiled JSONPath in the subset EventBridge supports for
// InputPath and InputPathsMap values. A Path is immutable and may be used
// by many goroutines at once.
type Path struct {
	src      string
	ops      []pathOp
	wildcard bool
}

type opKind uint8

const (
	opKeys     opKind = iota // one or more object keys, as one gjson path
	opIndex                  // an array index
	opWildcard               // every member of an object or element of an array
)

// pathOp is one step of evaluation. Runs of plain object keys become a
// single gjson path; steps whose meaning gjson would blur (an index, which
// gjson would also apply to an object key "0", or an all-digit key, which
// gjson would also apply to an array) carry the container type they need.
type pathOp struct {
	kind       opKind
	gpath      string
	needObject bool
}

// CompilePath compiles an InputPath. It accepts the JSONPath subset that
// EventBridge documents: the root `$`, dot-notation keys (`$.detail.state`),
// array indexes (`$.resources[0]`), wildcards (`$.detail.*`, `$.items[*]`)
// and, for InputPath only, bracket-quoted keys (`$.detail['key.with.dots']`,
// `$["detail"]`). Deep scan (`..`), filters, slices, unions, negative indexes
// and script expressions are rejected. The path is at most 256 characters.
//
// The values of InputPathsMap use the same grammar without bracket-quoted
// keys (Compile applies that rule).
func CompilePath(path string) (*Path, error) {
	return compilePath(path, "InputPath", true)
}

// String returns the path as it was compiled.
func (p *Path) String() string { return p.src }

// Definite reports whether the path selects at most one value (it has no
// wildcard). An indefinite path always yields a JSON array.
func (p *Path) Definite() bool { return !p.wildcard }

// Extract returns the compact JSON of the value the path selects in event,
// and whether there is one. For a definite path raw usually aliases event
// (no copy is made unless the value has whitespace between tokens to drop;
// do not modify it) and ok is false when the value is absent. An
// indefinite path (with a wildcard) returns a new compact JSON array of
// every match in document order, and ok is always true; the array is empty
// when nothing matches. Extract never panics; on bytes that are not JSON
// the result is unspecified.
func (p *Path) Extract(event []byte) (raw []byte, ok bool) {
	s := trimLeft(stringOf(event))
	if p.wildcard {
		return p.appendMatches(nil, s, modeValue), true
	}
	v, ok := p.lookup(s)
	if !ok {
		return nil, false
	}
	if spaceOutsideStrings(v) {
		return appendCompact(make([]byte, 0, len(v)), v, false), true
	}
	return bytesOf(v), true
}

// lookup evaluates a definite path against the JSON text s and returns the
// raw text of the selected value, a substring of s.
func (p *Path) lookup(s string) (string, bool) {
	cur := s
	for i := range p.ops {
		o := &p.ops[i]
		switch o.kind {
		case opKeys:
			if o.needObject && !startsWith(cur, '{') {
				return "", false
			}
		case opIndex:
			if !startsWith(cur, '[') {
				return "", false
			}
		}
		r := gjson.Get(cur, o.gpath)
		if !r.Exists() || r.Raw == "" {
			return "", false
		}
		cur = r.Raw
	}
	if cur == "" {
		return "", false
	}
	return cur, true
}

// appendMatches evaluates an indefinite path and appends the JSON array of
// its matches to dst, each written as mode writes an object or array.
func (p *Path) appendMatches(dst []byte, s string, mode writeMode) []byte {
	dst = append(dst, '[')
	n := 0
	dst = p.collect(dst, s, p.ops, &n, mode)
	return append(dst, ']')
}

func (p *Path) collect(dst []byte, cur string, ops []pathOp, n *int, mode writeMode) []byte {
	for i := range ops {
		o := &ops[i]
		switch o.kind {
		case opWildcard:
			if !startsWith(cur, '{') && !startsWith(cur, '[') {
				return dst
			}
			rest := ops[i+1:]
			gjson.Parse(cur).ForEach(func(_, v gjson.Result) bool {
				if v.Raw != "" {
					dst = p.collect(dst, v.Raw, rest, n, mode)
				}
				return true
			})
			return dst
		case opKeys:
			if o.needObject && !startsWith(cur, '{') {
				return dst
			}
		case opIndex:
			if !startsWith(cur, '[') {
				return dst
			}
		}
		r := gjson.Get(cur, o.gpath)
		if !r.Exists() || r.Raw == "" {
			return dst
		}
		cur = r.Raw
	}
	if *n > 0 {
		dst = append(dst, ',')
	}
	*n++
	return appendCompact(dst, cur, mode == modeInString)
}

// step is one parsed path segment.
type step struct {
	kind  opKind
	key   string
	index int
}

func compilePath(src, field string, bracketKeys bool) (*Path, error) {
	steps, err := parsePath(src, bracketKeys)
	if err != nil {
		return nil, newError(field, err.Error())
	}
	p := &Path{src: src}
	var run []string // pending plain keys
	flush := func() {
		if len(run) > 0 {
			p.ops = append(p.ops, pathOp{kind: opKeys, gpath: strings.Join(run, ".")})
			run = run[:0]
		}
	}
	for _, st := range steps {
		switch st.kind {
		case opKeys:
			if allDigits(st.key) {
				// gjson would read "0" as an index on an array: give the key
				// its own step that requires an object.
				flush()
				p.ops = append(p.ops, pathOp{kind: opKeys, gpath: st.key, needObject: true})
				continue
			}
			run = append(run, gjson.Escape(st.key))
		case opIndex:
			flush()
			p.ops = append(p.ops, pathOp{kind: opIndex, gpath: strconv.Itoa(st.index)})
		case opWildcard:
			flush()
			p.ops = append(p.ops, pathOp{kind: opWildcard})
			p.wildcard = true
		}
	}
	flush()
	return p, nil
}

// parsePath parses the JSONPath subset and explains what it rejects.
func parsePath(src string, bracketKeys bool) ([]step, error) {
	if src == "" {
		return nil, fmt.Errorf("path is empty; use $ for the whole event")
	}
	if n := utf8.RuneCountInString(src); n > maxPathLen {
		return nil, fmt.Errorf("path is %d characters long; the maximum is %d", n, maxPathLen)
	}
	if !utf8.ValidString(src) {
		return nil, fmt.Errorf("path is not valid UTF-8")
	}
	if src[0] != '$' {
		return nil, fmt.Errorf("path %q must start with $", src)
	}
	var steps []step
	i := 1
	for i < len(src) {
		switch src[i] {
		case '.':
			i++
			if i == len(src) {
				return nil, fmt.Errorf("path %q ends with '.'", src)
			}
			switch src[i] {
			case '.':
				return nil, fmt.Errorf("path %q uses deep scan (..), which EventBridge does not support", src)
			case '*':
				steps = append(steps, step{kind: opWildcard})
				i++
				continue
			}
			j := i
			for j < len(src) && src[j] != '.' && src[j] != '[' {
				c := src[j]
				if !isKeyChar(c) {
					hint := ""
					if bracketKeys {
						hint = "; quote the key with bracket notation, e.g. ['a b']"
					}
					return nil, fmt.Errorf("path %q has %q at offset %d, which a dot-notation key cannot contain (letters, digits, '-', '_', '/' and ':')%s", src, c, j, hint)
				}
				j++
			}
			if j == i {
				return nil, fmt.Errorf("path %q has an empty key at offset %d", src, i)
			}
			steps = append(steps, step{kind: opKeys, key: src[i:j]})
			i = j
		case '[':
			st, n, err := parseBracket(src, i, bracketKeys)
			if err != nil {
				return nil, err
			}
			steps = append(steps, st)
			i += n
		default:
			return nil, fmt.Errorf("path %q has unexpected %q at offset %d; expected '.' or '['", src, src[i], i)
		}
	}
	return steps, nil
}

// parseBracket parses the bracket segment that starts at src[i] == '[' and
// returns it with its length.
func parseBracket(src string, i int, bracketKeys bool) (step, int, error) {
	rest := src[i+1:]
	if rest == "" {
		return step{}, 0, fmt.Errorf("path %q ends with '['", src)
	}
	switch c := rest[0]; {
	case c == '\'' || c == '"':
		if !bracketKeys {
			return step{}, 0, fmt.Errorf("path %q uses bracket notation for a key; InputPathsMap values must use dot notation", src)
		}
		end := strings.IndexByte(rest[1:], c)
		if end < 0 {
			return step{}, 0, fmt.Errorf("path %q has an unterminated quoted key at offset %d", src, i+1)
		}
		key := rest[1 : 1+end]
		if len(rest) < end+3 || rest[end+2] != ']' {
			return step{}, 0, fmt.Errorf("path %q: expected ']' after the quoted key at offset %d", src, i+1)
		}
		if key == "" {
			return step{}, 0, fmt.Errorf("path %q has an empty quoted key at offset %d", src, i+1)
		}
		if strings.ContainsAny(key, "\\") || strings.IndexFunc(key, func(r rune) bool { return r < 0x20 }) >= 0 {
			return step{}, 0, fmt.Errorf("path %q: quoted keys cannot contain backslashes or control characters", src)
		}
		return step{kind: opKeys, key: key}, end + 4, nil
	case c == '*':
		if len(rest) < 2 || rest[1] != ']' {
			return step{}, 0, fmt.Errorf("path %q: expected ']' after '[*' at offset %d", src, i)
		}
		return step{kind: opWildcard}, 3, nil
	case c >= '0' && c <= '9':
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == len(rest) || rest[j] != ']' {
			return step{}, 0, fmt.Errorf("path %q supports only single array indexes like [0] at offset %d (no slices or unions)", src, i)
		}
		n, err := strconv.Atoi(rest[:j])
		if err != nil || n > maxIndex {
			return step{}, 0, fmt.Errorf("path %q has an index that is too large at offset %d", src, i)
		}
		return step{kind: opIndex, index: n}, j + 2, nil
	case c == '-':
		return step{}, 0, fmt.Errorf("path %q uses a negative index at offset %d, which EventBridge does not support", src, i)
	case c == '?' || c == '(':
		return step{}, 0, fmt.Errorf("path %q uses a filter or script expression at offset %d, which EventBridge does not support", src, i)
	case c == ':':
		return step{}, 0, fmt.Errorf("path %q uses an array slice at offset %d, which EventBridge does not support", src, i)
	default:
		return step{}, 0, fmt.Errorf("path %q has an invalid bracket expression at offset %d", src, i)
	}
}

// isKeyChar reports whether c may appear in a dot-notation key: the
// characters EventBridge documents (alphanumerics, dashes, underscores,
// forward slashes), ':' (common in AWS keys such as "aws:SourceIp") and the
// bytes of non-ASCII UTF-8 characters.
func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '/' || c == ':' || c >= 0x80
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func startsWith(s string, c byte) bool { return s != "" && s[0] == c }

func trimLeft(s string) string {
	for s != "" && jsontext.IsSpace(s[0]) {
		s = s[1:]
	}
	return s
}

// stringOf views b as a string without copying. The string must not
// outlive b or be used after b changes; this package only reads through it
// during one call.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// bytesOf views s as bytes without copying; the bytes must not be modified.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
