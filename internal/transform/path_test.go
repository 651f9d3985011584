package transform

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
			if p != nil {
				t.Errorf("got a Path, want nil")
			}
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
		if _, err := CompilePath(path); err != nil {
			t.Errorf("CompilePath(%q): %v", path, err)
		}
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
			if !p.Definite() {
				t.Fatalf("Definite() = false")
			}
			raw, ok := p.Extract([]byte(pathEvent))
			if tc.want == "" {
				if ok {
					t.Fatalf("got %s, want absent", raw)
				}
				return
			}
			if !ok || string(raw) != tc.want {
				t.Fatalf("got %s (ok=%v), want %s", raw, ok, tc.want)
			}
		})
	}
}

func TestExtractRoot(t *testing.T) {
	raw, ok := mustPath(t, "$").Extract([]byte("  " + pathEvent))
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(pathEvent)); err != nil {
		t.Fatal(err)
	}
	if !ok || string(raw) != want.String() {
		t.Fatalf("$ should select the whole event, minified, got ok=%v %s", ok, raw)
	}
}

func TestExtractAliasesCompactEvents(t *testing.T) {
	ev := []byte(`{"detail":{"a b":"x y","n":[1,2]}}`)
	raw, ok := mustPath(t, "$.detail").Extract(ev)
	if !ok || string(raw) != `{"a b":"x y","n":[1,2]}` {
		t.Fatalf("got %s", raw)
	}
	if &raw[0] != &ev[10] {
		t.Fatalf("a compact value should alias the event, not be copied")
	}
	p := mustPath(t, "$.detail.n")
	if n := testing.AllocsPerRun(100, func() { p.Extract(ev) }); n != 0 {
		t.Errorf("Extract allocates %v times", n)
	}
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
			if p.Definite() {
				t.Fatalf("Definite() = true")
			}
			raw, ok := p.Extract([]byte(pathEvent))
			if !ok || string(raw) != tc.want {
				t.Fatalf("got %s (ok=%v), want %s", raw, ok, tc.want)
			}
			if !json.Valid(raw) {
				t.Fatalf("not valid JSON: %s", raw)
			}
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
		if !ok || string(raw) != want {
			t.Errorf("%s: got %s (ok=%v), want %s", path, raw, ok, want)
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
		if !ok || string(raw) != want {
			t.Errorf("%s: got %s (ok=%v), want %s", path, raw, ok, want)
		}
	}
	if raw, ok := mustPath(t, "$.detail['x.y']").Extract([]byte(ev)); ok {
		t.Errorf("['x.y'] must not descend into x.y, got %s", raw)
	}
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
