package eda

// Table tests of the pattern language. Every case names its source:
//   EB-syntax   EventBridge user guide, "Event pattern syntax" / "Creating event patterns"
//   EB-values   EventBridge, "Matching events on event field values" / "Matching null values and empty strings"
//   EB-arrays   EventBridge, "Arrays in Amazon EventBridge event patterns"
//   EB-ops      EventBridge, "Comparison operators for use in event patterns" (content filtering),
//               with its sections Prefix, Suffix, Equals-ignore-case, Wildcard, Anything-but,
//               Numeric, IP address (cidr), Exists and $or matching
//   ER-README   aws/event-ruler README.md (Ruler by example, JSON Array Matching, $or)
//   ER-compiler aws/event-ruler JsonRuleCompiler.java / CIDR.java (what is rejected, and why)
//   ANCHORS     what event-ruler's per-rule counts on the city-lots data reveal
//               (pattern_citylots_test.go; BENCHMARKS.md)
// Each case also runs through the reference interpreter (pattern_reference_test.go), so a wrong
// reference shows up here against the documented examples, independently of the engine.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type matchCase struct {
	name    string
	source  string
	pattern string
	event   string
	want    bool
}

// rulerEvent is the sample event of the event-ruler README ("Ruler by Example").
const rulerEvent = `{
  "version": "0",
  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "012345679012",
  "time": "2017-10-02T16:24:49Z",
  "region": "us-east-1",
  "resources": [
    "arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"
  ],
  "detail": {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    "state": "running"
  }
}`

// nullEvent is the sample event of EventBridge's "Matching null values and empty strings".
const nullEvent = `{
  "version": "0",
  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2015-11-11T21:31:47Z",
  "region": "us-east-1",
  "resources": [
   ],
  "detail": {
    "eventVersion": "",
    "responseElements": null
   }
}`

// existsEvent is the event of EventBridge's "Exists matching" example (c-count is not a leaf).
const existsEvent = `{
  "detail-type": [ "EC2 Instance State-change Notification" ],
  "resources": [ "arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341" ],
  "detail": {
    "state": [ "initializing", "running" ],
    "c-count" : {
       "c1" : 100
    }
  }
}`

// employeesEvent is the event of the event-ruler README, "JSON Array Matching".
const employeesEvent = `{
  "employees":[
    { "firstName":"John", "lastName":"Doe" },
    { "firstName":"Anna", "lastName":"Smith" },
    { "firstName":"Peter", "lastName":"Jones" }
  ]
}`

const employeesNestedEvent = `{
  "employees":[
    [
      { "firstName":"John", "lastName":"Doe" },
      { "firstName":"Anna", "lastName":"Smith" }
    ],
    [
      { "firstName":"Peter", "lastName":"Jones" }
    ]
  ]
}`

var exactCases = []matchCase{
	{"ruler simple", "ER-README Simple matching", `{
  "detail-type": [ "EC2 Instance State-change Notification" ],
  "resources": [ "arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000" ],
  "detail": {
    "state": [ "initializing", "running" ]
  }
}`, rulerEvent, true},
	{"ruler simple other state", "ER-README Simple matching", `{"detail":{"state":["initializing"]}}`, rulerEvent, false},
	{"alternatives", "EB-syntax Matching event values", `{ "source": ["aws.ec2", "aws.fargate"] }`, rulerEvent, true},
	{"alternatives none", "EB-syntax Matching event values", `{ "source": ["aws.s3", "aws.fargate"] }`, rulerEvent, false},
	{"all fields must match", "EB-syntax", `{"source":["aws.ec2"],"detail-type":["Other"]}`, rulerEvent, false},
	{"missing field", "EB-syntax: the event must contain all field names of the pattern", `{"detail":{"missing":["x"]}}`, rulerEvent, false},
	{"case sensitive", "EB-syntax: matching is exact, character by character, case-sensitive", `{"source":["AWS.EC2"]}`, rulerEvent, false},
	{"same nesting required", "EB-syntax: same nesting structure", `{"state":["running"]}`, rulerEvent, false},
	{"leaf vs object", "EB-syntax", `{"detail":["running"]}`, rulerEvent, false},
	{"object vs scalar", "EB-syntax", `{"source":{"x":["aws.ec2"]}}`, rulerEvent, false},
	{"empty string", "EB-values null and empty strings", `{"detail":{"eventVersion":[""]}}`, nullEvent, true},
	{"null", "EB-values null and empty strings", `{"detail":{"responseElements":[null]}}`, nullEvent, true},
	{"empty string is not null", "EB-values: null and empty strings are not interchangeable", `{"detail":{"responseElements":[""]}}`, nullEvent, false},
	{"null is not empty string", "EB-values: null and empty strings are not interchangeable", `{"detail":{"eventVersion":[null]}}`, nullEvent, false},
	{"null is not missing", "EB-values", `{"detail":{"nothing":[null]}}`, nullEvent, false},
	{"source and null", "EB-values Field matching", `{ "source": ["aws.autoscaling"], "detail-type": ["EC2 Instance Launch Successful"], "detail": { "responseElements": [null] } }`, nullEvent, true},
	{"true", "EB-values: JSON true", `{"flag":[true]}`, `{"flag":true}`, true},
	{"false", "EB-values: JSON false", `{"flag":[false]}`, `{"flag":false}`, true},
	{"true is not false", "EB-values", `{"flag":[true]}`, `{"flag":false}`, false},
	{"true is not a string", "ER-README JSON text matching: true and \"true\" differ", `{"flag":[true]}`, `{"flag":"true"}`, false},
	{"string true is not true", "ER-README JSON text matching", `{"flag":["true"]}`, `{"flag":true}`, false},
	{"number", "ER-README", `{"detail":{"c-count":[5]}}`, rulerEvent, true},
	{"number 5.0", "issue 2: numbers compare by value", `{"detail":{"c-count":[5.0]}}`, rulerEvent, true},
	{"number 50e-1", "issue 2: numbers compare by value", `{"detail":{"c-count":[50e-1]}}`, rulerEvent, true},
	{"number event 5.0", "issue 2: numbers compare by value", `{"n":[5]}`, `{"n":5.0}`, true},
	{"number event 0.5e1", "issue 2: numbers compare by value", `{"n":[5]}`, `{"n":0.5e1}`, true},
	{"decimal by value", "issue 2: numbers compare by value", `{"detail":{"x-limit":[3.018e2]}}`, rulerEvent, true},
	{"minus zero", "issue 2: -0 = 0", `{"n":[0]}`, `{"n":-0}`, true},
	{"zero minus", "issue 2: -0 = 0", `{"n":[-0]}`, `{"n":0.0}`, true},
	{"number is not string", "issue 2: 5 never equals \"5\"", `{"detail":{"c-count":["5"]}}`, rulerEvent, false},
	{"string is not number", "issue 2: 5 never equals \"5\"", `{"n":[5]}`, `{"n":"5"}`, false},
	{"other number", "ER-README", `{"detail":{"c-count":[6]}}`, rulerEvent, false},
	{"long literal same text", "ER-compiler writeRules: a number also matches its literal text", `{"x":[-122.422003528252475]}`, `{"x":-122.422003528252475}`, true},
	{"big integer same text", "ER-compiler writeRules: e.g. account numbers", `{"x":[12345678901234567890]}`, `{"x":12345678901234567890}`, true},
	{"ip as address", "ER-compiler writeRules: IP literals compile to an address range", `{"ip":["2001:db8::1"]}`, `{"ip":"2001:0db8:0:0:0:0:0:1"}`, true},
	{"ip same", "ER-compiler", `{"ip":["10.0.0.1"]}`, `{"ip":"10.0.0.1"}`, true},
	{"ip other", "ER-compiler", `{"ip":["10.0.0.1"]}`, `{"ip":"10.0.0.2"}`, false},
	{"and of two fields", "EB-ops And", `{ "Location": [ "New York" ], "Day": ["Monday"] }`, `{"Location":"New York","Day":"Monday"}`, true},
	{"and of two fields fails", "EB-ops And", `{ "Location": [ "New York" ], "Day": ["Monday"] }`, `{"Location":"New York","Day":"Tuesday"}`, false},
	{"equals", "EB-ops Equals", `{"Name": [ "Alice" ]}`, `{"Name":"Alice"}`, true},
	{"empty", "EB-ops Empty", `{"LastName": [""]}`, `{"LastName":""}`, true},
	{"extra event fields ignored", "EB-syntax: fields not in the pattern are ignored", `{"source":["aws.ec2"]}`, rulerEvent, true},
}

