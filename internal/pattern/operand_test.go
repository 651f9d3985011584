package pattern

import (
	"errors"
	"strings"
	"testing"
)

// TestNumericOperandsAsFloat64: operands of numeric and anything-but with
// more digits than a float64 holds are accepted and compared by their
// float64 value, as event-ruler does (it reads them as doubles).
func TestNumericOperandsAsFloat64(t *testing.T) {
	cases := []struct {
		pat, ev string
		want    bool
	}{
		// 0.30000000000000001 is the float64 0.3.
		{`{"x":[{"numeric":[">",0.30000000000000001]}]}`, `{"x":0.3}`, false},
		{`{"x":[{"numeric":[">=",0.30000000000000001]}]}`, `{"x":0.3}`, true},
		{`{"x":[{"numeric":["=",0.30000000000000001]}]}`, `{"x":0.3}`, true},
		{`{"x":[{"numeric":["=",0.30000000000000001]}]}`, `{"x":3e-1}`, true},
		{`{"x":[{"numeric":["<",0.30000000000000001]}]}`, `{"x":0.29999999999999993}`, true},
		{`{"x":[{"numeric":[">",-122.422003528252475,"<",0]}]}`, `{"x":-122.42200352825247}`, false},
		{`{"x":[{"numeric":[">=",-122.422003528252475,"<",0]}]}`, `{"x":-122.42200352825247}`, true},
		{`{"x":[{"numeric":[">",1.00000000000000000001]}]}`, `{"x":1.0000000000000002}`, true},
		// Event values keep event-ruler's rule: a value with more digits
		// than a float64 holds is not compared numerically.
		{`{"x":[{"numeric":["=",0.30000000000000001]}]}`, `{"x":0.30000000000000001}`, false},
		// Underflow to zero and -0.
		{`{"x":[{"numeric":["=",1e-400]}]}`, `{"x":0}`, true},
		{`{"x":[{"numeric":["=",-1e-400]}]}`, `{"x":-0}`, true},
		// anything-but with inexact numbers.
		{`{"x":[{"anything-but":0.30000000000000001}]}`, `{"x":0.3}`, false},
		{`{"x":[{"anything-but":0.30000000000000001}]}`, `{"x":0.4}`, true},
		{`{"x":[{"anything-but":[1,0.30000000000000001]}]}`, `{"x":0.3}`, false},
		{`{"x":[{"anything-but":[1,0.30000000000000001]}]}`, `{"x":2}`, true},
		// Exact numbers in a list: by text, and by the float64 value of
		// the operand against comparable event numbers (event-ruler's
		// writeRules adds numericEquals of the double).
		{`{"x":[0.30000000000000001]}`, `{"x":0.3}`, true},
		{`{"x":[0.30000000000000001]}`, `{"x":0.30000000000000001}`, true},
		{`{"x":[0.30000000000000001]}`, `{"x":0.30000000000000002}`, false},
		{`{"x":[-1e-400]}`, `{"x":0}`, true},
		{`{"x":[1e400]}`, `{"x":1e400}`, true},
		{`{"x":[1e400]}`, `{"x":1.7976931348623157e308}`, false},
		{`{"x":[37.807807921694092]}`, `{"x":37.80780792169409}`, true},
		// Full float64 range, beyond event-ruler's old ±5e9.
		{`{"x":[{"numeric":[">",5e9]}]}`, `{"x":1e300}`, true},
		{`{"x":[{"numeric":["<",-1.7976931348623157e308]}]}`, `{"x":-1e308}`, false},
	}
	for _, c := range cases {
		if got := matchOne(t, c.pat, c.ev); got != c.want {
			t.Errorf("pattern %s event %s: got %v want %v", c.pat, c.ev, got, c.want)
		}
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
		// Bounds equal once read as float64: bottom >= top.
		{`{"x":[{"numeric":[">",0.30000000000000001,"<",0.3]}]}`, `bad range`},
		{`{"x":[{"numeric":[">=",1,"<=",1.00000000000000000001]}]}`, `bad range`},
		{`{"x":[{"numeric":[">",2,"<",1]}]}`, `bad range`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.pat), DefaultLimits())
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%s): want *Error, got %v", c.pat, err)
			continue
		}
		if !strings.Contains(pe.Reason, c.reason) {
			t.Errorf("Parse(%s): reason %q, want it to contain %q", c.pat, pe.Reason, c.reason)
		}
	}
}
