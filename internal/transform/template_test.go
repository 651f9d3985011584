package transform

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompileRejects(t *testing.T) {
	tooMany := map[string]string{}
	for i := 0; i <= MaxPaths; i++ {
		tooMany[fmt.Sprintf("v%d", i)] = "$.detail"
	}
	cases := []struct {
		name     string
		paths    map[string]string
		template string
		field    string
		fragment string
	}{
		{"too many paths", tooMany, `"x"`, "InputPathsMap", "maximum is 100"},
		{"empty key", map[string]string{"": "$.a"}, `"x"`, `InputPathsMap[""]`, "empty"},
		{"key with a dot", map[string]string{"a.b": "$.a"}, `"x"`, `InputPathsMap["a.b"]`, "only letters, digits"},
		{"key with a space", map[string]string{"a b": "$.a"}, `"x"`, `InputPathsMap["a b"]`, "only letters, digits"},
		{"key too long", map[string]string{strings.Repeat("k", 257): "$.a"}, `"x"`, `InputPathsMap["` + strings.Repeat("k", 257) + `"]`, "maximum is 256"},
		{"key starts with AWS", map[string]string{"AWSRegion": "$.region"}, `"x"`, `InputPathsMap["AWSRegion"]`, "reserved"},
		{"predefined name as key", map[string]string{VarRuleName: "$.a"}, `"x"`, `InputPathsMap["aws.events.rule-name"]`, "predefined"},
		{"invalid path", map[string]string{"a": "detail"}, `"x"`, `InputPathsMap["a"]`, "must start with $"},
		// InputTransformer: "You must use JSON dot notation, not bracket notation."
		{"bracket key in paths map", map[string]string{"a": "$['detail']"}, `"x"`, `InputPathsMap["a"]`, "dot notation"},
		{"empty template", nil, "", "InputTemplate", "empty"},
		{"template too long", nil, `"` + strings.Repeat("x", MaxTemplateLength-1) + `"`, "InputTemplate", "maximum is 8192"},
		// Recorded: PutTargets fails with "InputTemplate for target ...
		// contains invalid placeholder notdefinedkey." (LocalStack's
		// AWS-validated snapshot, test_put_events_with_input_transformer_missing_keys).
		{"undefined placeholder", map[string]string{"detail-type": "$.detail-type"}, `"Event of <detail-type> type, with not defined key <notdefinedkey>"`, "InputTemplate", "placeholder <notdefinedkey> is not defined"},
		{"undefined placeholder in text", nil, `hello <who>`, "InputTemplate", "<who> is not defined"},
		{"undefined placeholder in JSON", nil, `{"a": <who>}`, "InputTemplate", "<who> is not defined"},
		{"undefined placeholder in a string", nil, `{"a": "x <b> y"}`, "InputTemplate", "<b> is not defined"},
		{"undefined predefined-looking name", nil, `{"a": <aws.events.nope>}`, "InputTemplate", "<aws.events.nope> is not defined"},
		// "If InputTemplate is a JSON object ... The placeholder cannot be
		// used as an object key."
		{"placeholder as key", map[string]string{"k": "$.a"}, `{<k>: 1}`, "InputTemplate", "object key"},
		{"placeholder inside a key", map[string]string{"k": "$.a"}, `{"x": 1, "pre-<k>": 1}`, "InputTemplate", "object key"},
		{"nested placeholder as key", map[string]string{"k": "$.a"}, `{"a": [{"b": 1, <k>: 2}]}`, "InputTemplate", "object key"},
		{"invalid JSON object", map[string]string{"k": "$.a"}, `{"a": <k>`, "InputTemplate", "not valid JSON"},
		{"two placeholders in a row", map[string]string{"k": "$.a"}, `{"a": <k><k>}`, "InputTemplate", "not valid JSON"},
		{"trailing comma", nil, `{"a": 1,}`, "InputTemplate", "not valid JSON"},
		{"tokens split by a space", nil, `[1 2]`, "InputTemplate", "not valid JSON"},
		{"literal split by a space", nil, `{"a": tr ue}`, "InputTemplate", "not valid JSON"},
		{"number next to a placeholder", map[string]string{"k": "$.a"}, `{"a": 1<k>}`, "InputTemplate", "not valid JSON"},
		{"placeholder next to a literal", map[string]string{"k": "$.a"}, `[<k>true]`, "InputTemplate", "not valid JSON"},
		{"invalid JSON array", nil, `[1, 2`, "InputTemplate", "not valid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := Compile(tc.paths, tc.template)
			assert.Nil(t, tr, "a Transformer")
			wantError(t, err, tc.field, tc.fragment)
		})
	}
}