var keyCases = []matchCase{
	{"dotted key", "issue 2: keys with dots", `{"a.b":["x"]}`, `{"a.b":"x"}`, true},
	{"nested key", "EB-syntax nesting", `{"a":{"b":["x"]}}`, `{"a":{"b":"x"}}`, true},
	{"unicode key escaped in pattern", "issue 2: keys with Unicode and escapes", `{"caf\u00e9":["\u00e9t\u00e9"]}`, `{"café":"été"}`, true},
	{"unicode key escaped in event", "issue 2: keys with Unicode and escapes", `{"café":["été"]}`, `{"caf\u00e9":"\u00e9t\u00e9"}`, true},
	{"escaped quote and backslash", "issue 2: escapes", `{"a\"b":["c\\d"]}`, `{"a\"b":"c\\d"}`, true},
	{"escaped slash", "issue 2: escapes", `{"path":["a/b"]}`, `{"path":"a\/b"}`, true},
	{"emoji", "issue 2: Unicode", `{"k":["😀"]}`, `{"k":"\ud83d\ude00"}`, true},
	{"duplicate pattern key last wins", "issue 2: duplicate keys, the last wins", `{"a":["x"],"a":["y"]}`, `{"a":"y"}`, true},
	{"duplicate pattern key first ignored", "issue 2: duplicate keys, the last wins", `{"a":["x"],"a":["y"]}`, `{"a":"x"}`, false},
	{"duplicate event key last wins", "issue 2: duplicate keys, the last wins", `{"a":["y"]}`, `{"a":"x","a":"y"}`, true},
	{"duplicate event key first ignored", "issue 2: duplicate keys, the last wins", `{"a":["x"]}`, `{"a":"x","a":"y"}`, false},
	{"dollar key in event", "ER-README: $or only as an array of objects", `{"source":["x"]}`, `{"$or":"y","source":"x"}`, true},
}

var arrayCases = []matchCase{
	{"docs resources", "EB-arrays", `{"resources": [
   "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
   "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
   "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"
]}`, `{"resources": [
   "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
   "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"
]}`, true},
	{"no intersection", "EB-arrays", `{"resources":["a","b"]}`, `{"resources":["c","d"]}`, false},
	{"empty event array", "EB-arrays", `{"resources":["a"]}`, `{"resources":[]}`, false},
	{"nested scalar arrays", "ER-README: works for multi-level arrays", `{"a":[3]}`, `{"a":[[1,2],[3]]}`, true},
	{"numbers in array", "EB-arrays", `{"a":[2.0]}`, `{"a":[1,2,3]}`, true},
	{"null in array", "EB-arrays", `{"a":[null]}`, `{"a":["x",null]}`, true},
	{"employees Anna", "ER-README JSON Array Matching", `{ "employees": { "firstName": [ "Anna" ] } }`, employeesEvent, true},
	{"employees nested Anna", "ER-README JSON Array Matching: multi-level arrays", `{ "employees": { "firstName": [ "Anna" ] } }`, employeesNestedEvent, true},
	{"employees Anna Jones", "ER-README: rulesForJSONEvent will not match Anna/Jones", `{ "employees": { "firstName": [ "Anna" ], "lastName": [ "Jones" ] } }`, employeesEvent, false},
	{"employees nested Anna Jones", "ER-README: array consistency", `{ "employees": { "firstName": [ "Anna" ], "lastName": [ "Jones" ] } }`, employeesNestedEvent, false},
	{"employees Anna Smith", "ER-README: array consistency", `{ "employees": { "firstName": [ "Anna" ], "lastName": [ "Smith" ] } }`, employeesEvent, true},
	{"employees nested John Doe", "ER-README: array consistency", `{ "employees": { "firstName": [ "John" ], "lastName": [ "Doe" ] } }`, employeesNestedEvent, true},
	{"inner array consistency", "ER-README: fields within objects in different elements of the same array", `{"a":{"b":{"c":[1],"d":[2]}}}`, `{"a":[{"b":[{"c":1},{"d":2}]}]}`, false},
	{"inner array one field", "ER-README", `{"a":{"b":{"c":[1]}}}`, `{"a":[{"b":[{"c":1},{"d":2}]}]}`, true},
	{"two independent arrays", "ER-README: only fields of the same array are constrained", `{"x":{"a":[2]},"y":{"b":[1]}}`, `{"x":[{"a":1},{"a":2}],"y":[{"b":1},{"b":2}]}`, true},
	{"array element and outer field", "ER-README", `{"top":["t"],"items":{"a":["1"],"b":["2"]}}`, `{"top":"t","items":[{"a":"1","b":"2"},{"a":"3"}]}`, true},
	{"element with exists false", "ER-README array consistency with EB-ops Exists", `{"items":{"a":["x"],"b":[{"exists":false}]}}`, `{"items":[{"a":"x","b":1},{"a":"y"},{"a":"x"}]}`, true},
	{"element with exists false fails", "ER-README array consistency with EB-ops Exists", `{"items":{"a":["x"],"b":[{"exists":false}]}}`, `{"items":[{"a":"x","b":1},{"a":"y"}]}`, false},
	{"exists false alone in array", "ER ACFinder: absence is checked against every element when nothing pins one", `{"items":{"c":[{"exists":false}]}}`, `{"items":[{"b":1},{"c":2}]}`, false},
	{"exists false alone in array absent", "ER ACFinder: absence is checked against every element", `{"items":{"c":[{"exists":false}]}}`, `{"items":[{"b":1},{"b":2}]}`, true},
	{"exists false below empty array", "ER-README: an empty array has no fields", `{"items":{"c":[{"exists":false}]}}`, `{"items":[]}`, true},
	{"objects in leaf array ignored", "EB-ops: operators work on leaves", `{"a":["x"]}`, `{"a":[{"b":"x"}]}`, false},
}

