package pattern

import (
	"unicode"
	"unicode/utf8"
)

// Two case foldings, matching Go's standard library so that the behaviour is
// easy to state:
//   - equals-ignore-case (and its anything-but form) holds when
//     strings.EqualFold holds. foldKey maps every rune to the smallest rune of
//     its simple-folding orbit, so two strings are EqualFold exactly when their
//     keys are equal, which lets a hash map index them.
//   - prefix/suffix with equals-ignore-case compare strings.ToLower forms;
//     lowerKey produces them (invalid UTF-8 becomes U+FFFD, as ToLower does).

// foldKey appends the case-folding key of s to dst.
func foldKey(dst []byte, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		dst = utf8.AppendRune(dst, orbitMin(r))
	}
	return dst
}

// orbitMin returns the smallest rune that folds to the same class as r.
func orbitMin(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}

// lowerKey appends the lower-case form of s to dst.
func lowerKey(dst []byte, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}
