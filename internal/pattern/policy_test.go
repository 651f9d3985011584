package pattern

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SNS counts the total combination of values as the product of the array
// lengths, each times the nesting depth of its key; an {"exists": false} is
// one of the values, and $or branches add.
func TestPolicyValueCombinations(t *testing.T) {
	cases := []struct {
		policy string
		want   int
	}{
		{`{"a":["1","2","3"],"b":["1"],"c":["1","2"]}`, 6}, // the constraints page's 3 x 1 x 2
		{`{"a":["1",{"exists":false}],"b":["1","2"]}`, 4},
		{`{"a":["1","2"],"$or":[{"b":["1","2","3"]},{"c":["1"]}]}`, 2*3 + 2*1},
		{`{"$or":[{"b":["1","2","3"]},{"c":["1"]}],"a":["1","2"]}`, (3 + 1) * 2},
		// The constraints page's payload example: four values three levels
		// deep, three values two levels deep: 3 x 4 x 2 x 3 = 72.
		{`{"key_a":{"key_b":{"key_c":["v1","v2","v3","v4"]}},"key_d":{"key_e":["v1","v2","v3"]}}`, 72},
		// The flat $or case of a policy AWS refused as too complex:
		// (4 x 6) + (4 x 4 x 4) + (4 x 4 x 4) = 152.
		{`{"source":["a","b","c","d"],"$or":[{"metricName":["1","2","3","4","5","6"]},{"metricType":["1","2","3","4"],"$or":[{"metricId":[1,2,3,4]},{"spaceId":[1,2,3,4]}]}]}`, 152},
	}
	for _, c := range cases {
		root, err := parseJSON([]byte(c.policy), DefaultMaxDepth)
		require.NoError(t, err)
		assert.Equal(t, c.want, valueCombinations(root, 1, 1, 1000), c.policy)
	}
	// Counts past the limit are clamped, so they cannot overflow.
	root, err := parseJSON([]byte(`{"a":[`+strings.Repeat(`1,`, 99)+`1],"b":[`+strings.Repeat(`1,`, 99)+`1],"c":[`+strings.Repeat(`1,`, 99)+`1]}`), DefaultMaxDepth)
	require.NoError(t, err)
	assert.Equal(t, 151, valueCombinations(root, 1, 1, 150))
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