var prefixCases = []matchCase{
	{"time prefix", "EB-ops Prefix matching", `{ "time": [ { "prefix": "2017-10-02" } ] }`, `{"time": "2017-10-02T18:43:48Z"}`, true},
	{"time prefix other day", "EB-ops Prefix matching", `{ "time": [ { "prefix": "2017-10-02" } ] }`, `{"time": "2017-10-03T18:43:48Z"}`, false},
	{"region us", "EB-ops Begins with", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region":"us-east-1"}`, true},
	{"region eu", "EB-ops Begins with", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region":"eu-west-1"}`, false},
	{"prefix is case sensitive", "EB-ops Prefix matching", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region":"US-EAST-1"}`, false},
	{"prefix equal to value", "EB-ops Prefix matching", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region":"us-"}`, true},
	{"prefix longer than value", "EB-ops Prefix matching", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region":"us"}`, false},
	{"prefix only strings", "ER-README: prefix matches only work on string-valued fields", `{"n":[{"prefix":"1"}]}`, `{"n":12}`, false},
	{"prefix in array", "EB-arrays with EB-ops", `{"r":[{"prefix":"us-"}]}`, `{"r":["eu-west-1","us-west-2"]}`, true},
	{"prefix ignore case", "EB-ops Prefix matching while ignoring case", `{"detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]}}`, `{"detail":{"service":"EVENTBRIDGE"}}`, true},
	{"prefix ignore case lower", "EB-ops Prefix matching while ignoring case", `{"detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]}}`, `{"detail":{"service":"eventbus"}}`, true},
	{"prefix ignore case short", "EB-ops Prefix matching while ignoring case", `{"detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]}}`, `{"detail":{"service":"Event"}}`, false},
	{"prefix ignore case not at start", "EB-ops Prefix matching while ignoring case", `{"detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]}}`, `{"detail":{"service":"XEventBridge"}}`, false},
	{"prefix ignore case table", "EB-ops Begins with (ignore case)", `{"service" : [{ "prefix": { "equals-ignore-case": "eventb" }}]}`, `{"service":"EventBridge"}`, true},
}

var suffixCases = []matchCase{
	{"png", "EB-ops Suffix matching", `{ "FileName": [ { "suffix": ".png" } ] }`, `{"FileName":"image.png"}`, true},
	{"png case", "EB-ops Suffix matching", `{ "FileName": [ { "suffix": ".png" } ] }`, `{"FileName":"image.PNG"}`, false},
	{"png in middle", "EB-ops Suffix matching", `{ "FileName": [ { "suffix": ".png" } ] }`, `{"FileName":"image.png.txt"}`, false},
	{"ruler suffix", "ER-README Suffix matching", `{ "source": [ { "suffix": "ec2" } ] }`, rulerEvent, true},
	{"suffix only strings", "ER-README: suffix matches only work on string-valued fields", `{"n":[{"suffix":"2"}]}`, `{"n":12}`, false},
	{"suffix ignore case", "EB-ops Suffix matching while ignoring case", `{"detail": {"FileName" : [{ "suffix": { "equals-ignore-case": ".png" }}]}}`, `{"detail":{"FileName":"IMAGE.PNG"}}`, true},
	{"suffix ignore case mixed", "EB-ops Suffix matching while ignoring case", `{"detail": {"FileName" : [{ "suffix": { "equals-ignore-case": ".png" }}]}}`, `{"detail":{"FileName":"a.PnG"}}`, true},
	{"suffix ignore case other", "EB-ops Suffix matching while ignoring case", `{"detail": {"FileName" : [{ "suffix": { "equals-ignore-case": ".png" }}]}}`, `{"detail":{"FileName":"a.jpg"}}`, false},
	{"suffix ignore case table", "EB-ops Ends with (ignore case)", `{"service" : [{ "suffix": { "equals-ignore-case": "tBridge" }}]}`, `{"service":"EVENTBRIDGE"}`, true},
}

var ignoreCaseCases = []matchCase{
	{"alice", "EB-ops Equals (ignore case)", `{"Name": [ { "equals-ignore-case": "alice" } ]}`, `{"Name":"Alice"}`, true},
	{"ALICE", "EB-ops Equals (ignore case)", `{"Name": [ { "equals-ignore-case": "alice" } ]}`, `{"Name":"ALICE"}`, true},
	{"alicia", "EB-ops Equals (ignore case)", `{"Name": [ { "equals-ignore-case": "alice" } ]}`, `{"Name":"Alicia"}`, false},
	{"ruler EC2", "ER-README Equals-ignore-case matching", `{ "source": [ { "equals-ignore-case": "EC2" } ] }`, `{"source":"ec2"}`, true},
	{"ruler EC2 whole value", "ER-README Equals-ignore-case matching", `{ "source": [ { "equals-ignore-case": "EC2" } ] }`, rulerEvent, false},
	{"only strings", "ER-README: equals-ignore-case only works on string-valued fields", `{"n":[{"equals-ignore-case":"5"}]}`, `{"n":5}`, false},
	{"non-ascii", "EB-ops Equals (ignore case)", `{"k":[{"equals-ignore-case":"ÉTÉ"}]}`, `{"k":"été"}`, true},
}

var wildcardCases = []matchCase{
	{"ruler Simple*Service", "ER-README Wildcard matching", `{ "source": [ { "wildcard": "Simple*Service" } ] }`, `{"source":"SimpleQueueService"}`, true},
	{"star matches nothing", "ER-README Wildcard matching: zero to many characters", `{ "source": [ { "wildcard": "Simple*Service" } ] }`, `{"source":"SimpleService"}`, true},
	{"no suffix", "ER-README Wildcard matching", `{ "source": [ { "wildcard": "Simple*Service" } ] }`, `{"source":"SimpleQueue"}`, false},
	{"event bus arn", "EB-ops Wildcard matching", `{"EventBusArn": [ { "wildcard": "arn:aws:events:us-east-1:*:event-bus/*" } ]}`, `{"EventBusArn":"arn:aws:events:us-east-1:123456789012:event-bus/default"}`, true},
	{"event bus arn other region", "EB-ops Wildcard matching", `{"EventBusArn": [ { "wildcard": "arn:aws:events:us-east-1:*:event-bus/*" } ]}`, `{"EventBusArn":"arn:aws:events:us-west-2:123456789012:event-bus/default"}`, false},
	{"dir png", "EB-ops Wildcard matching", `{"FileName": [ { "wildcard": "dir/*.png" } ]}`, `{"FileName":"dir/sub/image.png"}`, true},
	{"dir png no", "EB-ops Wildcard matching", `{"FileName": [ { "wildcard": "dir/*.png" } ]}`, `{"FileName":"other/image.png"}`, false},
	{"several stars", "ER-README / event-ruler citylots WILDCARD rules", `{"m":[{"wildcard":"2*0*1*7"}]}`, `{"m":"2607117"}`, true},
	{"several stars no", "event-ruler citylots WILDCARD rules", `{"m":[{"wildcard":"2*0*1*7"}]}`, `{"m":"2607118"}`, false},
	{"lone star", "ER-README Wildcard matching", `{"m":[{"wildcard":"*"}]}`, `{"m":""}`, true},
	{"lone star any", "ER-README Wildcard matching", `{"m":[{"wildcard":"*"}]}`, `{"m":"anything"}`, true},
	{"no star is exact", "ER-README Wildcard matching", `{"m":[{"wildcard":"abc"}]}`, `{"m":"abcd"}`, false},
	{"backtracking", "ER-README Wildcard matching", `{"m":[{"wildcard":"*ab*ab*"}]}`, `{"m":"xabyab"}`, true},
	{"backtracking no", "ER-README Wildcard matching", `{"m":[{"wildcard":"*ab*ab*"}]}`, `{"m":"xaby"}`, false},
	{"escaped star literal", "ER-README: a wildcard character can be escaped with a backslash", `{"m":[{"wildcard":"a\\*b"}]}`, `{"m":"a*b"}`, true},
	{"escaped star not wild", "ER-README: escaped star", `{"m":[{"wildcard":"a\\*b"}]}`, `{"m":"axb"}`, false},
	{"escaped backslash", "ER-README: two backslashes represent the backslash", `{"m":[{"wildcard":"a\\\\b"}]}`, `{"m":"a\\b"}`, true},
	{"escaped backslash then star", "ER-README: two backslashes represent the backslash", `{"m":[{"wildcard":"a\\\\*"}]}`, `{"m":"a\\xyz"}`, true},
	{"only strings", "ER-README: wildcard only works on string-valued fields", `{"n":[{"wildcard":"1*"}]}`, `{"n":12}`, false},
	{"unicode", "ER-README Wildcard matching", `{"k":[{"wildcard":"é*é"}]}`, `{"k":"été"}`, true},
}

var anythingButCases = []matchCase{
	{"string other", "EB-ops Anything-but matching", `{"detail": {"state": [ { "anything-but": "initializing" } ]}}`, rulerEvent, true},
	{"string excluded", "EB-ops Anything-but matching", `{"detail": {"state": [ { "anything-but": "initializing" } ]}}`, `{"detail":{"state":"initializing"}}`, false},
	{"missing field", "EB-ops Anything-but: the field must be present", `{"detail": {"nope": [ { "anything-but": "initializing" } ]}}`, rulerEvent, false},
	{"null matches", "ANCHORS: anything-but matches a JSON null value", `{"detail": {"state": [ { "anything-but": "initializing" } ]}}`, `{"detail":{"state":null}}`, true},
	{"number vs string", "ER-compiler AnythingBut", `{"detail": {"state": [ { "anything-but": "initializing" } ]}}`, `{"detail":{"state":5}}`, true},
	{"number other", "EB-ops Anything-but matching", `{"detail": {"x-limit": [ { "anything-but": 123 } ]}}`, rulerEvent, true},
	{"number excluded", "EB-ops Anything-but matching", `{"detail": {"x-limit": [ { "anything-but": 123 } ]}}`, `{"detail":{"x-limit":123}}`, false},
	{"number excluded by value", "issue 2: numbers compare by value", `{"detail": {"x-limit": [ { "anything-but": 123 } ]}}`, `{"detail":{"x-limit":1.23e2}}`, false},
	{"string list other", "EB-ops Anything-but list of strings", `{"detail": {"state": [ { "anything-but": [ "stopped", "overloaded" ] } ]}}`, rulerEvent, true},
	{"string list excluded", "EB-ops Anything-but list of strings", `{"detail": {"state": [ { "anything-but": [ "stopped", "overloaded" ] } ]}}`, `{"detail":{"state":"overloaded"}}`, false},
	{"number list other", "EB-ops Anything-but list of numbers", `{"detail": {"x-limit": [ { "anything-but": [ 100, 200, 300 ] } ]}}`, rulerEvent, true},
	{"number list excluded", "EB-ops Anything-but list of numbers", `{"detail": {"x-limit": [ { "anything-but": [ 100, 200, 300 ] } ]}}`, `{"detail":{"x-limit":200}}`, false},
	{"prefix other", "EB-ops Anything-but prefix", `{"detail": {"state": [ { "anything-but": { "prefix": "init" } } ]}}`, rulerEvent, true},
	{"prefix excluded", "EB-ops Anything-but prefix", `{"detail": {"state": [ { "anything-but": { "prefix": "init" } } ]}}`, `{"detail":{"state":"initializing"}}`, false},
	{"prefix null", "ANCHORS: anything-but matches null", `{"detail": {"state": [ { "anything-but": { "prefix": "init" } } ]}}`, `{"detail":{"state":null}}`, true},
	{"region not us", "EB-ops Anything-but (begins with)", `{"Region": [ { "anything-but": {"prefix": "us-" } } ]}`, `{"Region":"eu-west-1"}`, true},
	{"region us", "EB-ops Anything-but (begins with)", `{"Region": [ { "anything-but": {"prefix": "us-" } } ]}`, `{"Region":"us-east-1"}`, false},
	{"suffix other", "EB-ops Anything-but (ends with)", `{"FileName": [ { "anything-but": { "suffix": ".png" } } ]}`, `{"FileName":"a.jpg"}`, true},
	{"suffix excluded", "EB-ops Anything-but (ends with)", `{"FileName": [ { "anything-but": { "suffix": ".png" } } ]}`, `{"FileName":"a.png"}`, false},
	{"ignore case excluded", "EB-ops Anything-but (ignore case)", `{"state": [{ "anything-but": { "equals-ignore-case": "initializing" }}]}`, `{"state":"INITIALIZING"}`, false},
	{"ignore case other", "EB-ops Anything-but (ignore case)", `{"state": [{ "anything-but": { "equals-ignore-case": "initializing" }}]}`, `{"state":"running"}`, true},
	{"ignore case list", "EB-ops Anything-but (ignore case) with a list", `{"state": [{ "anything-but": { "equals-ignore-case": ["Stopped", "overloaded"] }}]}`, `{"state":"STOPPED"}`, false},
	{"ignore case list other", "EB-ops Anything-but (ignore case) with a list", `{"state": [{ "anything-but": { "equals-ignore-case": ["Stopped", "overloaded"] }}]}`, `{"state":"running"}`, true},
	{"wildcard excluded", "EB-ops Anything-but using a wildcard", `{"FilePath" : [{ "anything-but": { "wildcard": "*/lib/*" }}]}`, `{"FilePath":"/usr/lib/libc.so"}`, false},
	{"wildcard other", "EB-ops Anything-but using a wildcard", `{"FilePath" : [{ "anything-but": { "wildcard": "*/lib/*" }}]}`, `{"FilePath":"/usr/bin/ls"}`, true},
	{"wildcard list", "EB-ops Anything-but using a wildcard (list)", `{"FilePath" : [{ "anything-but": { "wildcard": ["*/lib/*", "*/bin/*"] }}]}`, `{"FilePath":"/usr/bin/ls"}`, false},
	{"wildcard list other", "EB-ops Anything-but using a wildcard (list)", `{"FilePath" : [{ "anything-but": { "wildcard": ["*/lib/*", "*/bin/*"] }}]}`, `{"FilePath":"/etc/hosts"}`, true},
	{"array one other element", "EB-arrays: any element", `{"s":[{"anything-but":"a"}]}`, `{"s":["a","b"]}`, true},
	{"array all excluded", "EB-arrays: any element", `{"s":[{"anything-but":"a"}]}`, `{"s":["a"]}`, false},
	{"object is no leaf", "EB-ops: operators work on leaf nodes", `{"s":[{"anything-but":"a"}]}`, `{"s":{"t":"b"}}`, false},
	{"null parent", "ANCHORS: a null parent is a missing field", `{"p":{"s":[{"anything-but":"a"}]}}`, `{"p":null}`, false},
}

var numericCases = []matchCase{
	{"docs example", "EB-ops Numeric matching", `{
  "detail": {
    "c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ],
    "d-count": [ { "numeric": [ "<", 10 ] } ],
    "x-limit": [ { "numeric": [ "=", 3.018e2 ] } ]
  }
}`, rulerEvent, true},
	{"exclusive top", "EB-ops Numeric matching", `{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, rulerEvent, false},
	{"inclusive top", "EB-ops Numeric matching", `{"detail":{"c-count":[{"numeric":["<=",5]}]}}`, rulerEvent, true},
	{"inclusive bottom", "EB-ops Numeric matching", `{"detail":{"c-count":[{"numeric":[">=",5]}]}}`, rulerEvent, true},
	{"exclusive bottom", "EB-ops Numeric matching", `{"detail":{"c-count":[{"numeric":[">",5]}]}}`, rulerEvent, false},
	{"equals", "EB-ops Numeric matching", `{"detail":{"c-count":[{"numeric":["=",5]}]}}`, rulerEvent, true},
	{"equals other", "EB-ops Numeric matching", `{"detail":{"c-count":[{"numeric":["=",4]}]}}`, rulerEvent, false},
	{"only numbers", "EB-ops: numeric matching works with values that are JSON numbers", `{"n":[{"numeric":[">",0]}]}`, `{"n":"5"}`, false},
	{"null no", "EB-ops Numeric matching", `{"n":[{"numeric":[">",0]}]}`, `{"n":null}`, false},
	{"negative", "issue 2: negatives", `{"n":[{"numeric":["<",-5]}]}`, `{"n":-10}`, true},
	{"negative no", "issue 2: negatives", `{"n":[{"numeric":[">",-5]}]}`, `{"n":-10}`, false},
	{"negative range", "issue 2: negatives", `{"n":[{"numeric":[">=",-10.5,"<",-10]}]}`, `{"n":-10.25}`, true},
	{"decimal", "issue 2: decimals", `{"n":[{"numeric":["=",0.1]}]}`, `{"n":0.1}`, true},
	{"decimal range", "issue 2: decimals", `{"n":[{"numeric":[">",0.29999,"<",0.30001]}]}`, `{"n":0.3}`, true},
	{"exponent", "issue 2: exponent forms", `{"n":[{"numeric":["=",5]}]}`, `{"n":5e0}`, true},
	{"exponent negative", "issue 2: exponent forms", `{"n":[{"numeric":["=",0.05]}]}`, `{"n":5E-2}`, true},
	{"huge", "issue 2: float64's full range", `{"n":[{"numeric":[">",1e299]}]}`, `{"n":1e300}`, true},
	{"huge no", "issue 2: float64's full range", `{"n":[{"numeric":["<",1e299]}]}`, `{"n":1e300}`, false},
	{"max float", "issue 2: float64's full range", `{"n":[{"numeric":[">=",1.7976931348623157e308]}]}`, `{"n":1.7976931348623157e308}`, true},
	{"min float", "issue 2: float64's full range", `{"n":[{"numeric":["<",-1e308]}]}`, `{"n":-1.7976931348623157e308}`, true},
	{"tiny", "issue 2: float64's full range", `{"n":[{"numeric":[">",0,"<",1e-300]}]}`, `{"n":4.9e-324}`, true},
	{"tiny written shortest", "event-ruler: Java writes the smallest float64 4.9E-324, so 5e-324 is compared by its text only", `{"n":[{"numeric":[">",0,"<",1e-300]}]}`, `{"n":5e-324}`, false},
	{"beyond 5e9", "issue 2: float64's full range (older event-ruler stopped at 5e9)", `{"n":[{"numeric":[">",1e10]}]}`, `{"n":12345678901}`, true},
	{"too many digits", "ANCHORS: -122.422003528252475 is not compared numerically", `{"x":[{"numeric":["<",0]}]}`, `{"x":-122.422003528252475}`, false},
	{"shortest digits", "ANCHORS: its float64's shortest text is compared", `{"x":[{"numeric":["<",0]}]}`, `{"x":-122.42200352825247}`, true},
	{"trailing zeros compare", "issue 2: 0.1 is compared (decimal value equal to shortest text)", `{"x":[{"numeric":["=",0.1]}]}`, `{"x":0.1000}`, true},
	{"2^53+1 not compared", "issue 2 / ANCHORS: more digits than a float64 holds", `{"x":[{"numeric":[">",0]}]}`, `{"x":9007199254740993}`, false},
	{"2^53 compared", "issue 2 / ANCHORS", `{"x":[{"numeric":[">",0]}]}`, `{"x":9007199254740992}`, true},
	{"array any element", "EB-arrays with EB-ops Numeric", `{"x":[{"numeric":[">",10]}]}`, `{"x":[1,20]}`, true},
	{"array no element", "EB-arrays with EB-ops Numeric", `{"x":[{"numeric":[">",10]}]}`, `{"x":[1,2]}`, false},
	{"range both ends", "EB-ops Numeric matching", `{"x":[{"numeric":[">=",10,"<",20]}]}`, `{"x":10}`, true},
	{"range both ends top", "EB-ops Numeric matching", `{"x":[{"numeric":[">=",10,"<",20]}]}`, `{"x":20}`, false},
	{"minus zero equals zero", "issue 2: -0 = 0", `{"x":[{"numeric":["=",0]}]}`, `{"x":-0.0}`, true},
	{"exact number also numeric", "ER-compiler writeRules: numericEquals plus literal", `{"x":[300]}`, `{"x":3e2}`, true},
}

var existsCases = []matchCase{
	{"exists true", "ER-README Exists matching", `{"detail": {"c-count": [ { "exists": true  } ]}}`, rulerEvent, true},
	{"exists false present", "ER-README Exists matching", `{"detail": {"c-count": [ { "exists": false  } ]}}`, rulerEvent, false},
	{"exists false missing", "EB-ops Exists matching (first example)", `{"detail": {"c-count": [ { "exists": false  } ]}}`, `{
  "detail-type": [ "EC2 Instance State-change Notification" ],
  "resources": [ "arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341" ],
  "detail": {
    "state": [ "initializing", "running" ]
  }
}`, true},
	{"exists false object", "EB-ops Exists matching: c-count isn't a leaf node", `{"detail": {"c-count": [ { "exists": false  } ]}}`, existsEvent, true},
	{"exists true object", "EB-ops Exists matching: only leaf nodes", `{"detail": {"c-count": [ { "exists": true  } ]}}`, existsEvent, false},
	{"exists true null", "EB-values: null is a value", `{"a":[{"exists":true}]}`, `{"a":null}`, true},
	{"exists false null", "EB-values: null is a value", `{"a":[{"exists":false}]}`, `{"a":null}`, false},
	{"exists true empty string", "EB-values", `{"a":[{"exists":true}]}`, `{"a":""}`, true},
	{"exists true array", "EB-arrays", `{"a":[{"exists":true}]}`, `{"a":[1]}`, true},
	{"exists true empty array", "ER-README: an empty array has no leaf", `{"a":[{"exists":true}]}`, `{"a":[]}`, false},
	{"exists false empty array", "ER-README: an empty array has no leaf", `{"a":[{"exists":false}]}`, `{"a":[]}`, true},
	{"exists false missing parent", "EB-ops Exists matching", `{"p":{"a":[{"exists":false}]}}`, `{"q":1}`, true},
	{"exists false null parent", "ANCHORS: a null parent counts as a missing field", `{"p":{"a":[{"exists":false}]}}`, `{"p":null}`, true},
	{"exists true null parent", "ANCHORS: a null parent counts as a missing field", `{"p":{"a":[{"exists":true}]}}`, `{"p":null}`, false},
	{"exists false scalar parent", "EB-syntax nesting", `{"p":{"a":[{"exists":false}]}}`, `{"p":"x"}`, true},
	{"exists or value missing", "EB-syntax alternatives with EB-ops Exists", `{"a":["x",{"exists":false}]}`, `{"b":1}`, true},
	{"exists or value x", "EB-syntax alternatives with EB-ops Exists", `{"a":["x",{"exists":false}]}`, `{"a":"x"}`, true},
	{"exists or value y", "EB-syntax alternatives with EB-ops Exists", `{"a":["x",{"exists":false}]}`, `{"a":"y"}`, false},
	{"exists with sibling", "EB-ops Exists matching", `{"source":["aws.ec2"],"detail":{"nope":[{"exists":false}],"state":[{"exists":true}]}}`, rulerEvent, true},
}

var cidrCases = []matchCase{
	{"ruler cidr", "ER-README IP Address Matching", `{"detail": {"source-ip": [ { "cidr": "10.0.0.0/24" } ]}}`, rulerEvent, true},
	{"docs cidr", "EB-ops IP address matching", `{"detail": {"sourceIPAddress": [ { "cidr": "10.0.0.0/24" } ]}}`, `{"detail":{"sourceIPAddress":"10.0.0.255"}}`, true},
	{"outside", "EB-ops IP address matching", `{"detail": {"sourceIPAddress": [ { "cidr": "10.0.0.0/24" } ]}}`, `{"detail":{"sourceIPAddress":"10.0.1.0"}}`, false},
	{"wide", "EB-ops IP address matching", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"10.200.3.4"}`, true},
	{"ipv6", "ER-README: this also works with IPv6", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db8::1"}`, true},
	{"ipv6 long form", "ER-README: IPv6", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:0db8:0000:0000:0000:0000:0000:00ff"}`, true},
	{"ipv6 outside", "ER-README: IPv6", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db9::1"}`, false},
	{"not an ip", "EB-ops IP address matching", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"hello"}`, false},
	{"number", "EB-ops IP address matching", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":10}`, false},
	{"v4 vs v6 prefix", "ER-README: IPv6", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"10.0.0.1"}`, false},
	{"in array", "EB-arrays", `{"ip":[{"cidr":"192.168.0.0/16"}]}`, `{"ip":["10.0.0.1","192.168.4.4"]}`, true},
}

var orCases = []matchCase{
	{"normal or metricName", "ER-README $or Normal", `{
  "source": [ "aws.cloudwatch" ],
  "$or": [
    { "metricName": [ "CPUUtilization", "ReadLatency" ] },
    { "namespace": [ "AWS/EC2", "AWS/ES" ] }
  ]
}`, `{"source":"aws.cloudwatch","metricName":"CPUUtilization"}`, true},
	{"normal or namespace", "ER-README $or Normal", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`, `{"source":"aws.cloudwatch","namespace":"AWS/ES"}`, true},
	{"normal or neither", "ER-README $or Normal", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`, `{"source":"aws.cloudwatch","metricName":"Other"}`, false},
	{"normal or wrong source", "ER-README $or Normal", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`, `{"source":"aws.ec2","metricName":"CPUUtilization"}`, false},
	{"parallel or", "ER-README $or Parallel", `{
  "$or": [
    { "metricName": [ "CPUUtilization", "ReadLatency" ] },
    { "namespace": [ "AWS/EC2", "AWS/ES" ] }
  ],
  "detail" : {
    "$or": [
      { "source": [ "aws.cloudwatch" ] },
      { "detail-type": [ "CloudWatch Alarm State Change"] }
    ]
  }
}`, `{"namespace":"AWS/EC2","detail":{"detail-type":"CloudWatch Alarm State Change"}}`, true},
	{"parallel or one side", "ER-README $or Parallel", `{"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["CloudWatch Alarm State Change"]}]}}`, `{"namespace":"AWS/EC2","detail":{"source":"aws.ec2"}}`, false},
	{"or with and", "ER-README $or has an And inside", `{
  "source": [ "aws.cloudwatch" ],
  "$or": [
    { "metricName": [ "CPUUtilization", "ReadLatency" ] },
    {
      "metricType": [ "MetricType" ] ,
      "namespace": [ "AWS/EC2", "AWS/ES" ]
    },
    { "scope": [ "Service" ] }
  ]
}`, `{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2"}`, true},
	{"or with and half", "ER-README $or has an And inside", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"]},{"scope":["Service"]}]}`, `{"source":"aws.cloudwatch","metricType":"MetricType"}`, false},
	{"or with and scope", "ER-README $or has an And inside", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"]},{"scope":["Service"]}]}`, `{"source":"aws.cloudwatch","scope":"Service"}`, true},
	{"nested or", "ER-README Nested Or and And", `{
  "source": [ "aws.cloudwatch" ],
  "$or": [
    { "metricName": [ "CPUUtilization", "ReadLatency" ] },
    {
      "metricType": [ "MetricType" ] ,
      "namespace": [ "AWS/EC2", "AWS/ES" ],
      "$or" : [
        { "metricId": [ 1234 ] },
        { "spaceId": [ 1000 ] }
      ]
    },
    { "scope": [ "Service" ] }
  ]
}`, `{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/ES","spaceId":1000}`, true},
	{"nested or missing inner", "ER-README Nested Or and And", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]},{"scope":["Service"]}]}`, `{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/ES","spaceId":1001}`, false},
	{"or inside detail", "ER-compiler parseIntoOrRelationship example", `{
  "detail": {
    "$or" : [
      {"c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ]},
      {"d-count": [ { "numeric": [ "<", 10 ] } ]},
      {"x-limit": [ { "numeric": [ "=", 3.018e2 ] } ]}
    ]
  }
}`, rulerEvent, true},
	{"or inside detail none", "ER-compiler parseIntoOrRelationship example", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}`, `{"detail":{"c-count":100,"d-count":100,"x-limit":1}}`, false},
	{"or in array element", "ER-README array consistency with $or", `{"items":{"$or":[{"a":["1"]},{"b":["2"]}],"c":["3"]}}`, `{"items":[{"a":"1"},{"b":"2","c":"3"}]}`, true},
	{"or in array element split", "ER-README array consistency with $or", `{"items":{"$or":[{"a":["1"]},{"b":["2"]}],"c":["3"]}}`, `{"items":[{"a":"1"},{"c":"3"}]}`, false},
	{"or with exists", "EB-ops $or with Exists", `{"$or":[{"a":[{"exists":false}]},{"b":["x"]}]}`, `{"a":1,"b":"x"}`, true},
	{"or branch and sibling in one element", "ER-compiler: $or expands into sub-rules, each matched array-consistently", `{"$or":[{"items":{"a":["z"]}},{"source":["aws.s3"]}],"items":{"b":[3]}}`, `{"items":[{"a":"z","b":3}]}`, true},
	{"or branch and sibling in two elements", "ER-compiler: $or expands into sub-rules, each matched array-consistently", `{"$or":[{"items":{"a":["z"]}},{"source":["aws.s3"]}],"items":{"b":[3]}}`, `{"items":[{"a":"z"},{"b":3}]}`, false},
	{"or other branch with array", "ER-compiler: $or expands into sub-rules", `{"$or":[{"items":{"a":["z"]}},{"source":["aws.s3"]}],"items":{"b":[3]}}`, `{"source":"aws.s3","items":[{"a":"z"},{"b":3}]}`, true},
}

var complexCases = []matchCase{
	{"complex example", "EB-ops Complex example / ER-README Complex example", `{
  "time": [ { "prefix": "2017-10-02" } ],
  "detail": {
    "state": [ { "anything-but": "initializing" } ],
    "c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ],
    "d-count": [ { "numeric": [ "<", 10 ] } ],
    "x-limit": [ { "anything-but": [ 100, 200, 300 ] } ],
    "source-ip": [ { "cidr": "10.0.0.0/8" } ]
  }
}`, rulerEvent, true},
	{"complex example one fails", "EB-ops Complex example", `{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"running"}],"c-count":[{"numeric":[">",0,"<=",5]}]}}`, rulerEvent, false},
	{"ec2 termination", "EB-syntax example", `{
  "source": ["aws.ec2"],
  "detail-type": ["EC2 Instance State-change Notification"],
  "detail": {
    "state": ["terminated"]
  }
}`, `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"us-west-1","resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance-id":"i-1234567890abcdef0","state":"terminated"}}`, true},
	{"mixed alternatives", "EB-syntax alternatives of different operators", `{"a":["x",{"prefix":"ab"},{"numeric":[">",10]},null]}`, `{"a":[5,"abc"]}`, true},
	{"mixed alternatives none", "EB-syntax alternatives of different operators", `{"a":["x",{"prefix":"ab"},{"numeric":[">",10]},null]}`, `{"a":[5,"b"]}`, false},
}

var matchFamilies = []struct {
	name  string
	cases []matchCase
}{
	{"exact", exactCases},
	{"keys", keyCases},
	{"arrays", arrayCases},
	{"prefix", prefixCases},
	{"suffix", suffixCases},
	{"equals-ignore-case", ignoreCaseCases},
	{"wildcard", wildcardCases},
	{"anything-but", anythingButCases},
	{"numeric", numericCases},
	{"exists", existsCases},
	{"cidr", cidrCases},
	{"or", orCases},
	{"complex", complexCases},
}

// TestPatternSemantics runs every documented case through MatchPattern,
// ParsePattern+Match and a Matcher holding the pattern among others.
func TestPatternSemantics(t *testing.T) {
	for _, fam := range matchFamilies {
		t.Run(fam.name, func(t *testing.T) {
			for _, c := range fam.cases {
				t.Run(c.name, func(t *testing.T) {
					got, err := MatchPattern([]byte(c.pattern), []byte(c.event))
					require.NoError(t, err, "MatchPattern\nsource: %s\npattern: %s", c.source, c.pattern)
					require.Equal(t, c.want, got, "MatchPattern\nsource: %s\npattern: %s\nevent: %s", c.source, c.pattern, c.event)
					p, err := ParsePattern([]byte(c.pattern))
					require.NoError(t, err, "ParsePattern")
					got, err = p.Match([]byte(c.event))
					require.NoError(t, err, "Pattern.Match")
					require.Equal(t, c.want, got, "Pattern.Match")
					m := NewMatcher()
					for id, other := range map[string]string{"other-exact": `{"zz":["q"]}`, "other-prefix": `{"source":[{"prefix":"zzz"}]}`} {
						require.NoError(t, m.Add(id, []byte(other)), "Add %s", id)
					}
					require.NoError(t, m.Add("p", []byte(c.pattern)), "Matcher.Add")
					ids, err := m.Match([]byte(c.event))
					require.NoError(t, err, "Matcher.Match")
					if c.want {
						require.Contains(t, ids, "p", "Matcher.Match")
					} else {
						require.NotContains(t, ids, "p", "Matcher.Match")
					}
				})
			}
		})
	}
}

// TestReferenceAgreesWithDocumentedCases checks the reference interpreter
// itself against the documented cases; it does not use the engine.
func TestReferenceAgreesWithDocumentedCases(t *testing.T) {
	n := 0
	for _, fam := range matchFamilies {
		for _, c := range fam.cases {
			n++
			got, err := refMatch([]byte(c.pattern), []byte(c.event))
			if assert.NoError(t, err, "%s/%s: reference", fam.name, c.name) {
				assert.Equal(t, c.want, got, "%s/%s: reference (%s)", fam.name, c.name, c.source)
			}
		}
	}
	assert.GreaterOrEqual(t, n, 200, "documented cases")
}

// TestMatchEventNotObject: Match fails only when the event is not a JSON object.
func TestMatchEventNotObject(t *testing.T) {
	p, err := ParsePattern([]byte(`{"a":["x"]}`))
	require.NoError(t, err)
	for _, ev := range []string{``, `[]`, `[{"a":"x"}]`, `"x"`, `5`, `null`, `true`, `{`, `{"a":"x"`, `{"a":}`, `{"a":"x"} trailing`, `{"a" "x"}`} {
		ok, err := p.Match([]byte(ev))
		assert.Error(t, err, "Match(%q) = %v", ev, ok)
		m := NewMatcher()
		require.NoError(t, m.Add("p", []byte(`{"a":["x"]}`)))
		ids, err := m.Match([]byte(ev))
		assert.Error(t, err, "Matcher.Match(%q) = %v", ev, ids)
	}
	for _, ev := range []string{`{}`, ` {"b":1} `, `{"a":"y"}`} {
		ok, err := p.Match([]byte(ev))
		assert.NoError(t, err, "Match(%q)", ev)
		assert.False(t, ok, "Match(%q)", ev)
	}
}

// TestPatternErrorMessage checks the error type and the message format of the issue.
func TestPatternErrorMessage(t *testing.T) {
	_, err := ParsePattern([]byte(`{"detail":{"price":[{"numeric":[">","abc"]}]}}`))
	var pe *PatternError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "detail.price", pe.Path, "Path")
	assert.True(t, strings.HasPrefix(err.Error(), "event pattern: detail.price: "), "message %q lacks the prefix", err.Error())
	assert.Contains(t, pe.Reason, "numeric", "the reason names the operator")
	assert.Contains(t, pe.Reason, "abc", "the reason names the bad operand")
	_, err = MatchPattern([]byte(`{"a":"x"}`), []byte(`{"a":"x"}`))
	assert.ErrorAs(t, err, &pe, "MatchPattern with a bad pattern")
	m := NewMatcher()
	assert.ErrorAs(t, m.Add("bad", []byte(`{"a":[]}`)), &pe, "Matcher.Add with a bad pattern")
}

type badCase struct {
	name    string
	source  string
	pattern string
	path    string // the expected PatternError.Path; "-" leaves it unchecked
}

var badPatternCases = []badCase{
	// Not a JSON object.
	{"empty input", "EB-syntax: a pattern is a JSON object", ``, ""},
	{"array", "ER-compiler: Filter is not an object", `[]`, ""},
	{"string", "ER-compiler: Filter is not an object", `"x"`, ""},
	{"number", "ER-compiler: Filter is not an object", `5`, ""},
	{"null", "ER-compiler: Filter is not an object", `null`, ""},
	{"true", "ER-compiler: Filter is not an object", `true`, ""},
	{"truncated", "EB-syntax: valid JSON", `{"a":["x"]`, "-"},
	{"bad token", "EB-syntax: valid JSON", `{"a":[x]}`, "-"},
	{"trailing data", "EB-syntax: valid JSON", `{"a":["x"]} x`, "-"},
	{"two objects", "EB-syntax: valid JSON", `{"a":["x"]}{"b":["y"]}`, "-"},
	{"empty pattern", "ER-compiler: Empty objects are not allowed", `{}`, ""},
	// Structure.
	{"scalar leaf", "ER-compiler: must be an object or an array", `{"a":"x"}`, "a"},
	{"number leaf", "ER-compiler: must be an object or an array", `{"a":5}`, "a"},
	{"null leaf", "ER-compiler: must be an object or an array", `{"a":null}`, "a"},
	{"bool leaf", "ER-compiler: must be an object or an array", `{"a":true}`, "a"},
	{"empty list", "ER-compiler: Empty arrays are not allowed", `{"a":[]}`, "a"},
	{"empty nested object", "ER-compiler: Empty objects are not allowed", `{"a":{}}`, "a"},
	{"nested empty list", "ER-compiler: Empty arrays are not allowed", `{"a":{"b":[]}}`, "a.b"},
	{"array in list", "ER-compiler: match value must be string, number, true, false or null", `{"a":[["x"]]}`, "a"},
	// Operators.
	{"empty operator", "ER-compiler: Match expression name not found", `{"a":[{}]}`, "a"},
	{"unknown operator", "ER-compiler: Unrecognized match type", `{"a":[{"foo":"x"}]}`, "a"},
	{"misspelled operator", "ER-compiler: Unrecognized match type", `{"a":[{"Prefix":"x"}]}`, "a"},
	{"two operators", "ER-compiler: Only one key allowed in match expression", `{"a":[{"prefix":"x","suffix":"y"}]}`, "a"},
	{"prefix number", "ER-compiler: prefix match pattern must be a string", `{"a":[{"prefix":5}]}`, "a"},
	{"prefix null", "ER-compiler: prefix match pattern must be a string", `{"a":[{"prefix":null}]}`, "a"},
	{"prefix list", "ER-compiler: prefix match pattern must be a string", `{"a":[{"prefix":["x"]}]}`, "a"},
	{"prefix bad object", "EB-ops Prefix matching while ignoring case", `{"a":[{"prefix":{"foo":"x"}}]}`, "a"},
	{"prefix ignore case number", "EB-ops Prefix matching while ignoring case", `{"a":[{"prefix":{"equals-ignore-case":5}}]}`, "a"},
	{"prefix ignore case two keys", "ER-compiler: Only one key allowed", `{"a":[{"prefix":{"equals-ignore-case":"x","foo":"y"}}]}`, "a"},
	{"suffix number", "ER-compiler: suffix match pattern must be a string", `{"a":[{"suffix":5}]}`, "a"},
	{"ignore case number", "ER-compiler: equals-ignore-case match pattern must be a string", `{"a":[{"equals-ignore-case":5}]}`, "a"},
	{"ignore case list", "ER-compiler: equals-ignore-case match pattern must be a string", `{"a":[{"equals-ignore-case":["x"]}]}`, "a"},
	{"wildcard number", "ER-compiler: wildcard match pattern must be a string", `{"a":[{"wildcard":5}]}`, "a"},
	{"wildcard consecutive stars", "ER-README: consecutive wildcard characters are not allowed", `{"a":[{"wildcard":"a**b"}]}`, "a"},
	{"wildcard bad escape", "ER-README: a backslash escaping any other character is not allowed", `{"a":[{"wildcard":"a\\b"}]}`, "a"},
	{"wildcard trailing backslash", "ER-README: a backslash must escape * or \\", `{"a":[{"wildcard":"ab\\"}]}`, "a"},
	{"exists string", "ER-compiler: exists match pattern must be either true or false", `{"a":[{"exists":"true"}]}`, "a"},
	{"exists number", "ER-compiler: exists match pattern must be either true or false", `{"a":[{"exists":1}]}`, "a"},
	{"exists null", "ER-compiler: exists match pattern must be either true or false", `{"a":[{"exists":null}]}`, "a"},
	{"cidr number", "ER-compiler: cidr must be a string", `{"a":[{"cidr":5}]}`, "a"},
	{"cidr no slash", "ER-compiler CIDR: Malformed CIDR, one '/' required", `{"a":[{"cidr":"10.0.0.0"}]}`, "a"},
	{"cidr two slashes", "ER-compiler CIDR: Malformed CIDR, one '/' required", `{"a":[{"cidr":"10.0.0.0/8/8"}]}`, "a"},
	{"cidr bad bits", "ER-compiler CIDR: mask bits must be an integer", `{"a":[{"cidr":"10.0.0.0/abc"}]}`, "a"},
	{"cidr negative bits", "ER-compiler CIDR: mask bits must not be negative", `{"a":[{"cidr":"10.0.0.0/-1"}]}`, "a"},
	{"cidr v4 too many bits", "ER-compiler CIDR: IPv4 mask bits", `{"a":[{"cidr":"10.0.0.0/33"}]}`, "a"},
	{"cidr v6 too many bits", "ER-compiler CIDR: IPv6 mask bits", `{"a":[{"cidr":"2001:db8::/129"}]}`, "a"},
	{"cidr bad address", "ER-compiler CIDR: Invalid IP address", `{"a":[{"cidr":"300.1.1.1/8"}]}`, "a"},
	{"cidr hostname", "ER-compiler CIDR: Invalid IP address", `{"a":[{"cidr":"example.com/8"}]}`, "a"},
	{"cidr empty", "ER-compiler CIDR", `{"a":[{"cidr":""}]}`, "a"},
	{"numeric not list", "ER-compiler: Value of numeric must be an array", `{"a":[{"numeric":5}]}`, "a"},
	{"numeric empty", "ER-compiler: Invalid member in numeric match", `{"a":[{"numeric":[]}]}`, "a"},
	{"numeric no operand", "ER-compiler: Value of > must be numeric", `{"a":[{"numeric":[">"]}]}`, "a"},
	{"numeric issue example", "issue 2: detail.price: numeric: \">\" needs a number, got \"abc\"", `{"detail":{"price":[{"numeric":[">","abc"]}]}}`, "detail.price"},
	{"numeric string number", "ER-compiler: Value of > must be numeric", `{"a":[{"numeric":[">","5"]}]}`, "a"},
	{"numeric null operand", "ER-compiler: Value of > must be numeric", `{"a":[{"numeric":[">",null]}]}`, "a"},
	{"numeric unknown operator", "ER-compiler: Unrecognized numeric range operator", `{"a":[{"numeric":["!=",5]}]}`, "a"},
	{"numeric operand first", "ER-compiler: Invalid member in numeric match", `{"a":[{"numeric":[5,">"]}]}`, "a"},
	{"numeric equals range", "ER-compiler: = takes one operand", `{"a":[{"numeric":["=",5,"<",6]}]}`, "a"},
	{"numeric upper then lower", "ER-compiler: < and <= end a range", `{"a":[{"numeric":["<",5,">",1]}]}`, "a"},
	{"numeric two lower", "ER-compiler: Bad numeric range operator", `{"a":[{"numeric":[">",1,">",5]}]}`, "a"},
	{"numeric inverted", "ER-compiler Range.between: bottom must be below top", `{"a":[{"numeric":[">",5,"<",1]}]}`, "a"},
	{"numeric too many", "ER-compiler: Too many terms in numeric range expression", `{"a":[{"numeric":[">",1,"<",5,"<",6]}]}`, "a"},
	{"numeric missing operator", "ER-compiler: Bad value in numeric range", `{"a":[{"numeric":[">",1,5]}]}`, "a"},
	{"anything-but empty list", "ER-compiler: either all values are number or string", `{"a":[{"anything-but":[]}]}`, "a"},
	{"anything-but mixed list", "ER-compiler: mixed type is not supported", `{"a":[{"anything-but":["x",1]}]}`, "a"},
	{"anything-but null list", "ER-compiler: null|boolean is not supported", `{"a":[{"anything-but":[null]}]}`, "a"},
	{"anything-but bool list", "ER-compiler: null|boolean is not supported", `{"a":[{"anything-but":[true]}]}`, "a"},
	{"anything-but bool", "ER-compiler: must be an array or single string/number value", `{"a":[{"anything-but":true}]}`, "a"},
	{"anything-but null", "ER-compiler: must be an array or single string/number value", `{"a":[{"anything-but":null}]}`, "a"},
	{"anything-but nested list", "ER-compiler: start is not supported", `{"a":[{"anything-but":[["x"]]}]}`, "a"},
	{"anything-but empty object", "ER-compiler: Anything-But expression name not found", `{"a":[{"anything-but":{}}]}`, "a"},
	{"anything-but unknown", "ER-compiler: Unsupported anything-but pattern", `{"a":[{"anything-but":{"foo":"x"}}]}`, "a"},
	{"anything-but exists", "ER-compiler: Unsupported anything-but pattern", `{"a":[{"anything-but":{"exists":true}}]}`, "a"},
	{"anything-but numeric", "ER-compiler: Unsupported anything-but pattern", `{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "a"},
	{"anything-but empty prefix", "ER-compiler: Null prefix/suffix not allowed", `{"a":[{"anything-but":{"prefix":""}}]}`, "a"},
	{"anything-but empty suffix", "ER-compiler: Null prefix/suffix not allowed", `{"a":[{"anything-but":{"suffix":""}}]}`, "a"},
	{"anything-but prefix number", "ER-compiler: prefix/suffix match pattern must be a string", `{"a":[{"anything-but":{"prefix":5}}]}`, "a"},
	{"anything-but two keys", "ER-compiler: Only one key allowed in match expression", `{"a":[{"anything-but":{"prefix":"a","suffix":"b"}}]}`, "a"},
	{"anything-but ignore case number", "ER-compiler: number is not supported", `{"a":[{"anything-but":{"equals-ignore-case":5}}]}`, "a"},
	{"anything-but ignore case number list", "ER-compiler: numberic is not supported", `{"a":[{"anything-but":{"equals-ignore-case":[1]}}]}`, "a"},
	{"anything-but bad wildcard", "ER-README: consecutive wildcard characters are not allowed", `{"a":[{"anything-but":{"wildcard":"a**"}}]}`, "a"},
	{"anything-but wildcard number", "EB-ops Anything-but using a wildcard", `{"a":[{"anything-but":{"wildcard":5}}]}`, "a"},
	{"anything-but extra key", "ER-compiler: Too many elements", `{"a":[{"anything-but":"x","prefix":"y"}]}`, "a"},
	// $or.
	{"or one branch", "ER-compiler: There must have at least 2 Objects in $or", `{"$or":[{"a":["x"]}]}`, "-"},
	{"or empty", "ER-compiler: There must have at least 2 Objects in $or", `{"$or":[]}`, "-"},
	{"or object", "ER-compiler: It must be an Array followed with $or", `{"$or":{"a":["x"]}}`, "-"},
	{"or scalar branch", "ER-compiler: Only JSON object is allowed in array of $or", `{"$or":[{"a":["x"]},"b"]}`, "-"},
	{"or empty branch", "ER-compiler: Empty objects are not allowed", `{"$or":[{"a":["x"]},{}]}`, "-"},
	{"or reserved names", "ER-README: no field name using Ruler keywords in $or objects", `{"$or":[{"numeric":[">",1]},{"prefix":["abc"]}]}`, "-"},
	{"or bad branch", "ER-compiler", `{"$or":[{"a":["x"]},{"b":[]}]}`, "-"},
}

// TestParsePatternRejects checks that every pattern EventBridge rejects is
// rejected with a *PatternError that names the offending field.
func TestParsePatternRejects(t *testing.T) {
	for _, c := range badPatternCases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePattern([]byte(c.pattern))
			require.Error(t, err, "ParsePattern(%s) accepted (%v)\nsource: %s", c.pattern, p, c.source)
			var pe *PatternError
			require.ErrorAs(t, err, &pe)
			assert.NotEmpty(t, pe.Reason, "Reason in %v", err)
			if c.path != "-" {
				assert.Equal(t, c.path, pe.Path, "Path (err: %v)", err)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "event pattern: "), "message %q lacks the prefix", err.Error())
			assert.ErrorAs(t, NewMatcher().Add("x", []byte(c.pattern)), &pe, "Matcher.Add")
		})
	}
}

