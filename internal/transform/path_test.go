package transform

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompilePathRejects(t *testing.T) {
	cases := []struct {
		path     string
		fragment string
	}{
		{"", "empty"},
		{"detail", "must start with $"},
		{"$.", "ends with '.'"},
		{"$.detail.", "ends with '.'"},
		{"$..state", "deep scan"},
		{"$.a..b", "deep scan"},
		{"$.items[-1]", "negative index"},
		{"$.items[0:2]", "only single array indexes"},
		{"$.items[:2]", "slice"},
		{"$.items[0,1]", "only single array indexes"},
		{"$.items[?(@.a)]", "filter"},
		{"$.items[(@.length-1)]", "filter or script"},
		{"$.items[", "ends with '['"},
		{"$.items[0", "only single array indexes"},
		{"$.items[*", "expected ']'"},
		{"$.items[99999999999]", "too large"},
		{"$['a", "unterminated"},
		{"$['a'", "expected ']'"},
		{"$['']", "empty quoted key"},
		{`$['a\b']`, "backslashes"},
		{"$.a b", "cannot contain"},
		{"$.a\"b", "cannot contain"},
		{"$.a@b", "cannot contain"},
		{"$x", "unexpected"},
		{"$.a]", "cannot contain"},
		{"$[x]", "invalid bracket"},
		{"$." + strings.Repeat("a", 255), "maximum is 256"},
		{"$.\xff", "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p, err := CompilePath(tc.path)
			assert.Nil(t, p, "a Path")
			wantError(t, err, "InputPath", tc.fragment)
		})
	}
}

func TestCompilePathAccepts(t *testing.T) {
	for _, path := range []string{
		"$",
		"$.detail",
		"$.detail-type",
		"$.detail.instance-id",
		"$.detail.items[0]",
		"$.detail.items[0].name",
		"$.resources[*]",
		"$.detail.*",
		"$.detail.a_b/c:d",
		"$.détail",
		"$['detail']",
		`$["detail"]["a.b"]`,
		"$.detail['a b'][3]",
		"$.x[0][1]",
		"$." + strings.Repeat("a", 254),
	} {
		_, err := CompilePath(path)
		assert.NoError(t, err, "CompilePath(%q)", path)
	}
}

const pathEvent = `{
  "version": "0",
  "id": "e1",
  "detail-type": "Order Placed",
  "source": "shop",
  "resources": ["r1", "r2"],
  "detail": {
    "items": [ {"sku": "a", "qty": 1}, {"sku": "b", "qty": 2} ],
    "nested": {"x": {"y": [10, 20]}},
    "a.b": "dotted",
    "a b": "spaced",
    "0": "zero-key",
    "n": null,
    "t": true,
    "s": "quote \" and \\ and \n",
    "empty": {},
    "obj": {"k1": "v1", "k2": [1, 2]}
  }
}`

func TestExtract(t *testing.T) {
	cases := []struct {
		path string
		want string // "" means absent
	}{
		{"$.detail-type", `"Order Placed"`},
		{"$.resources", `["r1","r2"]`}, // minified
		{"$.resources[1]", `"r2"`},
		{"$.resources[2]", ""},
		{"$.detail.items[0].sku", `"a"`},
		{"$.detail.items[1]", `{"sku":"b","qty":2}`},
		{"$.detail.nested.x.y[1]", `20`},
		{"$.detail['a.b']", `"dotted"`},
		{`$["detail"]["a b"]`, `"spaced"`},
		{"$.detail.0", `"zero-key"`}, // all-digit key on an object
		{"$.resources.0", ""},        // a key never indexes an array
		{"$.detail[0]", ""},          // an index never reads an object key
		{"$.detail.items.sku", ""},   // a key on an array
		{"$.detail.n", `null`},       // null is present
		{"$.detail.t", `true`},       //
		{"$.detail.s", `"quote \" and \\ and \n"`},
		{"$.detail.empty", `{}`},
		{"$.detail.missing", ""},
		{"$.detail.n.deeper", ""},
		{"$.source.x", ""},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p := mustPath(t, tc.path)
			require.True(t, p.Definite(), "Definite()")
			raw, ok := p.Extract([]byte(pathEvent))
			if tc.want == "" {
				require.False(t, ok, "got %s, want absent", raw)
				return
			}
			require.True(t, ok, "present")
			require.Equal(t, tc.want, string(raw))
		})
	}
}

