package pattern

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMatchAttrs(t *testing.T) {
	m := machineOf(t,
		`{"store":["example_corp"]}`,
		`{"price":[{"numeric":[">=",100]}]}`,
		`{"tags":["red"]}`,
		`{"store":[{"exists":false}]}`,
	)
	cases := []struct {
		attrs []Attr
		want  []string
	}{
		{[]Attr{{Name: "store", Type: AttrString, Value: []byte("example_corp")}}, []string{"0"}},
		{[]Attr{{Name: "price", Type: AttrNumber, Value: []byte("100.0")}}, []string{"1", "3"}},
		{[]Attr{{Name: "tags", Type: AttrStringArray, Value: []byte(`["blue","red"]`)}}, []string{"2", "3"}},
		{[]Attr{{Name: "store", Type: AttrString, Value: []byte("x")}, {Name: "store", Type: AttrString, Value: []byte("example_corp")}}, []string{"0"}},
		{[]Attr{{Name: "store", Type: AttrBinary, Value: []byte("example_corp")}}, []string{"3"}},
	}
	for i, c := range cases {
		got, err := m.MatchAttrs(nil, c.attrs)
		if assert.NoError(t, err, "case %d", i) {
			assert.ElementsMatch(t, c.want, got, "case %d", i)
		}
	}
	_, err := m.MatchAttrs(nil, []Attr{{Name: "price", Type: AttrNumber, Value: []byte("abc")}})
	assert.ErrorIs(t, err, ErrNotObject, "bad number")
	_, err = m.MatchAttrs(nil, []Attr{{Name: "tags", Type: AttrStringArray, Value: []byte(`"red"`)}})
	assert.Error(t, err, "bad array accepted")
}
