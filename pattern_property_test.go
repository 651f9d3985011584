package eda

// Property tests: random patterns and events drawn from one shared vocabulary
// (so that roughly half the pairs match), compared between the compiled
// engine (Pattern.Match and a Matcher holding many patterns) and the reference
// interpreter of pattern_reference_test.go. The seed is fixed; a failure
// prints a shrunk, minimal pattern/event pair.
//
// The vocabulary stays inside the semantics both documents settle: numbers in
// patterns are all comparable (their decimal value is that of their float64's
// shortest text), keys hold no dots, strings are ASCII for the
// case-insensitive operators.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	propSources  = []string{"aws.ec2", "aws.s3", "custom.app", "AWS.EC2", "aws.ec2.extra"}
	propStates   = []string{"running", "stopped", "initializing", "INITIALIZING", "Running", ""}
	propNames    = []string{"image.png", "IMAGE.PNG", "doc.txt", "dir/a.png", "a*b", `a\b`, "dir/sub/x.txt"}
	propIPs      = []string{"10.0.0.1", "10.0.1.7", "192.168.1.1", "2001:db8::1", "2001:0db8:0:0::1", "hello"}
	propItemA    = []string{"x", "y", "z"}
	propEvNums   = []string{"0", "-0", "5", "5.0", "50e-1", "7", "-3", "0.1", "100", "1e2", "2.5", "123.456", "-122.422003528252475", "-122.42200352825247", "9007199254740993", "9007199254740992", "1e300"}
	propPatNums  = []string{"0", "-0", "5", "5.0", "50e-1", "7", "-3", "0.1", "100", "1e2", "2.5", "-122.42200352825247", "9007199254740992"}
	propPrefixes = []string{"aws.", "AWS", "cust", "run", "init", "dir/", "IMAGE"}
	propSuffixes = []string{".ec2", "EC2", "ing", ".png", ".PNG", ".txt", "ed"}
	propWilds    = []string{"*.png", "dir/*", `a\*b`, `a\\b`, "*n*", "run*", "*", "aws.*2", "*.*.*"}
	propCIDRs    = []string{"10.0.0.0/24", "10.0.0.0/8", "2001:db8::/32", "192.168.0.0/16"}
)

type propGen struct{ r *rand.Rand }

func (g propGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }
func (g propGen) chance(p float64) bool   { return g.r.Float64() < p }

// stringOrNull returns a string from xs, sometimes null, sometimes an array.
func (g propGen) scalarish(xs []string, num bool) any {
	one := func() any {
		if num {
			return json.Number(g.pick(xs))
		}
		return g.pick(xs)
	}
	switch {
	case g.chance(0.08):
		return nil
	case g.chance(0.15):
		n := g.r.IntN(3)
		arr := make([]any, 0, n)
		for range n {
			arr = append(arr, one())
		}
		return arr
	}
	return one()
}

func (g propGen) event() map[string]any {
	ev := map[string]any{}
	if g.chance(0.97) {
		ev["source"] = g.scalarish(propSources, false)
	}
	if g.chance(0.85) {
		ev["n"] = g.scalarish(propEvNums, true)
	}
	if g.chance(0.75) {
		ev["ip"] = g.scalarish(propIPs, false)
	}
	if g.chance(0.7) {
		ev["flag"] = []any{true, false, nil}[g.r.IntN(3)]
	}
	switch {
	case g.chance(0.08):
		ev["detail"] = nil
	case g.chance(0.04):
		ev["detail"] = "scalar"
	case g.chance(0.85):
		d := map[string]any{}
		if g.chance(0.9) {
			d["state"] = g.scalarish(propStates, false)
		}
		if g.chance(0.85) {
			d["size"] = g.scalarish(propEvNums, true)
		}
		if g.chance(0.85) {
			d["name"] = g.scalarish(propNames, false)
		}
		ev["detail"] = d
	}
	if g.chance(0.75) {
		n := g.r.IntN(4)
		items := make([]any, 0, n)
		for range n {
			it := map[string]any{}
			if g.chance(0.8) {
				it["a"] = g.pick(propItemA)
			}
			if g.chance(0.7) {
				it["b"] = json.Number(g.pick([]string{"1", "2", "3"}))
			}
			items = append(items, it)
		}
		ev["items"] = items
	}
	return ev
}

// leaf returns a random leaf list for a field of the given kind.
func (g propGen) leaf(kind string, underArray bool) []any {
	n := 2 + g.r.IntN(2)
	var out []any
	for range n {
		out = append(out, g.alternative(kind, underArray))
	}
	return out
}