// orProduct builds a pattern whose $or expands to the product of the sizes:
// one $or at the top, and one below each of the fields l1, l2, ...
func orProduct(sizes ...int) string {
	var b strings.Builder
	b.WriteString("{")
	for level, n := range sizes {
		if level > 0 {
			b.WriteString(`,"l` + string(rune('0'+level)) + `":{`)
		}
		b.WriteString(`"$or":[`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"f` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":["v"]}`)
		}
		b.WriteString("]")
		if level > 0 {
			b.WriteString("}")
		}
	}
	b.WriteString("}")
	return b.String()
}

// TestOrCombinationLimit: a pattern whose $or expands to more than 1000
// combinations is rejected (EB-ops $or matching; issue 2).
func TestOrCombinationLimit(t *testing.T) {
	ok := orProduct(10, 10, 10)
	_, err := ParsePattern([]byte(ok))
	assert.NoError(t, err, "1000 combinations")
	tooMany := orProduct(10, 10, 11)
	_, err = ParsePattern([]byte(tooMany))
	var pe *PatternError
	assert.ErrorAs(t, err, &pe, "1100 combinations")
	// The reference agrees that the 1000-combination pattern is an AND of three ORs.
	ev := `{"faa":"v","l1":{"fja":"v"},"l2":{"fca":"v"}}`
	got, err := refMatch([]byte(ok), []byte(ev))
	assert.NoError(t, err, "reference on the 1000-combination pattern")
	assert.True(t, got, "reference on the 1000-combination pattern")
	got, err = MatchPattern([]byte(ok), []byte(ev))
	assert.NoError(t, err, "MatchPattern on the 1000-combination pattern")
	assert.True(t, got, "MatchPattern on the 1000-combination pattern")
	got, err = MatchPattern([]byte(ok), []byte(`{"faa":"v","l1":{"fja":"v"}}`))
	assert.NoError(t, err, "MatchPattern with one $or unmet")
	assert.False(t, got, "MatchPattern with one $or unmet")
}

// TestPatternSizeLimit: patterns over 4,096 bytes are rejected by default
// (EventBridge quota for an event pattern's length; issue 2).
func TestPatternSizeLimit(t *testing.T) {
	mk := func(n int) string {
		const frame = `{"a":[""]}`
		return `{"a":["` + strings.Repeat("x", n-len(frame)) + `"]}`
	}
	require.Len(t, mk(4096), 4096, "built bytes")
	_, err := ParsePattern([]byte(mk(4000)))
	assert.NoError(t, err, "4,000-byte pattern")
	_, err = ParsePattern([]byte(mk(5000)))
	var pe *PatternError
	assert.ErrorAs(t, err, &pe, "5,000-byte pattern")
	// Deep nesting: far past any limit (and the size), must fail cleanly.
	deep := strings.Repeat(`{"a":`, 100000) + `["x"]` + strings.Repeat("}", 100000)
	_, err = ParsePattern([]byte(deep))
	assert.ErrorAs(t, err, &pe, "deeply nested pattern")
	// Nesting within the size limit: either accepted or a PatternError, never a panic.
	nested := strings.Repeat(`{"a":`, 500) + `["x"]` + strings.Repeat("}", 500)
	if p, err := ParsePattern([]byte(nested)); err != nil {
		assert.ErrorAs(t, err, &pe, "500-deep pattern")
	} else {
		ev := strings.Repeat(`{"a":`, 500) + `"x"` + strings.Repeat("}", 500)
		ok, err := p.Match([]byte(ev))
		assert.NoError(t, err, "500-deep pattern accepted: Match")
		assert.True(t, ok, "500-deep pattern accepted: Match")
	}
}
