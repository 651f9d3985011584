package pattern

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNumericOperandsComparable: numbers take part in numeric comparison
// only when they are comparable in event-ruler's sense
// (ComparableNumber.generate: the decimal value equals that of the shortest
// text of its float64), on both sides: pattern operands that are not are
// rejected (TestNumericOperandRejects), exact pattern numbers that are not
// match their own literal text only, and event numbers that are not are
// never compared numerically.
func TestNumericOperandsComparable(t *testing.T) {
	cases := []struct {
		pat, ev string
		want    bool
	}{
		{`{"x":[{"numeric":[">",0.3]}]}`, `{"x":0.3}`, false},
		{`{"x":[{"numeric":[">=",0.3]}]}`, `{"x":0.3}`, true},
		{`{"x":[{"numeric":["=",0.3]}]}`, `{"x":3e-1}`, true},
		{`{"x":[{"numeric":["=",5.0]}]}`, `{"x":5}`, true},
		// Event values: a value with more digits than its float64's
		// shortest text is not compared numerically.
		{`{"x":[{"numeric":["=",0.3]}]}`, `{"x":0.30000000000000001}`, false},
		{`{"x":[{"numeric":[">",-123,"<",0]}]}`, `{"x":-122.422003528252475}`, false},
		{`{"x":[{"numeric":[">",-123,"<",0]}]}`, `{"x":-122.42200352825247}`, true},
		// Subnormal operands are numbers like any other; -0 is 0.
		{`{"x":[{"numeric":["=",1E-320]}]}`, `{"x":10e-321}`, true},
		{`{"x":[{"numeric":["<",1E-320]}]}`, `{"x":4.9e-324}`, true},
		// ... but 5e-324 is not the smallest float64's text to Java (4.9e-324
		// is), so event-ruler matches it by its text only.
		{`{"x":[{"numeric":["<",1E-320]}]}`, `{"x":5e-324}`, false},
		{`{"x":[{"numeric":[">",1E-320]}]}`, `{"x":0}`, false},
		{`{"x":[{"numeric":["=",-0.0]}]}`, `{"x":0}`, true},
		{`{"x":[{"anything-but":1E-320}]}`, `{"x":10e-321}`, false},
		{`{"x":[{"anything-but":1E-320}]}`, `{"x":2e-320}`, true},
		// Exact numbers: by text, and by value only when comparable
		// (event-ruler's writeRules drops numericEquals silently when
		// ComparableNumber rejects the operand).
		{`{"x":[0.30000000000000001]}`, `{"x":0.3}`, false},
		{`{"x":[0.30000000000000001]}`, `{"x":0.30000000000000001}`, true},
		{`{"x":[0.30000000000000001]}`, `{"x":0.30000000000000002}`, false},
		{`{"x":[9007199254740993]}`, `{"x":9007199254740992}`, false},
		{`{"x":[9007199254740993]}`, `{"x":9007199254740993}`, true},
		{`{"x":[9007199254740992]}`, `{"x":9007199254740993}`, false},
		{`{"x":[9007199254740992]}`, `{"x":9.007199254740992e15}`, true},
		{`{"x":[9223372036854775808]}`, `{"x":9223372036854775807}`, false},
		{`{"x":[0.1000000000000000055511151231257827]}`, `{"x":0.1}`, false},
		{`{"x":[2.5e-324]}`, `{"x":5e-324}`, false},
		{`{"x":[2.5e-324]}`, `{"x":2.5e-324}`, true},
		{`{"x":[-1e-400]}`, `{"x":0}`, false},
		{`{"x":[-1e-400]}`, `{"x":-1e-400}`, true},
		{`{"x":[1E-325]}`, `{"x":0}`, false},
		{`{"x":[1E-325]}`, `{"x":1E-325}`, true},
		{`{"x":[1E-325]}`, `{"x":1e-325}`, false},
		{`{"x":[0e-400]}`, `{"x":0}`, true},
		{`{"x":[1E-320]}`, `{"x":10e-321}`, true},
		{`{"x":[1E-320]}`, `{"x":9.99988671826831e-321}`, false}, // event number not comparable
		{`{"x":[1E-320]}`, `{"x":1E-320}`, true},
		{`{"x":[1e400]}`, `{"x":1e400}`, true},
		{`{"x":[1e400]}`, `{"x":1.7976931348623157e308}`, false},
		{`{"x":[37.807807921694092]}`, `{"x":37.80780792169409}`, false},
		{`{"x":[37.80780792169409]}`, `{"x":37.807807921694090}`, true},
		// Full float64 range, beyond event-ruler's old ±5e9.
		{`{"x":[{"numeric":[">",5e9]}]}`, `{"x":1e300}`, true},
		{`{"x":[{"numeric":["<",-1.7976931348623157e308]}]}`, `{"x":-1e308}`, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, matchOne(t, c.pat, c.ev), "pattern %s event %s", c.pat, c.ev)
	}
}

