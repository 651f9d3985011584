package pattern

import (
	"errors"
	"slices"
	"testing"
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
		slices.Sort(got)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("case %d: got %v, %v; want %v", i, got, err, c.want)
		}
	}
	if _, err := m.MatchAttrs(nil, []Attr{{Name: "price", Type: AttrNumber, Value: []byte("abc")}}); !errors.Is(err, ErrNotObject) {
		t.Errorf("bad number: %v", err)
	}
	if _, err := m.MatchAttrs(nil, []Attr{{Name: "tags", Type: AttrStringArray, Value: []byte(`"red"`)}}); err == nil {
		t.Error("bad array accepted")
	}
}
