package pattern

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// The equals-ignore-case family (equals-ignore-case, prefix and suffix with
// equals-ignore-case, anything-but with equals-ignore-case) follows
// event-ruler (input.EqualsIgnoreCaseParser): each character c of the
// operand matches, in the event value, either its lower-case form or its
// upper-case form, with Java's full case mappings (Locale.ROOT). So "ß"
// matches "ß" and "SS", "straße" matches "STRASSE", but "SS" and "ss" do not
// match "ß" (their characters are S and s), and "k" does not match the
// Kelvin sign. Unlike event-ruler, which maps each UTF-16 unit on its own and
// so garbles characters outside the BMP, a code point is one character here:
// "😀OK" matches "😀ok".
//
// Matching uses two steps. foldKey gives a key that is equal for an operand
// and every value it matches (each code point becomes its full upper case,
// each code point of that the smallest of its simple case-folding orbit), so
// hash maps can index operands by key; foldMatch then checks a candidate
// exactly.

// caseForms returns the lower- and upper-case forms of r, encoded into lo and
// up when they are single code points.
func caseForms(r rune, lo, up *[utf8.UTFMax]byte) (lower, upper []byte) {
	if b, ok := lowerSpecialBytes[r]; ok {
		lower = b
	} else {
		lower = lo[:utf8.EncodeRune(lo[:], unicode.ToLower(r))]
	}
	if b, ok := upperSpecialBytes[r]; ok {
		upper = b
	} else {
		upper = up[:utf8.EncodeRune(up[:], unicode.ToUpper(r))]
	}
	return lower, upper
}

// lowerSpecialBytes and upperSpecialBytes are the special mappings as bytes.
var lowerSpecialBytes, upperSpecialBytes = specialBytes(lowerSpecial), specialBytes(upperSpecial)

func specialBytes(m map[rune]string) map[rune][]byte {
	out := make(map[rune][]byte, len(m))
	for r, s := range m {
		out[r] = []byte(s)
	}
	return out
}

// foldKey appends the equals-ignore-case key of s to dst.
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
		dst = appendFoldRune(dst, r)
	}
	return dst
}

// appendFoldRune appends the key of one code point: its full upper case,
// each code point of that replaced by the smallest of its simple-folding
// orbit, except that a code point whose orbit holds one with a
// multi-code-point upper case (ẞ, whose orbit holds ß) takes that upper
// case's key, so that the key of ẞ, ß and SS is the same; and a code point
// whose lower case is several code points (İ, whose lower case is i̇) takes
// the key of those.
func appendFoldRune(dst []byte, r rune) []byte {
	if lo, ok := lowerSpecial[r]; ok {
		// İ matches its lower case i̇ (two code points) and itself: its key
		// is that of i̇, which is also the key of İ written as I and U+0307.
		for _, l := range lo {
			dst = appendFoldRune(dst, l)
		}
		return dst
	}
	if up, ok := upperSpecial[r]; ok {
		for _, u := range up {
			dst = utf8.AppendRune(dst, orbitMin(u))
		}
		return dst
	}
	u := unicode.ToUpper(r)
	m := u
	for f := unicode.SimpleFold(u); f != u; f = unicode.SimpleFold(f) {
		if _, ok := upperSpecial[f]; ok {
			return appendFoldRune(dst, f)
		}
		if f < m {
			m = f
		}
	}
	return utf8.AppendRune(dst, m)
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

// foldMatch reports whether v matches operand p under the
// equals-ignore-case rule: as a whole, or (prefix) with a prefix of v.
func foldMatch(p string, v []byte, prefix bool) bool {
	var lo, up [utf8.UTFMax]byte
	for len(p) > 0 {
		if c := p[0]; c < utf8.RuneSelf {
			if len(v) == 0 || v[0] != c && v[0] != asciiOther(c) {
				return false
			}
			p, v = p[1:], v[1:]
			continue
		}
		r, n := utf8.DecodeRuneInString(p)
		p = p[n:]
		lower, upper := caseForms(r, &lo, &up)
		okL := bytes.HasPrefix(v, lower)
		okU := bytes.HasPrefix(v, upper)
		switch {
		case okL && okU && len(lower) != len(upper):
			return foldMatch(p, v[len(lower):], prefix) || foldMatch(p, v[len(upper):], prefix)
		case okL:
			v = v[len(lower):]
		case okU:
			v = v[len(upper):]
		default:
			return false
		}
	}
	return prefix || len(v) == 0
}

// foldMatchSuffix reports whether a suffix of v matches operand p under the
// equals-ignore-case rule.
func foldMatchSuffix(p string, v []byte) bool {
	var lo, up [utf8.UTFMax]byte
	for len(p) > 0 {
		if c := p[len(p)-1]; c < utf8.RuneSelf {
			if len(v) == 0 || v[len(v)-1] != c && v[len(v)-1] != asciiOther(c) {
				return false
			}
			p, v = p[:len(p)-1], v[:len(v)-1]
			continue
		}
		r, n := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-n]
		lower, upper := caseForms(r, &lo, &up)
		okL := bytes.HasSuffix(v, lower)
		okU := bytes.HasSuffix(v, upper)
		switch {
		case okL && okU && len(lower) != len(upper):
			return foldMatchSuffix(p, v[:len(v)-len(lower)]) || foldMatchSuffix(p, v[:len(v)-len(upper)])
		case okL:
			v = v[:len(v)-len(lower)]
		case okU:
			v = v[:len(v)-len(upper)]
		default:
			return false
		}
	}
	return true
}

// asciiOther returns the other case of an ASCII letter, or c itself.
func asciiOther(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return c - ('a' - 'A')
	case c >= 'A' && c <= 'Z':
		return c + ('a' - 'A')
	}
	return c
}
