package pattern

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzEngine: no input may panic or hang, and on an event that strict mode
// accepts, the fast (early-stopping) scan must give the same answer.
func FuzzEngine(f *testing.F) {
	f.Add([]byte(`{"a":["x"],"b":{"c":[{"prefix":"p"}]}}`), []byte(`{"a":"x","b":{"c":"pq"},"z":[1,2]}`))
	f.Add([]byte(`{"a":{"b":["x"],"c":[{"exists":false}]}}`), []byte(`{"a":[{"b":"x","c":1},{"b":"x"}]}`))
	f.Add([]byte(`{"$or":[{"a":[1]},{"b":[{"numeric":[">",0]}]}]}`), []byte(`{"b":2,"a":1,"a":2}`))
	f.Add([]byte(`{"a.b":[{"wildcard":"*x*"}]}`), []byte(`{"a":{"b":"yxy"},"a.b":"q"}`))
	f.Add([]byte(`{"a":{"b":["x"]},"a.b.c":["y"]}`), []byte(`{"a":{"b":"x","b.c":"y"},"z":[1],"a.b":"q","a":{"b":"x"}}`))
	f.Fuzz(func(t *testing.T, pat, event []byte) {
		p, err := Parse(pat, DefaultLimits())
		if err != nil {
			return
		}
		m := Build([]Entry{{ID: "p", P: p}, {ID: "q", P: p}})
		strict, err := m.MatchStrict(nil, event)
		fast, ferr := m.Match(nil, event)
		if err != nil {
			return
		}
		require.NoError(t, ferr, "fast scan failed on a valid event")
		require.ElementsMatch(t, strict, fast, "strict and fast\npattern %s\nevent %s", pat, event)
	})
}