func (g propGen) alternative(kind string, underArray bool) any {
	op := func(name string, arg any) any { return map[string]any{name: arg} }
	if g.chance(0.12) {
		return op("exists", g.chance(0.5))
	}
	switch kind {
	case "num":
		switch g.r.IntN(4) {
		case 0:
			return json.Number(g.pick(propPatNums))
		case 1:
			return op("anything-but", json.Number(g.pick(propPatNums)))
		case 2:
			return op("anything-but", []any{json.Number(g.pick(propPatNums)), json.Number(g.pick(propPatNums))})
		default:
			return op("numeric", g.numeric())
		}
	case "ip":
		if g.chance(0.5) {
			return g.pick(propIPs)
		}
		return op("cidr", g.pick(propCIDRs))
	case "flag":
		return []any{true, false, nil}[g.r.IntN(3)]
	case "item":
		return g.pick(propItemA)
	}
	// string kinds
	var vocab []string
	switch kind {
	case "source":
		vocab = propSources
	case "state":
		vocab = propStates
	default:
		vocab = propNames
	}
	switch g.r.IntN(12) {
	case 0, 1:
		return g.pick(vocab)
	case 2:
		return op("prefix", g.pick(propPrefixes))
	case 3:
		return op("suffix", g.pick(propSuffixes))
	case 4:
		return op("equals-ignore-case", g.pick(vocab))
	case 5:
		return op("wildcard", g.pick(propWilds))
	case 6:
		return op("prefix", map[string]any{"equals-ignore-case": g.pick(propPrefixes)})
	case 7:
		return op("suffix", map[string]any{"equals-ignore-case": g.pick(propSuffixes)})
	case 8:
		if g.chance(0.5) {
			return op("anything-but", g.pick(vocab))
		}
		return op("anything-but", []any{g.pick(vocab), g.pick(vocab)})
	case 9:
		switch g.r.IntN(3) {
		case 0:
			return op("anything-but", map[string]any{"prefix": g.pick(propPrefixes)})
		case 1:
			return op("anything-but", map[string]any{"suffix": g.pick(propSuffixes)})
		default:
			return op("anything-but", map[string]any{"equals-ignore-case": g.pick(vocab)})
		}
	case 10:
		if g.chance(0.5) {
			return op("anything-but", map[string]any{"wildcard": g.pick(propWilds)})
		}
		return op("anything-but", map[string]any{"wildcard": []any{g.pick(propWilds), g.pick(propWilds)}})
	default:
		return nil
	}
}

func (g propGen) numeric() []any {
	a, _ := json.Number(g.pick(propPatNums)).Float64()
	b, _ := json.Number(g.pick(propPatNums)).Float64()
	if a > b {
		a, b = b, a
	}
	num := func(f float64) json.Number { return json.Number(fmt.Sprint(f)) }
	switch g.r.IntN(4) {
	case 0:
		return []any{[]string{"<", "<=", ">", ">=", "="}[g.r.IntN(5)], num(a)}
	case 1:
		if a == b {
			return []any{"=", num(a)}
		}
		return []any{[]string{">", ">="}[g.r.IntN(2)], num(a), []string{"<", "<="}[g.r.IntN(2)], num(b)}
	case 2:
		return []any{">", num(a)}
	default:
		return []any{"<=", num(b)}
	}
}

// field adds one random field condition to obj.
func (g propGen) field(obj map[string]any) {
	switch g.r.IntN(9) {
	case 0:
		obj["source"] = g.leaf("source", false)
	case 1:
		obj["n"] = g.leaf("num", false)
	case 2:
		obj["ip"] = g.leaf("ip", false)
	case 3:
		obj["flag"] = g.leaf("flag", false)
	case 4:
		d, _ := obj["detail"].(map[string]any)
		if d == nil {
			d = map[string]any{}
			obj["detail"] = d
		}
		d["state"] = g.leaf("state", false)
	case 5:
		d, _ := obj["detail"].(map[string]any)
		if d == nil {
			d = map[string]any{}
			obj["detail"] = d
		}
		if g.chance(0.5) {
			d["name"] = g.leaf("name", false)
		} else {
			d["size"] = g.leaf("num", false)
		}
	case 6, 7:
		it := map[string]any{}
		if g.chance(0.7) {
			it["a"] = g.leaf("item", true)
		}
		if g.chance(0.6) || len(it) == 0 {
			it["b"] = []any{json.Number(g.pick([]string{"1", "2", "3"}))}
			if g.chance(0.3) {
				it["b"] = []any{map[string]any{"numeric": []any{">=", json.Number("2")}}}
			}
		}
		obj["items"] = it
	default:
		obj["missing"] = []any{map[string]any{"exists": g.chance(0.15)}}
	}
}