func TestCompileJoinsPathErrors(t *testing.T) {
	_, err := Compile(map[string]string{"b": "x", "a": "$..y", "ok": "$.z"}, `"<ok>"`)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, `InputPathsMap["a"]`, e.Field, "the first error is for key a (sorted): %v", err)
	require.ErrorContains(t, err, `InputPathsMap["b"]`, "the joined error also names key b")
}

func TestCompileAccepts(t *testing.T) {
	for _, tc := range []struct {
		paths    map[string]string
		template string
	}{
		{nil, `"static text"`},
		{nil, `static text`},
		{nil, `{"static": true}`},
		{nil, `[1, "two", null]`},
		{map[string]string{"k": "$.a"}, `x < y and <k> > z`}, // a '<' that is not a placeholder is text
		{map[string]string{"unused": "$.a"}, `"x"`},          // unused variables are fine
		{map[string]string{"a-b_C9": "$.a"}, `<a-b_C9>`},
		{map[string]string{"awsRegion": "$.region"}, `<awsRegion>`}, // only "AWS" is reserved
	} {
		_, err := Compile(tc.paths, tc.template)
		assert.NoError(t, err, "Compile(%v, %q)", tc.paths, tc.template)
	}
}

func TestTemplateModes(t *testing.T) {
	ev := `{"detail":{"s":"v"}}`
	cases := []struct {
		template string
		isJSON   bool
		want     string
	}{
		{`"a <s> b"`, true, `"a v b"`},
		{`  "a <s> b"  `, true, `"a v b"`},
		{`"a" <s> "b"`, false, `"a" v "b"`}, // not one JSON string: text
		{`"unterminated <s>`, false, `"unterminated v`},
		{`<s>`, false, `v`},
		{`<s> and <s>`, false, `v and v`},
		{`  {"a" : <s>}  `, true, `{"a":"v"}`},
		{`[<s>, "<s>"]`, true, `["v","v"]`},
		{"line1\n<s>\n", false, "line1\nv\n"}, // text keeps its whitespace
		{`{"a b": "c  d"}`, true, `{"a b":"c  d"}`},
		{`{"esc": "tab\t\u00e9 \"<s>\" \\"}`, true, `{"esc":"tab\t\u00e9 \"v\" \\"}`},
	}
	for _, tc := range cases {
		tr := mustCompile(t, map[string]string{"s": "$.detail.s"}, tc.template)
		assert.Equal(t, tc.isJSON, tr.IsJSON(), "%q: IsJSON()", tc.template)
		got, err := tr.Apply(nil, []byte(ev), Vars{})
		require.NoError(t, err, "%q", tc.template)
		assert.Equal(t, tc.want, string(got), "%q", tc.template)
	}
}

// recordedEvent is the event of LocalStack's AWS-validated input
// transformer tests (tests/aws/services/events/test_events_inputs.py).
const recordedEvent = `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"core.update-account-command","source":"core.update-account-command","account":"111111111111","time":"2024-06-11T08:33:04Z","region":"us-east-1","resources":[],"detail":{"command":"update-account","payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}}`

// TestRecordedOutputs replays what AWS delivered to an SQS target in
// LocalStack's AWS-validated snapshot test_events_inputs.snapshot.json.
func TestRecordedOutputs(t *testing.T) {
	all := map[string]string{"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.command"}
	missing := map[string]string{"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.notinmessage"}
	const str = `"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"`
	const obj = `{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}`
	const special = `"{[/Check with special starting characters for event of <detail-type> type"`
	runApplyCases(t, []applyCase{
		{"string template", all, str, recordedEvent, true,
			`"Event of core.update-account-command type, at time 2024-06-11T08:33:04Z, info extracted from detail update-account"`},
		// A missing path yields nothing inside a string...
		{"string template, missing path", missing, str, recordedEvent, true,
			`"Event of core.update-account-command type, at time 2024-06-11T08:33:04Z, info extracted from detail "`},
		{"JSON template", all, obj, recordedEvent, true,
			`{"detailType":"core.update-account-command","time":"2024-06-11T08:33:04Z","command":"update-account"}`},
		// ... and "" in a value position.
		{"JSON template, missing path", missing, obj, recordedEvent, true,
			`{"detailType":"core.update-account-command","time":"2024-06-11T08:33:04Z","command":""}`},
		{"string starting with special characters", all, special, recordedEvent, true,
			`"{[/Check with special starting characters for event of core.update-account-command type"`},
	})
}

