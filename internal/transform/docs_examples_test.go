package transform

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ec2Event is the sample event of "Amazon EventBridge input transformation",
// section "Input transform examples" (EventBridge User Guide,
// eb-transform-target-input).
const ec2Event = `{
  "version": "0",
  "id": "7bf73129-1428-4cd3-a780-95db273d1602",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "123456789012",
  "time": "2015-11-11T21:29:54Z",
  "region": "us-east-1",
  "resources": [
    "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"
  ],
  "detail": {
    "instance-id": "i-0123456789",
    "state": "RUNNING"
  }
}`

// ec2Paths is the Input Path of the same section.
var ec2Paths = map[string]string{
	"timestamp": "$.time",
	"instance":  "$.detail.instance-id",
	"state":     "$.detail.state",
}

// exampleVars are the rule the docs' outputs show ("ruleName": "example").
var exampleVars = Vars{
	RuleARN:       "arn:aws:events:us-east-2:123456789012:rule/example",
	RuleName:      "example",
	IngestionTime: time.Date(2015, 11, 11, 21, 29, 55, 0, time.UTC),
}

type applyCase struct {
	name     string
	paths    map[string]string
	template string
	event    string
	isJSON   bool
	want     string // exact output
}

func runApplyCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustCompile(t, tc.paths, tc.template)
			assert.Equal(t, tc.isJSON, tr.IsJSON(), "IsJSON()")
			got, err := tr.Apply(nil, []byte(tc.event), exampleVars)
			require.NoError(t, err, "Apply")
			assert.Equal(t, tc.want, string(got), "output")
			if tc.isJSON {
				assert.True(t, json.Valid(got), "output is not valid JSON: %s", got)
			}
		})
	}
}

// TestUserGuideExamples is the table "Input transform examples" of the
// EventBridge User Guide page "Amazon EventBridge input transformation"
// (eb-transform-target-input), row by row. Outputs are minified, as the same
// page's "Common issues" says EventBridge does ("The JSON that is passed to
// the target is minified").
func TestUserGuideExamples(t *testing.T) {
	runApplyCases(t, []applyCase{
		{
			name:     "Simple string",
			paths:    ec2Paths,
			template: `"instance <instance> is in <state>"`,
			event:    ec2Event,
			isJSON:   true,
			want:     `"instance i-0123456789 is in RUNNING"`,
		},
		{
			name:     "String with escaped quotes",
			paths:    ec2Paths,
			template: `"instance \"<instance>\" is in <state>"`,
			event:    ec2Event,
			isJSON:   true,
			want:     `"instance \"i-0123456789\" is in RUNNING"`,
		},
		{
			name:  "Simple JSON",
			paths: ec2Paths,
			template: `{
  "instance" : <instance>,
  "state": <state>
}`,
			event:  ec2Event,
			isJSON: true,
			want:   `{"instance":"i-0123456789","state":"RUNNING"}`,
		},
		{
			name:  "JSON with strings and variables",
			paths: ec2Paths,
			template: `{
 "instance" : <instance>,
 "state": "<state>",
 "instanceStatus": "instance \"<instance>\" is in <state>"
}`,
			event:  ec2Event,
			isJSON: true,
			want:   `{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"}`,
		},
		{
			name:  "JSON with a mix of variables and static information",
			paths: ec2Paths,
			template: `{
  "instance" : <instance>,
  "state": [ 9, <state>, true ],
  "Transformed" : "Yes"
}`,
			event:  ec2Event,
			isJSON: true,
			want:   `{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}`,
		},
		{
			// The docs elide originalEvent ("commented for brevity"); its
			// shape is in TestPredefinedEventShape.
			name:  "Including reserved variables in JSON",
			paths: ec2Paths,
			template: `{
  "instance" : <instance>,
  "state": <state>,
  "ruleArn" : <aws.events.rule-arn>,
  "ruleName" : <aws.events.rule-name>,
  "originalEvent" : <aws.events.event>
}`,
			event:  ec2Event,
			isJSON: true,
			want: `{"instance":"i-0123456789","state":"RUNNING",` +
				`"ruleArn":"arn:aws:events:us-east-2:123456789012:rule/example","ruleName":"example",` +
				`"originalEvent":{"id":"7bf73129-1428-4cd3-a780-95db273d1602","account":"123456789012",` +
				`"detailType":"EC2 Instance State-change Notification","time":"2015-11-11T21:29:54Z",` +
				`"source":"aws.ec2","region":"us-east-1",` +
				`"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"version":"0"}}`,
		},
		{
			name:     "Including reserved variables in a string",
			paths:    ec2Paths,
			template: `"<aws.events.rule-name> triggered"`,
			event:    ec2Event,
			isJSON:   true,
			want:     `"example triggered"`,
		},
		{
			// The docs show what the CloudWatch Logs target stores
			// (`"timestamp" : 2015-11-11T21:29:54Z`, unquoted); the JSON
			// EventBridge hands the target quotes the string, as in
			// "Simple JSON" above.
			name:  "Amazon CloudWatch log group",
			paths: ec2Paths,
			template: `{
  "timestamp" : <timestamp>,
  "message": "instance \"<instance>\" is in <state>"
}`,
			event:  ec2Event,
			isJSON: true,
			want:   `{"timestamp":"2015-11-11T21:29:54Z","message":"instance \"i-0123456789\" is in RUNNING"}`,
		},
	})
}