func (g propGen) pattern() map[string]any {
	p := map[string]any{}
	g.field(p)
	if g.chance(0.3) {
		g.field(p)
	}
	if g.chance(0.25) {
		var branches []any
		for range 2 + g.r.IntN(2) {
			b := map[string]any{}
			g.field(b)
			branches = append(branches, b)
		}
		p["$or"] = branches
	}
	return p
}

func propJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSpace(buf.Bytes())
}

// TestPatternPropertyAgainstReference compares Pattern.Match and Matcher with
// the reference on a few thousand random pairs.
func TestPatternPropertyAgainstReference(t *testing.T) {
	t.Parallel()
	const (
		batches   = 60
		perBatch  = 30 // patterns in one Matcher
		perEvents = 40 // events per batch
	)
	g := propGen{rand.New(rand.NewPCG(2026, 11))}
	pairs, matched := 0, 0
	for batch := range batches {
		m := NewMatcher()
		pats := make([]map[string]any, perBatch)
		refs := make([]refPattern, perBatch)
		compiled := make([]*Pattern, perBatch)
		for i := range pats {
			pats[i] = g.pattern()
			refs[i] = refCompile(pats[i])
			raw := propJSON(pats[i])
			p, err := ParsePattern(raw)
			require.NoError(t, err, "ParsePattern(%s)", raw)
			compiled[i] = p
			require.NoError(t, m.Add(fmt.Sprintf("p%d", i), raw), "Add(%s)", raw)
		}
		var buf []string
		for range perEvents {
			ev := g.event()
			raw := propJSON(ev)
			decoded := refRedecode(ev)
			var want []string
			for i, p := range pats {
				ref := refs[i].match(decoded)
				got, err := compiled[i].Match(raw)
				require.NoError(t, err, "Match")
				pairs++
				if ref {
					matched++
					want = append(want, fmt.Sprintf("p%d", i))
				}
				if got != ref {
					pm, em := propShrink(p, ev)
					require.Failf(t, "Pattern.Match disagrees with the reference", "batch %d: Pattern.Match = %v, reference = %v\npattern: %s\nevent:   %s\nminimal pattern: %s\nminimal event:   %s",
						batch, got, ref, propJSON(p), raw, propJSON(pm), propJSON(em))
				}
			}
			var err error
			buf, err = m.MatchAppend(buf[:0], raw)
			require.NoError(t, err, "MatchAppend")
			require.ElementsMatch(t, want, buf, "batch %d: Matcher against the reference\nevent: %s", batch, raw)
		}
		// Delete every other pattern; the rest must still match as before.
		for i := 0; i < perBatch; i += 2 {
			m.Delete(fmt.Sprintf("p%d", i))
		}
		for range 5 {
			ev := g.event()
			raw := propJSON(ev)
			decoded := refRedecode(ev)
			var want []string
			for i := 1; i < perBatch; i += 2 {
				if refs[i].match(decoded) {
					want = append(want, fmt.Sprintf("p%d", i))
				}
			}
			got, err := m.Match(raw)
			require.NoError(t, err)
			require.ElementsMatch(t, want, got, "after Delete: Matcher against the reference\nevent: %s", raw)
		}
	}
	ratio := float64(matched) / float64(pairs)
	t.Logf("%d pairs, %.1f%% matching", pairs, 100*ratio)
	assert.InDelta(t, 0.5, ratio, 0.3, "vocabulary is unbalanced: %.1f%% of pairs match", 100*ratio)
}

// refRedecode returns the event as the reference sees it after a JSON round
// trip (the generator's values are already in decoded form; this keeps the
// two in step if the generator changes).
func refRedecode(ev map[string]any) map[string]any {
	v, err := refDecode(propJSON(ev))
	if err != nil {
		panic(err)
	}
	return v.(map[string]any)
}

// propShrink greedily removes object keys and array elements from the pattern
// and the event while Pattern.Match still disagrees with the reference.
func propShrink(p, ev map[string]any) (map[string]any, map[string]any) {
	disagree := func(p, ev map[string]any) bool {
		pp, err := ParsePattern(propJSON(p))
		if err != nil {
			return false
		}
		got, err := pp.Match(propJSON(ev))
		return err == nil && got != refMatchDecoded(p, refRedecode(ev))
	}
	for changed := true; changed; {
		changed = false
		for _, cand := range propSmaller(p) {
			if cp, ok := cand.(map[string]any); ok && disagree(cp, ev) {
				p, changed = cp, true
				break
			}
		}
		for _, cand := range propSmaller(ev) {
			if ce, ok := cand.(map[string]any); ok && disagree(p, ce) {
				ev, changed = ce, true
				break
			}
		}
	}
	return p, ev
}

