package transform

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Seeds live in testdata/fuzz/<FuzzName>/ as well; these f.Add calls keep
// the most telling ones next to the code.

// FuzzCompilePath checks that CompilePath never panics, that it either
// returns a Path or an *Error wrapping ErrInvalid, and that Extract on a
// valid event yields valid JSON.
func FuzzCompilePath(f *testing.F) {
	for _, s := range []string{"$", "$.detail", "$.detail.items[0].sku", "$['a.b']", "$.a[*].b", "$..x", "$.a[-1]", "$[", "$.0", `$["x"]`} {
		f.Add(s, pathEvent)
	}
	f.Fuzz(func(t *testing.T, path, event string) {
		p, err := CompilePath(path)
		if err != nil {
			var e *Error
			require.Nil(t, p, "CompilePath(%q) = %v, %v", path, p, err)
			require.ErrorAs(t, err, &e, "CompilePath(%q)", path)
			require.ErrorIs(t, err, ErrInvalid, "CompilePath(%q)", path)
			return
		}
		raw, ok := p.Extract([]byte(event))
		require.True(t, p.Definite() || ok, "indefinite path reported absent")
		if ok && json.Valid([]byte(event)) {
			require.True(t, json.Valid(raw), "Extract(%q) on valid %q = invalid %q", path, event, raw)
		}
	})
}

// FuzzCompile checks that Compile never panics and that what it accepts
// applies without panicking; for a JSON template and a valid event the
// output must be valid JSON.
func FuzzCompile(f *testing.F) {
	seeds := []struct{ key, path, template string }{
		{"instance", "$.detail.instance-id", `"instance <instance> is in <instance>"`},
		{"instance", "$.detail.instance-id", `{"i": <instance>, "s": "x \"<instance>\""}`},
		{"d", "$.detail", `"Detail is <d>"`},
		{"d", "$.detail", `{"d": <d>, "e": <aws.events.event>, "j": <aws.events.event.json>}`},
		{"k", "$.a", `{<k>: 1}`},
		{"k", "$.a[*]", `[<k>, "<k>"]`},
		{"k", "$.a", `<k> is <aws.events.rule-name> at <aws.events.event.ingestion-time>`},
		{"AWSx", "$.a", `"x"`},
	}
	for _, s := range seeds {
		f.Add(s.key, s.path, s.template, ec2Event)
	}
	f.Fuzz(func(t *testing.T, key, path, template, event string) {
		tr, err := Compile(map[string]string{key: path}, template)
		if err != nil {
			require.Nil(t, tr, "Compile = %v, %v", tr, err)
			require.ErrorIs(t, err, ErrInvalid, "Compile")
			return
		}
		checkApply(t, tr, event)
		if tr.IsJSON() && !strings.Contains(template, "<") {
			// A static JSON template is delivered as its minified self.
			var want bytes.Buffer
			require.NoError(t, json.Compact(&want, []byte(template)), "accepted invalid JSON template %q", template)
			out, err := tr.Apply(nil, []byte(`{}`), Vars{})
			require.NoError(t, err, "static template %q", template)
			require.Equal(t, want.String(), string(out), "static template %q", template)
		}
	})
}

// FuzzApply fixes a set of transformers that use every kind of placeholder
// and feeds them arbitrary events.
func FuzzApply(f *testing.F) {
	for _, ev := range []string{ec2Event, pathEvent, recordedEvent, `{}`, `{"detail":"x"}`, `{"detail":{"a":[1,{"b":"\u0000"}]}}`, `{"time":5}`, `[`, `{"a":`} {
		f.Add(ev)
	}
	paths := map[string]string{"a": "$.detail", "b": "$.detail.a[0]", "c": "$.detail.*", "d": "$.time", "e": "$.detail.0"}
	var trs []*Transformer
	for _, tpl := range []string{
		`{"a": <a>, "b": [<b>, "<b>"], "c": <c>, "d": "<d> <c> <a>", "e": <e>, "p": [<aws.events.event>, <aws.events.event.json>, <aws.events.event.ingestion-time>, <aws.events.rule-arn>]}`,
		`"<a> <b> <c> <d> <e> <aws.events.event> <aws.events.event.json> <aws.events.rule-name>"`,
		`<a> <b> <c> <d> <e> <aws.events.event> <aws.events.event.json> <aws.events.rule-name>`,
	} {
		tr, err := Compile(paths, tpl)
		require.NoError(f, err)
		trs = append(trs, tr)
	}
	f.Fuzz(func(t *testing.T, event string) {
		for _, tr := range trs {
			checkApply(t, tr, event)
		}
	})
}

func checkApply(t *testing.T, tr *Transformer, event string) {
	t.Helper()
	vars := Vars{RuleARN: "arn:\"x\"", RuleName: "n\x01\xff"}
	out, err := tr.Apply(nil, []byte(event), vars)
	if err != nil {
		require.ErrorIs(t, err, ErrEventNotObject, "Apply")
		return
	}
	if tr.IsJSON() && validObject(event) {
		require.True(t, json.Valid(out), "JSON template on valid event %q produced invalid JSON %q", event, out)
	}
}

func validObject(s string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &m) == nil
}
