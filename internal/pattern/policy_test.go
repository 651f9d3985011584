package pattern

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SNS counts the total combination of values as the product of the array
// lengths; an {"exists": false} is one of the values, and $or branches add.
func TestPolicyValueCombinations(t *testing.T) {
	cases := []struct {
		policy string
		want   int
	}{
		{`{"a":["1","2","3"],"b":["1"],"c":["1","2"]}`, 6}, // the constraints page's 3 x 1 x 2
		{`{"a":["1",{"exists":false}],"b":["1","2"]}`, 4},
		{`{"a":["1","2"],"$or":[{"b":["1","2","3"]},{"c":["1"]}]}`, 2*3 + 2*1},
		{`{"a":{"b":["1","2"],"c":{"d":["1","2","3"]}}}`, 6},
	}
	for _, c := range cases {
		p, err := ParsePolicy([]byte(c.policy), false, PolicyLimits{})
		require.NoError(t, err, c.policy)
		assert.Equal(t, c.want, p.valueCombinations(1000), c.policy)
	}
}

func TestParsePolicyStructure(t *testing.T) {
	for _, c := range []struct{ policy, reason string }{
		{`["a"]`, "must be a JSON object"},
		{`{}`, "empty object"},
		{strings.Repeat(`{"a":`, 70) + `["x"]` + strings.Repeat(`}`, 70), "levels deep"},
		{`{"a":"x"}`, "must be an object or an array"},
	} {
		_, err := ParsePolicy([]byte(c.policy), false, PolicyLimits{MaxKeys: -1})
		var pe *Error
		require.ErrorAs(t, err, &pe, c.policy)
		assert.Contains(t, pe.Reason, c.reason)
	}
}

// A compiled policy in attribute scope matches through MatchAttrs like any
// pattern.
func TestParsePolicyMatchAttrs(t *testing.T) {
	p, err := ParsePolicy([]byte(`{"store":["a"],"n":[{"numeric":[">",1.5]}]}`), true, PolicyLimits{})
	require.NoError(t, err)
	m := Build([]Entry{{ID: "p", P: p}})
	ids, err := m.MatchAttrs(nil, []Attr{{Name: "store", Type: AttrString, Value: []byte("a")}, {Name: "n", Type: AttrNumber, Value: []byte("2")}})
	require.NoError(t, err)
	assert.Equal(t, []string{"p"}, ids)
}