// propSmaller lists the trees obtained from v by removing one object key or
// one array element anywhere inside it.
func propSmaller(v any) []any {
	var out []any
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			without := make(map[string]any, len(v))
			for k2, c2 := range v {
				if k2 != k {
					without[k2] = c2
				}
			}
			out = append(out, without)
			for _, sc := range propSmaller(child) {
				with := make(map[string]any, len(v))
				for k2, c2 := range v {
					with[k2] = c2
				}
				with[k] = sc
				out = append(out, with)
			}
		}
	case []any:
		for i := range v {
			out = append(out, slices.Delete(slices.Clone(v), i, i+1))
			for _, sc := range propSmaller(v[i]) {
				c := slices.Clone(v)
				c[i] = sc
				out = append(out, c)
			}
		}
	}
	return out
}

// TestMatcherAddReplaceDelete checks the Matcher's bookkeeping.
func TestMatcherAddReplaceDelete(t *testing.T) {
	m := NewMatcher()
	ev := []byte(`{"source":"aws.ec2","detail":{"state":"running"}}`)
	ids, err := m.Match(ev)
	require.NoError(t, err)
	require.Empty(t, ids, "empty Matcher")
	must := func(id, p string) {
		t.Helper()
		require.NoError(t, m.Add(id, []byte(p)), "Add(%s)", id)
	}
	must("a", `{"source":["aws.ec2"]}`)
	must("b", `{"detail":{"state":["stopped"]}}`)
	must("or", `{"$or":[{"source":["aws.ec2"]},{"detail":{"state":["running"]}}]}`)
	must("alts", `{"source":["aws.ec2",{"prefix":"aws"},{"suffix":"ec2"}]}`)
	got, err := m.Match(ev)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "alts", "or"}, got, "each id once")
	// Re-adding an id replaces its pattern.
	must("a", `{"source":["aws.s3"]}`)
	got, _ = m.Match(ev)
	assert.NotContains(t, got, "a", "replaced pattern still matches")
	must("b", `{"detail":{"state":["running"]}}`)
	got, _ = m.Match(ev)
	assert.Contains(t, got, "b", "replacing pattern")
	// A failed Add leaves the old pattern in place.
	require.Error(t, m.Add("b", []byte(`{"detail":{"state":[]}}`)), "bad pattern accepted")
	got, _ = m.Match(ev)
	assert.Contains(t, got, "b", "failed Add removed the old pattern")
	m.Delete("b")
	m.Delete("never-added")
	m.Delete("b")
	got, _ = m.Match(ev)
	assert.ElementsMatch(t, []string{"alts", "or"}, got, "after Delete")
	// MatchAppend keeps what dst held.
	dst, err := m.MatchAppend([]string{"keep"}, ev)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"keep", "alts", "or"}, dst, "MatchAppend")
	assert.Equal(t, "keep", dst[0], "MatchAppend appends after what dst held")
	// Many ids for one pattern, and one event matching all of them.
	for i := range 1000 {
		must(fmt.Sprintf("same-%d", i), `{"source":["aws.ec2"]}`)
	}
	got, _ = m.Match(ev)
	assert.Len(t, got, 1002, "1000 identical patterns")
	for i := range 1000 {
		m.Delete(fmt.Sprintf("same-%d", i))
	}
	got, _ = m.Match(ev)
	assert.ElementsMatch(t, []string{"alts", "or"}, got, "after deleting the identical patterns")
}

// TestMatcherConcurrent runs Match on several goroutines while patterns are
// added and deleted; run it with -race. A pattern present throughout must be
// reported by every Match.
func TestMatcherConcurrent(t *testing.T) {
	m := NewMatcher()
	require.NoError(t, m.Add("stable", []byte(`{"source":[{"prefix":"aws."}]}`)))
	ev := []byte(`{"source":"aws.ec2","detail":{"n":5}}`)
	stop := matchWhile(t, 4, m, ev, func(ids []string) bool {
		return assert.Contains(t, ids, "stable", "stable pattern")
	})
	for i := range 2000 {
		id := fmt.Sprintf("r%d", i%50)
		if i%3 == 0 {
			m.Delete(id)
			continue
		}
		p := fmt.Sprintf(`{"detail":{"n":[{"numeric":[">",%d]}]},"source":["aws.ec2"]}`, i%10)
		require.NoError(t, m.Add(id, []byte(p)))
	}
	stop()
}