// TestPredefinedEventShape checks <aws.events.event> and
// <aws.events.event.json> against the recorded output of
// test_input_transformer_predefined_variables: the first is the envelope
// without detail, with "detailType"; the second the whole event.
func TestPredefinedEventShape(t *testing.T) {
	tr := mustCompile(t, nil, `{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}`)
	got, err := tr.Apply(nil, []byte(recordedEvent), Vars{})
	require.NoError(t, err)
	want := `{"originalEvent":{"id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","account":"111111111111","detailType":"core.update-account-command","time":"2024-06-11T08:33:04Z","source":"core.update-account-command","region":"us-east-1","resources":[],"version":"0"},"originalEventJson":` + recordedEvent + `}`
	require.Equal(t, want, string(got))
}

func TestPredefinedVariables(t *testing.T) {
	ev := []byte(recordedEvent)
	vars := Vars{
		RuleARN:       "arn:aws:events:us-east-1:111111111111:rule/bus/rule",
		RuleName:      "my \"rule\"\n",
		IngestionTime: time.Date(2024, 6, 11, 10, 33, 10, 123456789, time.FixedZone("CEST", 2*3600)),
	}
	cases := []struct{ template, want string }{
		// The recorded string case: rule ARN, name and ingestion time in a string.
		{`"Message containing all pre defined variables <aws.events.rule-arn> <aws.events.rule-name> <aws.events.event.ingestion-time>"`,
			`"Message containing all pre defined variables arn:aws:events:us-east-1:111111111111:rule/bus/rule my \"rule\"\n 2024-06-11T08:33:10Z"`},
		{`{"arn": <aws.events.rule-arn>, "name": <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>}`,
			`{"arn":"arn:aws:events:us-east-1:111111111111:rule/bus/rule","name":"my \"rule\"\n","at":"2024-06-11T08:33:10Z"}`},
		{`<aws.events.rule-name>@<aws.events.event.ingestion-time>`, "my \"rule\"\n@2024-06-11T08:33:10Z"},
		{`"<aws.events.event>"`, `"{id:6a7e8feb-b491-4cf7-a9f1-bf3703467718,account:111111111111,detailType:core.update-account-command,time:2024-06-11T08:33:04Z,source:core.update-account-command,region:us-east-1,resources:[],version:0}"`},
		{`"<aws.events.event.json>"`, `"{version:0,id:6a7e8feb-b491-4cf7-a9f1-bf3703467718,detail-type:core.update-account-command,source:core.update-account-command,account:111111111111,time:2024-06-11T08:33:04Z,region:us-east-1,resources:[],detail:{command:update-account,payload:{acc_id:0a787ecb-4015,sf_id:baz}}}"`},
		{`event: <aws.events.event.json>`, `event: ` + recordedEvent},
	}
	for _, tc := range cases {
		tr := mustCompile(t, nil, tc.template)
		got, err := tr.Apply(nil, ev, vars)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(got), tc.template)
		if tr.IsJSON() {
			assert.True(t, json.Valid(got), "%s: invalid JSON %s", tc.template, got)
		}
	}
}

func TestIngestionTimeFallsBackToEventTime(t *testing.T) {
	tr := mustCompile(t, nil, `{"at": <aws.events.event.ingestion-time>, "s": "<aws.events.event.ingestion-time>"}`)
	got, _ := tr.Apply(nil, []byte(recordedEvent), Vars{})
	require.Equal(t, `{"at":"2024-06-11T08:33:04Z","s":"2024-06-11T08:33:04Z"}`, string(got))
	got, _ = tr.Apply(nil, []byte(`{"id":"x"}`), Vars{})
	require.Equal(t, `{"at":"","s":""}`, string(got), "no time at all")
}

func TestSpecialCharactersInValues(t *testing.T) {
	ev := []byte(`{"detail":{"q":"say \"hi\"","nl":"a\nb","u":"caf\u00e9 \ud83d\ude00","bs":"C:\\dir\\","html":"<b>&</b>","o":{"k":"a \"q\" b","e":"\\"},"arr":["x\"y",1]}}`)
	paths := map[string]string{"q": "$.detail.q", "nl": "$.detail.nl", "u": "$.detail.u", "bs": "$.detail.bs", "html": "$.detail.html", "o": "$.detail.o", "arr": "$.detail.arr"}
	cases := []struct{ template, want string }{
		{`{"v": [<q>, <nl>, <u>, <bs>, <html>]}`, `{"v":["say \"hi\"","a\nb","caf\u00e9 \ud83d\ude00","C:\\dir\\","<b>&</b>"]}`},
		{`"<q>|<nl>|<u>|<bs>|<html>"`, `"say \"hi\"|a\nb|caf\u00e9 \ud83d\ude00|C:\\dir\\|<b>&</b>"`},
		{`"<o> <arr>"`, `"{k:a \"q\" b,e:\\} [x\"y,1]"`},
		{`<q>|<nl>|<u>|<bs>|<html>`, "say \"hi\"|a\nb|café 😀|C:\\dir\\|<b>&</b>"},
		{`<o> <arr>`, `{"k":"a \"q\" b","e":"\\"} ["x\"y",1]`},
	}
	for _, tc := range cases {
		tr := mustCompile(t, paths, tc.template)
		got, err := tr.Apply(nil, ev, Vars{})
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(got), tc.template)
		if tr.IsJSON() {
			var v any
			assert.NoError(t, json.Unmarshal(got, &v), "%s: invalid JSON %s", tc.template, got)
		}
	}
}