func TestExtractRoot(t *testing.T) {
	raw, ok := mustPath(t, "$").Extract([]byte("  " + pathEvent))
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, []byte(pathEvent)))
	require.True(t, ok, "$ selects the whole event")
	require.Equal(t, want.String(), string(raw), "$ selects the whole event, minified")
}

func TestExtractAliasesCompactEvents(t *testing.T) {
	ev := []byte(`{"detail":{"a b":"x y","n":[1,2]}}`)
	raw, ok := mustPath(t, "$.detail").Extract(ev)
	require.True(t, ok, "present")
	require.Equal(t, `{"a b":"x y","n":[1,2]}`, string(raw))
	require.Same(t, &ev[10], &raw[0], "a compact value aliases the event, it is not copied")
	p := mustPath(t, "$.detail.n")
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.Extract(ev) }), "Extract's allocations")
}

func TestExtractWildcards(t *testing.T) {
	cases := []struct{ path, want string }{
		{"$.resources[*]", `["r1","r2"]`},
		{"$.resources.*", `["r1","r2"]`},
		{"$.detail.items[*].sku", `["a","b"]`},
		{"$.detail.items.*.qty", `[1,2]`},
		{"$.detail.obj.*", `["v1",[1,2]]`},
		{"$.detail.obj[*]", `["v1",[1,2]]`},
		{"$.detail.items[*].missing", `[]`},
		{"$.missing[*]", `[]`},
		{"$.detail.empty.*", `[]`},
		{"$.source[*]", `[]`},
		{"$.*.items[0].sku", `["a"]`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p := mustPath(t, tc.path)
			require.False(t, p.Definite(), "Definite()")
			raw, ok := p.Extract([]byte(pathEvent))
			require.True(t, ok, "present")
			require.Equal(t, tc.want, string(raw))
			require.True(t, json.Valid(raw), "not valid JSON: %s", raw)
		})
	}
}

// TestExtractRecorded replays InputPath cases recorded against AWS in
// LocalStack's AWS-validated snapshot (tests/aws/services/events/
// test_events_inputs.snapshot.json, TestInputPath): the target receives the
// JSON of the selected part, a string included with its quotes.
func TestExtractRecorded(t *testing.T) {
	const ev = `{"version":"0","id":"x","detail-type":"core.update-account-command","source":"core.update-account-command","account":"111111111111","time":"2024-05-13T12:27:07Z","region":"us-east-1","resources":[],"detail":{"command":"update-account","payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}}`
	for path, want := range map[string]string{
		"$.detail":               `{"command":"update-account","payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}`,
		"$.detail.payload":       `{"acc_id":"0a787ecb-4015","sf_id":"baz"}`,
		"$.detail.payload.sf_id": `"baz"`,
	} {
		raw, ok := mustPath(t, path).Extract([]byte(ev))
		if assert.True(t, ok, "%s: present", path) {
			assert.Equal(t, want, string(raw), path)
		}
	}
}

func TestExtractGjsonSpecialCharacters(t *testing.T) {
	// Keys that mean something to gjson must be looked up literally.
	const ev = `{"detail":{"a*":1,"a?":2,"a|b":3,"#":4,"@this":5,"a\\b":6,"x":{"y":7},"!":8,"a=b":9}}`
	for path, want := range map[string]string{
		"$.detail['a*']":    "1",
		"$.detail['a?']":    "2",
		"$.detail['a|b']":   "3",
		"$.detail['#']":     "4",
		"$.detail['@this']": "5",
		"$.detail['!']":     "8",
		"$.detail['a=b']":   "9",
	} {
		raw, ok := mustPath(t, path).Extract([]byte(ev))
		if assert.True(t, ok, "%s: present", path) {
			assert.Equal(t, want, string(raw), path)
		}
	}
	raw, ok := mustPath(t, "$.detail['x.y']").Extract([]byte(ev))
	assert.False(t, ok, "['x.y'] must not descend into x.y, got %s", raw)
}

func TestExtractNeverPanics(t *testing.T) {
	paths := []string{"$", "$.a", "$.a[0]", "$.a.*", "$.a[*].b", "$.0", "$['a.b']"}
	inputs := []string{"", "{", "[", `{"a":`, `{"a":[`, `{"a":[{`, "\x00", `"str"`, `{"a":{"b":}}`, `[1,2]`, `{"a":[1,2,}`}
	for _, p := range paths {
		cp := mustPath(t, p)
		for _, in := range inputs {
			cp.Extract([]byte(in))
		}
	}
}