// TestNumericOperandRejects: what stays rejected.
func TestNumericOperandRejects(t *testing.T) {
	cases := []struct{ pat, reason string }{
		{`{"x":[{"numeric":[">","abc"]}]}`, `">" needs a number, got "abc"`},
		{`{"x":[{"numeric":[">",true]}]}`, `needs a number`},
		{`{"x":[{"numeric":[">",1e400]}]}`, `beyond the range of a float64`},
		{`{"x":[{"numeric":["<",-1e400]}]}`, `beyond the range of a float64`},
		{`{"x":[{"anything-but":1e400}]}`, `beyond the range of a float64`},
		{`{"x":[{"anything-but":[1,-2e308]}]}`, `beyond the range of a float64`},
		// Non-zero numbers that underflow to 0 (event-ruler
		// RuleCompilerTest.testNumericExpressions: 1E-325 is bad).
		{`{"x":[{"numeric":["=",1E-325]}]}`, `cannot compare number 1E-325`},
		{`{"x":[{"numeric":["<",1E-325]}]}`, `too small for a float64`},
		{`{"x":[{"numeric":[">",-1e-400,"<",1]}]}`, `too small for a float64`},
		{`{"x":[{"numeric":[">",0,"<=",2.4e-324]}]}`, `too small for a float64`},
		{`{"x":[{"anything-but":1E-325}]}`, `too small for a float64`},
		{`{"x":[{"anything-but":[1,-1E-325]}]}`, `too small for a float64`},
		// More digits than the float64's shortest text
		// (ComparableNumber.generate: "Cannot compare number").
		{`{"x":[{"numeric":[">",0.30000000000000001,"<",1]}]}`, `cannot compare number 0.30000000000000001`},
		{`{"x":[{"numeric":[">=",1,"<=",1.00000000000000000001]}]}`, `cannot compare number 1.00000000000000000001`},
		{`{"x":[{"numeric":["=",9007199254740993]}]}`, `the nearest float64 is 9.007199254740992e+15`},
		{`{"x":[{"numeric":["<",9223372036854775808]}]}`, `cannot compare number`},
		{`{"x":[{"numeric":[">",0.1000000000000000055511151231257827]}]}`, `cannot compare number`},
		{`{"x":[{"numeric":[">",2.5e-324]}]}`, `the nearest float64 is 4.9e-324`},
		{`{"x":[{"anything-but":0.30000000000000001}]}`, `cannot compare number`},
		{`{"x":[{"anything-but":[1,9007199254740993]}]}`, `cannot compare number`},
		// Bounds: bottom must be below top.
		{`{"x":[{"numeric":[">",0.3,"<",0.3]}]}`, `bad range`},
		{`{"x":[{"numeric":[">",2,"<",1]}]}`, `bad range`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.pat), DefaultLimits())
		var pe *Error
		if assert.ErrorAs(t, err, &pe, "Parse(%s)", c.pat) {
			assert.Contains(t, pe.Reason, c.reason, "Parse(%s): reason", c.pat)
		}
	}
}

