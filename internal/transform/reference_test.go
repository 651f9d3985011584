package transform

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// refLookup is a simple reference for definite paths: it walks the value
// encoding/json decoded.
func refLookup(doc any, steps []step) (any, bool) {
	cur := doc
	for _, st := range steps {
		switch st.kind {
		case opKeys:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[st.key]; !ok {
				return nil, false
			}
		case opIndex:
			a, ok := cur.([]any)
			if !ok || st.index >= len(a) {
				return nil, false
			}
			cur = a[st.index]
		default:
			panic("indefinite")
		}
	}
	return cur, true
}

var refKeys = []string{"a", "b", "0", "1", "a.b", "x y", "*", "#", "@", "detail-type", "k/v", "é"}

func randValue(r *rand.Rand, depth int) any {
	switch n := r.IntN(8); {
	case depth > 3 || n < 3:
		return []any{"s", 1.5, true, nil, "q\"\\\n"}[r.IntN(5)]
	case n < 6:
		m := map[string]any{}
		for i := r.IntN(4); i > 0; i-- {
			m[refKeys[r.IntN(len(refKeys))]] = randValue(r, depth+1)
		}
		return m
	default:
		a := []any{}
		for i := r.IntN(4); i > 0; i-- {
			a = append(a, randValue(r, depth+1))
		}
		return a
	}
}

func randPath(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("$")
	for i := r.IntN(4); i > 0; i-- {
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, "[%d]", r.IntN(3))
			continue
		}
		k := refKeys[r.IntN(len(refKeys))]
		if strings.ContainsAny(k, ".* #@é") || r.IntN(2) == 0 {
			fmt.Fprintf(&b, "['%s']", k)
		} else {
			b.WriteString("." + k)
		}
	}
	return b.String()
}

// TestExtractMatchesReference compares Extract with the reference on random
// documents and paths, pretty-printed and compact.
func TestExtractMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	found := 0
	for i := 0; i < 20000; i++ {
		doc := map[string]any{"detail": randValue(r, 0)}
		for _, k := range refKeys[:4] {
			if r.IntN(2) == 0 {
				doc[k] = randValue(r, 1)
			}
		}
		var ev []byte
		if i%2 == 0 {
			ev, _ = json.Marshal(doc)
		} else {
			ev, _ = json.MarshalIndent(doc, "", "  ")
		}
		path := randPath(r)
		steps, err := parsePath(path, true)
		require.NoError(t, err, path)
		want, wantOK := refLookup(doc, steps)
		raw, ok := mustPath(t, path).Extract(ev)
		require.Equal(t, wantOK, ok, "%s on %s: present as the reference says", path, ev)
		if !ok {
			continue
		}
		found++
		var got any
		require.NoError(t, json.Unmarshal(raw, &got), "%s on %s: got %s", path, ev, raw)
		require.Equal(t, want, got, "%s on %s: got %s", path, ev, raw)
		require.False(t, spaceOutsideStrings(string(raw)), "%s: not minified: %s", path, raw)
	}
	require.GreaterOrEqual(t, found, 2000, "paths matched; fewer means the generator is too weak")
}
