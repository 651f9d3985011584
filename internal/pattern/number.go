package pattern

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"unsafe"
)

// Numbers follow event-ruler (ComparableNumber.generate): a number takes
// part in numeric comparison, and in by-value equality, only when it is
// "comparable": finite as a float64, and its decimal value equals that of the
// shortest text of that float64. -122.422003528252475 (18 significant digits)
// is therefore not comparable, while 0.1, 5e0 and 50e-1 are. -0 compares
// equal to 0. The rule holds on both sides: an event number that is not
// comparable is matched by its text only; a pattern operand of numeric or
// anything-but that is not is rejected (parse.go, comparableOperand), and an
// exact pattern number that is not matches its own text only.

// minNormal is the smallest positive normal float64. Below it a float64 holds
// fewer than 15 significant decimal digits.
const minNormal = 2.2250738585072014e-308

// decimalDigits splits JSON number text into its significant digits (no
// leading or trailing zeros) and the power of ten x with value = digits·10^x.
// It reports ok=false for text that is not a plain decimal number. The digits
// are written into buf.
func decimalDigits(text []byte, buf []byte) (digits []byte, x int, neg, ok bool) {
	i := 0
	if i < len(text) && (text[i] == '-' || text[i] == '+') {
		neg = text[i] == '-'
		i++
	}
	fracLen := 0
	seenDot := false
	nd := 0
	for ; i < len(text); i++ {
		c := text[i]
		if c >= '0' && c <= '9' {
			if c != '0' || len(buf) > 0 {
				buf = append(buf, c)
			}
			nd++
			if seenDot {
				fracLen++
			}
			continue
		}
		if c == '.' && !seenDot {
			seenDot = true
			continue
		}
		break
	}
	if nd == 0 {
		return nil, 0, false, false
	}
	exp := 0
	if i < len(text) {
		if text[i] != 'e' && text[i] != 'E' {
			return nil, 0, false, false
		}
		i++
		eneg := false
		if i < len(text) && (text[i] == '-' || text[i] == '+') {
			eneg = text[i] == '-'
			i++
		}
		if i >= len(text) {
			return nil, 0, false, false
		}
		for ; i < len(text); i++ {
			c := text[i]
			if c < '0' || c > '9' {
				return nil, 0, false, false
			}
			if exp < 100000 {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	trailing := 0
	for len(buf) > 0 && buf[len(buf)-1] == '0' {
		buf = buf[:len(buf)-1]
		trailing++
	}
	return buf, exp - fracLen + trailing, neg, true
}

// numberValue parses JSON number text. It returns the float64 value (with -0
// folded to 0) and whether the number is comparable in event-ruler's sense.
func numberValue(text []byte) (float64, bool) {
	var dbuf [32]byte
	digits, x, _, ok := decimalDigits(text, dbuf[:0])
	if !ok {
		return 0, false
	}
	if len(digits) == 0 {
		return 0, true // a zero, however written
	}
	if len(digits) > 17 {
		return 0, false // a float64's shortest text never has more than 17 digits
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(text), len(text)), 64)
	if err != nil || math.IsInf(f, 0) || f == 0 {
		return 0, false
	}
	if len(digits) <= 15 && math.Abs(f) >= minNormal {
		// 15 significant digits always survive a round trip through float64, so
		// the shortest text of f is this same decimal value.
		return f, true
	}
	var sbuf [32]byte
	short := strconv.AppendFloat(sbuf[:0], f, 'e', -1, 64)
	var dbuf2 [32]byte
	sd, sx, _, _ := decimalDigits(short, dbuf2[:0])
	if len(sd) == 1 {
		var tbuf, dbuf3 [32]byte
		if two := javaTwoDigits(tbuf[:0], f, short); two != nil {
			sd, sx, _, _ = decimalDigits(two, dbuf3[:0])
		}
	}
	if sx != x || string(sd) != string(digits) {
		return 0, false
	}
	return f, true
}

// javaTwoDigits returns the decimal of two significant digits that Java's
// Double.toString writes for f, whose shortest text one has a single digit,
// or nil when Java writes one's value. Java picks, among the decimals of one
// or two digits that read back as f, the one closest to f (the even last
// digit on a tie): for a normal float64 that is always one's value, but
// among the smallest subnormals, whose spacing is coarse, a two-digit decimal
// can be closer. So 4.9e-324, not 5e-324, is the text of the smallest
// float64 (event-ruler compares 4.9e-324 by value, 5e-324 by its text only).
func javaTwoDigits(buf []byte, f float64, one []byte) []byte {
	if math.Abs(f) >= minNormal {
		return nil
	}
	two := strconv.AppendFloat(buf, f, 'e', 1, 64) // the closest two-digit decimal
	if g, err := strconv.ParseFloat(string(two), 64); err != nil || g != f {
		return nil
	}
	exact := new(big.Rat).SetFloat64(f)
	r1, _ := new(big.Rat).SetString(string(one))
	r2, _ := new(big.Rat).SetString(string(two))
	d1 := new(big.Rat).Abs(r1.Sub(r1, exact))
	d2 := new(big.Rat).Abs(r2.Sub(r2, exact))
	switch c := d2.Cmp(d1); {
	case c < 0:
		return two
	case c == 0 && (two[bytes.IndexByte(two, 'e')-1]-'0')%2 == 0: // a tie goes to the even digit
		return two
	}
	return nil
}

// numberString is numberValue for a string.
func numberString(text string) (float64, bool) { return numberValue([]byte(text)) }
