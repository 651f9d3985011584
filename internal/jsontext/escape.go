// Package jsontext writes JSON string text for the packages that build JSON
// by hand on hot paths (the event envelope, input transformation), so that
// they escape exactly alike.
package jsontext

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// plain marks the bytes a JSON string holds as they are: ASCII from 0x20
// except the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a quoted JSON string.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = AppendEscaped(dst, s)
	return append(dst, '"')
}

// AppendEscaped appends s escaped for the inside of a JSON string. Like
// EventBridge (and unlike encoding/json's default) it leaves <, > and &
// alone; quotes, backslashes and control characters are escaped, U+2028 and
// U+2029 too (valid JSON, but they end a line in JavaScript), and invalid
// UTF-8 becomes U+FFFD, so the result is always valid JSON string content.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := plainPrefix(s); i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}
