package eda

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPutRuleRefusesInvalidTargets: a target that could never deliver, or
// whose middleware cannot be built, makes the rule invalid: PutRule returns
// an error wrapping ErrInvalidRule that names the rule and the target, does
// not panic, and changes nothing.
func TestPutRuleRefusesInvalidTargets(t *testing.T) {
	ok := HandlerFunc(func(context.Context, Delivery) error { return nil })
	panics := Middleware(func(Handler) Handler { panic("bad config") })
	returnsNil := Middleware(func(Handler) Handler { return nil })
	returnsNilFunc := Middleware(func(Handler) Handler { return HandlerFunc(nil) })
	cases := []struct {
		name   string
		opts   []Option
		target Target
		want   string // in the error
	}{
		{"HandlerFunc(nil)", nil, HandlerTarget("t1", HandlerFunc(nil)), "no handler"},
		{"nil Handler", nil, HandlerTarget("t1", nil), "no handler"},
		{"panicking target middleware", nil, HandlerTarget("t1", ok, WithMiddleware(panics)), "bad config"},
		{"panicking bus middleware", []Option{WithMiddleware(panics)}, HandlerTarget("t1", ok), "bad config"},
		{"middleware returning nil", nil, HandlerTarget("t1", ok, WithMiddleware(returnsNil)), "nil handler"},
		{"middleware returning HandlerFunc(nil)", nil, HandlerTarget("t1", ok, WithMiddleware(returnsNilFunc)), "nil handler"},
		{"Input over 8192 characters", nil, HandlerTarget("t1", ok, WithInput(`"`+strings.Repeat("x", 8191)+`"`)), "8192"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBus(t, "rules", tc.opts...)
			var err error
			require.NotPanics(t, func() {
				err = b.PutRule(Rule{Name: "r1", EventPattern: `{"source":["s"]}`, Targets: []Target{tc.target}})
			})
			require.ErrorIs(t, err, ErrInvalidRule)
			assert.Contains(t, err.Error(), `rule "r1"`)
			assert.Contains(t, err.Error(), `target "t1"`)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, b.Rules(), "nothing changes")
		})
	}
}

// TestPutRuleInputOfEventBridgeMaximum: an Input of exactly 8,192
// characters (not bytes) is accepted.
func TestPutRuleInputOfEventBridgeMaximum(t *testing.T) {
	b := newTestBus(t, "rules")
	ok := HandlerFunc(func(context.Context, Delivery) error { return nil })
	input := `"` + strings.Repeat("é", 8190) + `"`
	require.NoError(t, b.PutRule(Rule{Name: "r1", EventPattern: `{"source":["s"]}`,
		Targets: []Target{HandlerTarget("t1", ok, WithInput(input))}}))
}

// TestPutRuleBadPatternWrapsErrInvalidRule: an invalid pattern is an
// invalid rule, and the *PatternError says why.
func TestPutRuleBadPatternWrapsErrInvalidRule(t *testing.T) {
	b := newTestBus(t, "rules")
	err := b.PutRule(Rule{Name: "r1", EventPattern: `{"source":"not-an-array"}`})
	require.ErrorIs(t, err, ErrInvalidRule)
	var pe *PatternError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), `rule "r1"`)
}