func TestMissingValues(t *testing.T) {
	paths := map[string]string{"m": "$.detail.missing", "w": "$.detail.none[*]"}
	ev := []byte(`{"detail":{}}`)
	for template, want := range map[string]string{
		`{"a": <m>, "b": "x<m>y", "c": [<m>]}`: `{"a":"","b":"xy","c":[""]}`,
		`before<m>after`:                       `beforeafter`,
		`{"w": <w>, "s": "<w>"}`:               `{"w":[],"s":"[]"}`,
	} {
		got, err := mustCompile(t, paths, template).Apply(nil, ev, Vars{})
		if assert.NoError(t, err, template) {
			assert.Equal(t, want, string(got), template)
		}
	}
}

func TestWildcardVariables(t *testing.T) {
	tr := mustCompile(t, map[string]string{"skus": "$.detail.items[*].sku"}, `{"skus": <skus>, "text": "<skus>"}`)
	got, err := tr.Apply(nil, []byte(pathEvent), Vars{})
	require.NoError(t, err)
	require.Equal(t, `{"skus":["a","b"],"text":"[a,b]"}`, string(got))
}

func TestApplyAppendsAndRejectsNonObjects(t *testing.T) {
	tr := mustCompile(t, nil, `{"a": 1}`)
	dst := []byte("prefix:")
	got, err := tr.Apply(dst, []byte(`{}`), Vars{})
	require.NoError(t, err)
	require.Equal(t, `prefix:{"a":1}`, string(got))
	for _, bad := range []string{``, `  `, `[1]`, `"s"`, `null`} {
		out, err := tr.Apply(dst, []byte(bad), Vars{})
		assert.ErrorIs(t, err, ErrEventNotObject, "%q", bad)
		assert.Equal(t, "prefix:", string(out), "%q: dst unchanged", bad)
	}
}

func TestManyVariables(t *testing.T) {
	// More variables than Apply keeps on the stack.
	paths := map[string]string{}
	var tpl strings.Builder
	tpl.WriteString("[")
	for i := 0; i < MaxPaths; i++ {
		paths[fmt.Sprintf("v%d", i)] = fmt.Sprintf("$.detail.a[%d]", i%3)
		if i > 0 {
			tpl.WriteString(",")
		}
		fmt.Fprintf(&tpl, "<v%d>", i)
	}
	tpl.WriteString("]")
	tr := mustCompile(t, paths, tpl.String())
	got, err := tr.Apply(nil, []byte(`{"detail":{"a":[1,"x",null]}}`), Vars{})
	require.NoError(t, err)
	var vals []any
	require.NoError(t, json.Unmarshal(got, &vals), "got %s", got)
	require.Len(t, vals, MaxPaths, "got %s", got)
	require.Equal(t, "x", vals[1], "got %s", got)
	require.Nil(t, vals[2], "got %s", got)
}

func TestConcurrentApply(t *testing.T) {
	tr := mustCompile(t, ec2Paths, `{"instance": <instance>, "state": "<state>", "rule": <aws.events.rule-name>}`)
	want := `{"instance":"i-0123456789","state":"RUNNING","rule":"example"}`
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := 0; i < 200; i++ {
				out, err := tr.Apply(buf[:0], []byte(ec2Event), exampleVars)
				if err != nil || string(out) != want {
					errs <- fmt.Sprintf("got %s (%v)", out, err)
					return
				}
				buf = out
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		assert.Fail(t, e)
	}
}

func TestApplyDoesNotAllocate(t *testing.T) {
	tr := mustCompile(t, ec2Paths, `{"i": <instance>, "s": "<state> at <timestamp>", "r": <aws.events.rule-arn>, "e": <aws.events.event>, "t": <aws.events.event.ingestion-time>}`)
	ev := []byte(ec2Event)
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		if _, err := tr.Apply(buf[:0], ev, exampleVars); err != nil {
			require.Fail(t, err.Error())
		}
	})
	require.Zero(t, n, "Apply's allocations per call with a large enough dst")
}