// TestNumSigKeySameForEqualNumbers: every text of a comparable number has
// the key of the shortest text of its float64, so the filter never drops a
// value that is equal.
func TestNumSigKeySameForEqualNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var f float64
		switch r.IntN(4) {
		case 0:
			f = float64(r.IntN(2000) - 1000)
		case 1:
			f = (r.Float64() - 0.5) * 400
		case 2:
			f = math.Float64frombits(r.Uint64())
		default:
			f = float64(r.IntN(100000)) / 1000
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, wantZero := numSigKey(strconv.AppendFloat(nil, f, 'e', -1, 64))
		padded := strconv.FormatFloat(f, 'e', -1, 64) // trailing zeros, same value
		if strings.Contains(padded, ".") {
			padded = strings.Replace(padded, "e", "000e", 1)
		} else {
			padded = strings.Replace(padded, "e", ".00e", 1)
		}
		for _, text := range []string{
			padded,
			strconv.FormatFloat(f, 'f', -1, 64),
			strconv.FormatFloat(f, 'e', -1, 64),
			strconv.FormatFloat(f, 'E', -1, 64),
			strconv.FormatFloat(f, 'g', -1, 64),
			strconv.FormatFloat(f, 'f', -1, 64) + "e0",
		} {
			got, zero := numSigKey([]byte(text))
			require.Equal(t, want, got, "numSigKey(%s): the shortest of %v's", text, f)
			require.Equal(t, wantZero, zero, "numSigKey(%s): zero as the shortest of %v", text, f)
			require.Equal(t, sigCount(strconv.AppendFloat(nil, f, 'e', -1, 64)), sigCount([]byte(text)), "sigCount(%s)", text)
			// The whole filter, with the last digit from the scanner and without.
			var nf numSigFilter
			nf.add(strconv.AppendFloat(nil, f, 'e', -1, 64))
			b := []byte(text)
			require.True(t, nf.firstOK(b), "the filter of %v drops %s", f, text)
			require.True(t, nf.may(b), "the filter of %v drops %s", f, text)
		}
	}
	for _, z := range []string{"0", "-0", "0.0", "0e5", "-0.000E-3"} {
		_, zero := numSigKey([]byte(z))
		assert.True(t, zero, "numSigKey(%s): zero", z)
	}
	// Malformed texts never panic.
	for _, s := range []string{"", "-", ".", "e", "-e", "1e", "1-", "--1", "1.e+", "+", "0.", "9e-"} {
		numSigKey([]byte(s))
	}
}

// TestExactNumberSources: exact numbers (through the number filter) give the
// same answers from every source.
func TestExactNumberSources(t *testing.T) {
	m := buildIDs(t, `{"n":[0.3, 120, -5e-1, 0]}`)
	cases := []struct {
		val  string
		want bool
	}{
		{"0.3", true}, {"3e-1", true}, {"0.30", true}, {"0.31", false}, {"0.4", false},
		{"1.2e2", true}, {"120.000", true}, {"12e1", true}, {"121", false}, {"-0.5", true},
		{"-5.0e-1", true}, {"0.5", false}, {"-0", true}, {"0e7", true}, {"1e-400", false},
	}
	for _, c := range cases {
		for name, match := range map[string]func() ([]string, error){
			"Match":       func() ([]string, error) { return m.Match(nil, []byte(`{"n":`+c.val+`}`)) },
			"MatchStrict": func() ([]string, error) { return m.MatchStrict(nil, []byte(`{"n":`+c.val+`}`)) },
			"MatchAttrs": func() ([]string, error) {
				return m.MatchAttrs(nil, []Attr{{Name: "n", Type: AttrNumber, Value: []byte(c.val)}})
			},
		} {
			ids, err := match()
			require.NoError(t, err, "%s(%s)", name, c.val)
			assert.Equal(t, c.want, len(ids) == 1, "%s(%s)", name, c.val)
		}
	}
}

// TestNumSigFilterRejects: values that differ in sign, first or last digit,
// or number of significant digits, fail the filter without being parsed.
func TestNumSigFilterRejects(t *testing.T) {
	var nf numSigFilter
	nf.add(strconv.AppendFloat(nil, 37.807807921694092, 'e', -1, 64))
	for _, s := range []string{"-37.80780792169409", "47.80780792169409", "37.80780792169408", "37.8078079216949", "37.807807921694092", "0"} {
		assert.False(t, nf.may([]byte(s)), "the filter passes %s", s)
	}
	assert.True(t, nf.may([]byte("3780780792169409e-14")), "the filter drops an equal value")
}
