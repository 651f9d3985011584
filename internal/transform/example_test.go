package transform_test

import (
	"fmt"

	"github.com/edakit/eda/internal/transform"
)

const event = `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-0123456789","state":"RUNNING"}}`

func ExampleCompile() {
	paths := map[string]string{"instance": "$.detail.instance-id", "state": "$.detail.state"}
	t, err := transform.Compile(paths, `{"instance": <instance>, "status": "instance \"<instance>\" is in <state>", "rule": <aws.events.rule-name>}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := t.Apply(nil, []byte(event), transform.Vars{RuleName: "ec2-watch"})
	fmt.Println(string(out), t.IsJSON(), err)
	// Output:
	// {"instance":"i-0123456789","status":"instance \"i-0123456789\" is in RUNNING","rule":"ec2-watch"} true <nil>
}

func ExampleCompile_text() {
	t, _ := transform.Compile(map[string]string{"instance": "$.detail.instance-id"}, `<instance> changed state`)
	out, _ := t.Apply(nil, []byte(event), transform.Vars{})
	fmt.Println(string(out), t.IsJSON())
	// Output:
	// i-0123456789 changed state false
}

func ExampleCompile_error() {
	_, err := transform.Compile(nil, `"hello <who>"`)
	fmt.Println(err)
	// Output:
	// InputTemplate: placeholder <who> is not defined in InputPathsMap
}

func ExamplePath_Extract() {
	p, _ := transform.CompilePath("$.resources[0]")
	raw, ok := p.Extract([]byte(event))
	fmt.Println(string(raw), ok)
	p, _ = transform.CompilePath("$.detail.missing")
	_, ok = p.Extract([]byte(event))
	fmt.Println(ok)
	// Output:
	// "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111" true
	// false
}