// apiRefEvent carries the fields the API reference's examples name
// ($.detail.instance, $.detail.status).
const apiRefEvent = `{"version":"0","id":"1","detail-type":"t","source":"s","account":"1","time":"2015-11-11T21:29:54Z","region":"r","resources":[],"detail":{"instance":"i-0123456789","status":"running"}}`

var apiRefPaths = map[string]string{"instance": "$.detail.instance", "status": "$.detail.status"}

// TestAPIReferenceExamples are the three examples of the EventBridge API
// reference, data type InputTransformer, field InputTemplate. The API
// request is JSON, so its "\"" is a plain quote in the template itself.
func TestAPIReferenceExamples(t *testing.T) {
	runApplyCases(t, []applyCase{
		{
			name:     "plain text",
			paths:    apiRefPaths,
			template: `<instance> is in state <status>`,
			event:    apiRefEvent,
			want:     `i-0123456789 is in state running`,
		},
		{
			name:     "plain text with quote marks",
			paths:    apiRefPaths,
			template: `<instance> is in state "<status>"`,
			event:    apiRefEvent,
			want:     `i-0123456789 is in state "running"`,
		},
		{
			name:     "JSON with variables in quotes or out",
			paths:    apiRefPaths,
			template: `{"myInstance": <instance>,"myStatus": "<instance> is in state \"<status>\""}`,
			event:    apiRefEvent,
			isJSON:   true,
			want:     `{"myInstance":"i-0123456789","myStatus":"i-0123456789 is in state \"running\""}`,
		},
	})
}

// TestCommonIssues covers the user guide's "Common issues with transforming
// input" and the quoting note of its examples section.
func TestCommonIssues(t *testing.T) {
	const ev = `{"id":"1","detail":{"key1":"value1","n":5,"list":["a","b"]}}`
	runApplyCases(t, []applyCase{
		{
			// "If a JSON path references a JSON object or array, but the
			// variable is referenced in a string, EventBridge removes any
			// internal quotes to ensure a valid string."
			name:     "object referenced in a string loses its quotes",
			paths:    map[string]string{"detail": "$.detail"},
			template: `"Detail is <detail>"`,
			event:    ev,
			isJSON:   true,
			want:     `"Detail is {key1:value1,n:5,list:[a,b]}"`,
		},
		{
			// "if you want to output a JSON object based on a single JSON
			// path variable, you must place it as a key ... {"detail": <detail>}"
			name:     "object as a value stays JSON",
			paths:    map[string]string{"detail": "$.detail"},
			template: `{"detail": <detail>}`,
			event:    ev,
			isJSON:   true,
			want:     `{"detail":{"key1":"value1","n":5,"list":["a","b"]}}`,
		},
		{
			// "Quotes are not required for variables that represent strings.
			// They are permitted, but EventBridge automatically adds quotes"
			name:     "string variables with and without quotes",
			paths:    map[string]string{"k": "$.detail.key1"},
			template: `{"a": <k>, "b": "<k>"}`,
			event:    ev,
			isJSON:   true,
			want:     `{"a":"value1","b":"value1"}`,
		},
		{
			name:     "number in and out of quotes",
			paths:    map[string]string{"n": "$.detail.n"},
			template: `{"a": <n>, "b": "<n>"}`,
			event:    ev,
			isJSON:   true,
			want:     `{"a":5,"b":"5"}`,
		},
		{
			name:     "array as a value",
			paths:    map[string]string{"l": "$.detail.list"},
			template: `{"l": <l>}`,
			event:    ev,
			isJSON:   true,
			want:     `{"l":["a","b"]}`,
		},
	})
}
