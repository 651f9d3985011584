package transform

import "github.com/edakit/eda/internal/jsontext"

// writeMode says where a value lands in the output, which decides how it is
// written (see the package documentation for the rules and their sources).
type writeMode uint8

const (
	modeValue    writeMode = iota // a JSON value position of a JSON template
	modeInString                  // inside a string literal of a JSON template
	modeText                      // anywhere in a plain-text template
)

// appendValue writes the raw JSON value v (valid JSON assumed) as mode asks.
func appendValue(dst []byte, v string, mode writeMode) []byte {
	if v == "" {
		return dst
	}
	switch v[0] {
	case '"':
		switch mode {
		case modeValue:
			return append(dst, v...)
		case modeInString:
			// The value is already escaped as JSON in the event: its
			// contents drop into the string as they are.
			return append(dst, stringBody(v)...)
		default:
			return appendUnescaped(dst, stringBody(v))
		}
	case '{', '[':
		return appendCompact(dst, v, mode == modeInString)
	default: // number, true, false, null
		return append(dst, v...)
	}
}

// stringBody returns the text between the quotes of the JSON string v.
func stringBody(v string) string {
	if len(v) >= 2 && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v[1:]
}

// appendCompact appends the JSON text v without whitespace between tokens
// (EventBridge minifies what it passes to targets). With stripQuotes it also
// drops the quotes that delimit strings, keeping escaped ones: that is how
// EventBridge writes an object or array inside a string ("EventBridge
// removes any internal quotes to ensure a valid string").
func appendCompact(dst []byte, v string, stripQuotes bool) []byte {
	if !stripQuotes && !hasSpace(v) {
		return append(dst, v...)
	}
	inString := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inString {
			switch c {
			case '\\':
				dst = append(dst, c)
				if i+1 < len(v) {
					i++
					dst = append(dst, v[i])
				}
				continue
			case '"':
				inString = false
				if stripQuotes {
					continue
				}
			}
			dst = append(dst, c)
			continue
		}
		switch {
		case jsontext.IsSpace(c):
			continue
		case c == '"':
			inString = true
			if stripQuotes {
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// spaceOutsideStrings reports whether the JSON text v has whitespace
// between tokens.
func spaceOutsideStrings(v string) bool {
	inString := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && jsontext.IsSpace(c):
			return true
		}
	}
	return false
}

func hasSpace(v string) bool {
	for i := 0; i < len(v); i++ {
		if jsontext.IsSpace(v[i]) {
			return true
		}
	}
	return false
}

// appendJSONString appends s as a quoted JSON string.
func appendJSONString(dst []byte, s string) []byte { return jsontext.AppendString(dst, s) }

// appendEscaped appends s escaped for the inside of a JSON string.
func appendEscaped(dst []byte, s string) []byte { return jsontext.AppendEscaped(dst, s) }

// appendUnescaped appends the decoded text of the JSON string body s.
// A body with a malformed escape is copied as it is.
func appendUnescaped(dst []byte, s string) []byte {
	n := len(dst)
	if out, ok := jsontext.AppendUnescaped(dst, s); ok {
		return out
	}
	return append(dst[:n], s...)
}
