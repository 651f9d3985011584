package transform

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// compactEC2 is the docs' EC2 event as the Bus holds it (compact JSON).
var compactEC2 = func() []byte {
	var v any
	if err := json.Unmarshal([]byte(ec2Event), &v); err != nil {
		panic(err)
	}
	b, _ := json.Marshal(v)
	return b
}()

func benchApply(b *testing.B, paths map[string]string, template string) {
	tr, err := Compile(paths, template)
	require.NoError(b, err)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(compactEC2)))
	for b.Loop() {
		out, err := tr.Apply(buf[:0], compactEC2, exampleVars)
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply measures Apply on the user guide's EC2 event with the
// templates of its examples table.
func BenchmarkApply(b *testing.B) {
	b.Run("json", func(b *testing.B) {
		benchApply(b, ec2Paths, `{"instance": <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}`)
	})
	b.Run("string", func(b *testing.B) {
		benchApply(b, ec2Paths, `"instance <instance> is in <state>"`)
	})
	b.Run("text", func(b *testing.B) {
		benchApply(b, ec2Paths, `instance <instance> is in <state>`)
	})
	b.Run("predefined", func(b *testing.B) {
		benchApply(b, ec2Paths, `{"rule": <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>, "event": <aws.events.event>}`)
	})
	b.Run("wildcard", func(b *testing.B) {
		benchApply(b, map[string]string{"r": "$.resources[*]"}, `{"r": <r>}`)
	})
}

// BenchmarkExtract measures an InputPath lookup.
func BenchmarkExtract(b *testing.B) {
	p, err := CompilePath("$.detail.state")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Extract(compactEC2); !ok {
			b.Fatal("absent")
		}
	}
}
