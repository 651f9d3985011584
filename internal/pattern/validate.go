package pattern

import "github.com/edakit/eda/internal/jsontext"

// Strict mode (Pattern.Match, TestEventPattern-style calls) validates the whole
// event as RFC 8259 JSON, including the parts no pattern reads, so that the
// answer for a malformed event never depends on the patterns. The fast mode of
// a Matcher instead stops reading as soon as nothing more can change the
// result (see canStop in scan.go) and validates only what it reads.

// maxValidateDepth matches encoding/json's nesting limit.
const maxValidateDepth = 10000

// strictStringEnd is stringEnd with validation: no control characters, only
// the escapes JSON defines.
func strictStringEnd(data []byte, i int) (int, bool, bool) {
	esc := false
	for i++; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '"':
			return i, esc, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			esc = true
			if i+1 >= len(data) {
				return 0, false, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if _, ok := jsontext.Hex4(data, i+2); !ok {
					return 0, false, false
				}
				i += 5
			default:
				return 0, false, false
			}
		}
	}
	return 0, false, false
}

// numberGrammarEnd returns the end of the JSON number at data[i], or -1 when
// the text there is not a valid JSON number.
func numberGrammarEnd(data []byte, i int) int {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return -1
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return -1
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	return i
}

// validate steps over the value at data[i], checking it is valid JSON. It is
// iterative, with an explicit stack of the closing brackets expected.
//
// It is one state machine (value, after, key) kept whole on purpose: its
// states share the index and the stack, and moving a part (the scalars, say)
// into a function would add a call per value to MatchStrict, which checks
// this way every value of an event that no pattern reads.
func (s *scanner) validate(i int) (int, error) {
	data := s.data
	var stackBuf [32]byte
	stack := stackBuf[:0]
value:
	i = s.ws(i)
	if i >= len(data) {
		return 0, s.fail(i, "expected a value")
	}
	switch c := data[i]; c {
	case '"':
		end, _, ok := strictStringEnd(data, i)
		if !ok {
			return 0, s.fail(i, "invalid string")
		}
		i = end + 1
	case '{', '[':
		if len(stack) >= maxValidateDepth {
			return 0, s.fail(i, "nesting too deep")
		}
		i = s.ws(i + 1)
		if c == '{' {
			if i < len(data) && data[i] == '}' {
				i++
				goto after
			}
			stack = append(stack, '}')
			goto key
		}
		if i < len(data) && data[i] == ']' {
			i++
			goto after
		}
		stack = append(stack, ']')
		goto value
	case 't':
		if i, _ = s.skipLit(i, "true"); i == 0 {
			return 0, s.fail(i, "invalid literal")
		}
	case 'f':
		if i, _ = s.skipLit(i, "false"); i == 0 {
			return 0, s.fail(i, "invalid literal")
		}
	case 'n':
		if i, _ = s.skipLit(i, "null"); i == 0 {
			return 0, s.fail(i, "invalid literal")
		}
	default:
		j := numberGrammarEnd(data, i)
		if j < 0 {
			return 0, s.fail(i, "invalid number")
		}
		i = j
	}
after:
	if len(stack) == 0 {
		return i, nil
	}
	i = s.ws(i)
	if i >= len(data) {
		return 0, s.fail(i, "unterminated container")
	}
	switch data[i] {
	case ',':
		i = s.ws(i + 1)
		if stack[len(stack)-1] == '}' {
			goto key
		}
		goto value
	case stack[len(stack)-1]:
		stack = stack[:len(stack)-1]
		i++
		goto after
	default:
		return 0, s.fail(i, "expected ',' or a closing bracket")
	}
key:
	if i >= len(data) || data[i] != '"' {
		return 0, s.fail(i, "expected a key")
	}
	{
		end, _, ok := strictStringEnd(data, i)
		if !ok {
			return 0, s.fail(i, "invalid key")
		}
		i = s.ws(end + 1)
	}
	if i >= len(data) || data[i] != ':' {
		return 0, s.fail(i, "expected ':'")
	}
	i++
	goto value
}
