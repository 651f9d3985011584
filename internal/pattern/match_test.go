package pattern

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func matchOne(t *testing.T, pat, ev string) bool {
	t.Helper()
	p, err := Parse([]byte(pat), DefaultLimits())
	require.NoError(t, err, "Parse(%s)", pat)
	m := Build([]Entry{{ID: "x", P: p}})
	ids, err := m.Match(nil, []byte(ev))
	require.NoError(t, err, "Match(%s)", ev)
	return len(ids) == 1
}

func TestMatchTable(t *testing.T) {
	cases := []struct {
		pat, ev string
		want    bool
	}{
		{`{"source":["aws.ec2"]}`, `{"source":"aws.ec2"}`, true},
		{`{"source":["aws.ec2"]}`, `{"source":"aws.ec3"}`, false},
		{`{"a":{"b":[1]}}`, `{"a":{"b":1.0}}`, true},
		{`{"a":{"b":[5]}}`, `{"a":{"b":50e-1}}`, true},
		{`{"a":[0]}`, `{"a":-0}`, true},
		{`{"a":[5]}`, `{"a":"5"}`, false},
		{`{"a":["5"]}`, `{"a":5}`, false},
		{`{"a":[null]}`, `{"a":null}`, true},
		{`{"a":[""]}`, `{"a":null}`, false},
		{`{"a":[true]}`, `{"a":true}`, true},
		{`{"a":[{"prefix":"ab"}]}`, `{"a":"abc"}`, true},
		{`{"a":[{"prefix":"ab"}]}`, `{"a":"xabc"}`, false},
		{`{"a":[{"suffix":".png"}]}`, `{"a":"x.png"}`, true},
		{`{"a":[{"prefix":{"equals-ignore-case":"EventB"}}]}`, `{"a":"eventbridge"}`, true},
		{`{"a":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"a":"x.png"}`, true},
		{`{"a":[{"equals-ignore-case":"HeLLo"}]}`, `{"a":"hello"}`, true},
		{`{"a":[{"wildcard":"a*c*e"}]}`, `{"a":"abcde"}`, true},
		{`{"a":[{"wildcard":"a*c*e"}]}`, `{"a":"abcdf"}`, false},
		{`{"a":[{"wildcard":"a\\*b"}]}`, `{"a":"a*b"}`, true},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":"y"}`, true},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":"x"}`, false},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":null}`, true},
		{`{"a":[{"anything-but":"x"}]}`, `{"b":1}`, false},
		{`{"a":[{"anything-but":[1,2]}]}`, `{"a":2.0}`, false},
		{`{"a":[{"anything-but":{"prefix":"us-"}}]}`, `{"a":"eu-west"}`, true},
		{`{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":5}`, true},
		{`{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":0}`, false},
		{`{"a":[{"numeric":["<",-122.4]}]}`, `{"a":-122.422003528252475}`, false},
		{`{"a":[{"numeric":["<",-122.4]}]}`, `{"a":-122.42200352825247}`, true},
		{`{"a":[{"exists":true}]}`, `{"a":{"b":1}}`, false},
		{`{"a":[{"exists":false}]}`, `{"a":{"b":1}}`, true},
		{`{"a":[{"exists":false}]}`, `{"b":1}`, true},
		{`{"a":[{"exists":true}]}`, `{"a":null}`, true},
		{`{"a":[{"exists":true}]}`, `{"a":[]}`, false},
		{`{"a":{"b":[{"exists":false}]}}`, `{"a":null}`, true},
		{`{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"10.0.0.7"}`, true},
		{`{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db8::1"}`, true},
		{`{"ip":["2001:db8::1"]}`, `{"ip":"2001:0db8:0:0::1"}`, true},
		{`{"a":["x"],"$or":[{"b":[1]},{"c":[2]}]}`, `{"a":"x","c":2}`, true},
		{`{"a":["x"],"$or":[{"b":[1]},{"c":[2]}]}`, `{"a":"x","c":3}`, false},
		{`{"a":{"b":["x"],"c":["y"]}}`, `{"a":[{"b":"x"},{"c":"y"}]}`, false},
		{`{"a":{"b":["x"],"c":["y"]}}`, `{"a":[{"b":"x"},{"b":"x","c":"y"}]}`, true},
		{`{"a":{"b":["x"],"c":[{"exists":false}]}}`, `{"a":[{"b":"x","c":1},{"b":"x"}]}`, true},
		{`{"a":{"c":[{"exists":false}]}}`, `{"a":[{"c":1},{"b":2}]}`, false}, // event-ruler: no element is picked, c exists
		{`{"a":{"c":[{"exists":false}]}}`, `{"a":[{"c":1}]}`, false},
		{`{"a":["x"]}`, `{"a":"y","a":"x"}`, true},
		{`{"a":["y"]}`, `{"a":"y","a":"x"}`, false},
		{`{"a":{"b":[1]}}`, `{"a.b":1}`, true},
		{`{"a.b":[1]}`, `{"a":{"b":1}}`, true},
		{`{"a":["x\"y"]}`, `{"a":"x\u0022y"}`, true},
		{`{"r":["b"]}`, `{"r":["a","b"]}`, true},
		{`{"r":[{"numeric":[">",3]}]}`, `{"r":[[1],[2,[4]]]}`, true},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, matchOne(t, c.pat, c.ev), "pattern %s event %s", c.pat, c.ev)
	}
}

func TestRejects(t *testing.T) {
	bad := []string{
		`[]`, `{}`, `{"a":"x"}`, `{"a":[]}`, `{"a":[{"prefix":1}]}`, `{"a":[{"foo":1}]}`,
		`{"a":[{"numeric":[">","abc"]}]}`, `{"a":[{"numeric":["<",1,">",0]}]}`, `{"a":[{"numeric":[">",5,"<",1]}]}`,
		`{"a":[{"cidr":"10.0.0.1"}]}`, `{"a":[{"cidr":"10.0.0.0/33"}]}`, `{"a":[{"wildcard":"a**b"}]}`,
		`{"a":[{"wildcard":"a\\b"}]}`, `{"a":[{"anything-but":[]}]}`, `{"a":[{"anything-but":["a",1]}]}`,
		`{"a":[{"anything-but":{"prefix":""}}]}`, `{"a":[{"exists":"yes"}]}`, `{"$or":[{"a":[1]}]}`,
		`{"a":[[1]]}`, `{"a":[{"prefix":"a","suffix":"b"}]}`,
	}
	for _, b := range bad {
		_, err := Parse([]byte(b), DefaultLimits())
		var pe *Error
		if assert.ErrorAs(t, err, &pe, "Parse(%s)", b) {
			t.Logf("%s -> %v", b, err)
		}
	}
}

func TestNotObject(t *testing.T) {
	p, _ := Parse([]byte(`{"a":[1]}`), DefaultLimits())
	m := Build([]Entry{{ID: "x", P: p}})
	for _, ev := range []string{`[]`, `1`, ``, `{"a":1`, `{"a":1}x`, `{"b":[}`} {
		_, err := m.Match(nil, []byte(ev))
		assert.ErrorIs(t, err, ErrNotObject, "Match(%q)", ev)
	}
}
