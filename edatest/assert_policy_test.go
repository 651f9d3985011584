package edatest

import (
	"context"
	"testing"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// messages returns a Recorder holding three raw Topic messages with
// attributes, and one Bus event.
func messages(t *testing.T) *Recorder {
	rec := NewRecorder()
	for i, m := range []struct{ body, country, total string }{
		{`{"id":"o-1","total":25}`, "NL", "25"},
		{`{"id":"o-2","total":4200}`, "DE", "4200"},
		{`{"id":"o-3","total":900}`, "FR", "900"},
	} {
		require.NoError(t, rec.Handle(context.Background(), eda.Delivery{ID: string(rune('a' + i)), Router: "orders",
			Destination: "billing", Attempt: 1, Kind: eda.PayloadMessage, Payload: []byte(m.body),
			Attributes: map[string]eda.Attribute{"country": {DataType: "String", StringValue: m.country},
				"total": {DataType: "Number", StringValue: m.total}}}))
	}
	require.NoError(t, rec.Handle(context.Background(), eda.Delivery{Router: "default", Rule: "r", Destination: "t",
		Attempt: 1, Kind: eda.PayloadEvent, Payload: []byte(`{"detail":{"id":"o-1","total":25}}`)}))
	return rec
}

func TestPolicyAssertionsPass(t *testing.T) {
	rec := messages(t)
	assert.True(t, AssertDeliveredPolicy(t, rec, `{"country": ["DE"]}`, eda.ScopeMessageAttributes))
	assert.True(t, AssertDeliveredPolicyN(t, rec, `{"total": [{"numeric": [">", 100]}]}`, eda.ScopeMessageAttributes, 2))
	assert.True(t, AssertDeliveredPolicyN(t, rec, `{"id": [{"prefix": "o-"}]}`, eda.ScopeMessageBody, 3),
		"the Bus event passes no policy")
	assert.True(t, AssertNotDeliveredPolicy(t, rec, `{"country": ["US"]}`, eda.ScopeMessageAttributes))
	assert.True(t, AssertNotDeliveredPolicy(t, rec, `{"total": [{"numeric": [">", 5000]}]}`, eda.ScopeMessageBody))
}

func TestAssertDeliveredPolicyFailureExplainsNearest(t *testing.T) {
	rec := messages(t)
	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredPolicy(tb, rec, `{"country": ["FR"], "total": [{"numeric": [">", 1000]}]}`, eda.ScopeMessageAttributes, "order %s", "o-3")
	})
	assert.Contains(t, msg, `AssertDeliveredPolicy: wanted at least one record passing the filter policy {"country": ["FR"], "total": [{"numeric": [">", 1000]}]} (scope MessageAttributes), got 0 of 4
nearest of the 4 records that do not match, and why:
  1. orders/billing attempt 1: body {"id":"o-2","total":4200} attributes {"country":"DE","total":4200}
     no match: 1 of 2 fields hold
       FAIL country: value "DE" does not match ["FR"]
       ok   total: value 4200 matches [{"numeric": [">", 1000]}]
  2. orders/billing attempt 1: body {"id":"o-3","total":900} attributes {"country":"FR","total":900}
     no match: 1 of 2 fields hold
       ok   country: value "FR" matches ["FR"]
       FAIL total: value 900 does not match [{"numeric": [">", 1000]}]
  3. orders/billing attempt 1: body {"id":"o-1","total":25} attributes {"country":"NL","total":25}
     no match: 0 of 2 fields hold`, msg)
	assert.Contains(t, msg, "Messages:   \torder o-3", "testify's msgAndArgs")
}

func TestPolicyAssertionFailures(t *testing.T) {
	rec := messages(t)
	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertNotDeliveredPolicy(tb, rec, `{"id": ["o-1"]}`, eda.ScopeMessageBody)
	})
	assert.Contains(t, msg, `AssertNotDeliveredPolicy: wanted no record passing the filter policy {"id": ["o-1"]} (scope MessageBody), got 1 of 4; matching:
  1. orders/billing attempt 1: body {"id":"o-1","total":25} attributes {"country":"NL","total":25}
nearest of the 3 records that do not match, and why:`)
	assert.Contains(t, msg, `default/r/t attempt 1: {"detail":{"id":"o-1","total":25}}
     not a Topic message but a delivery of kind event`, "the Bus event is named as such")

	msg = reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredPolicyN(tb, rec, `{"country": [{"exists": true}]}`, eda.ScopeMessageAttributes, 2)
	})
	assert.Contains(t, msg, `AssertDeliveredPolicyN: wanted exactly 2 records passing the filter policy {"country": [{"exists": true}]} (scope MessageAttributes), got 3 of 4; matching:`)

	// SNS's dialect: anything-but suffix is refused, as Subscribe would refuse it.
	msg = reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredPolicy(tb, rec, `{"id": [{"anything-but": {"suffix": "-1"}}]}`, eda.ScopeMessageBody)
	})
	assert.Contains(t, msg, `AssertDeliveredPolicy: filter policy: id: anything-but: SNS filter policies do not support "suffix" inside anything-but (only prefix)`)
}

// A message without attributes passes no attribute policy, not even
// {"exists": false}, and a body that is not JSON no body policy: the
// failure says so rather than explaining fields.
func TestPolicyAssertionEdgeMessages(t *testing.T) {
	rec := NewRecorder()
	require.NoError(t, rec.Handle(context.Background(), eda.Delivery{Router: "t", Destination: "s", Attempt: 1,
		Kind: eda.PayloadMessage, Payload: []byte("plain text")}))
	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredPolicy(tb, rec, `{"country": [{"exists": false}]}`, eda.ScopeMessageAttributes)
	})
	assert.Contains(t, msg, "1. t/s attempt 1: body plain text\n     the message has no attributes: SNS passes no attribute policy then")
	msg = reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredPolicy(tb, rec, `{"country": ["NL"]}`, eda.ScopeMessageBody)
	})
	assert.Contains(t, msg, "1. t/s attempt 1: body plain text\n     the body is not a JSON object")
}

// On a Topic, the assertions read the message inside SNS's notification
// as well as a raw one.
func TestPolicyAssertionsOnTopic(t *testing.T) {
	topic := NewTopic(t, "orders")
	rec := NewRecorder()
	_, err := topic.Subscribe("enveloped", rec)
	require.NoError(t, err)
	_, err = topic.Subscribe("raw", rec, eda.WithRawDelivery())
	require.NoError(t, err)
	_, err = topic.Publish(context.Background(), eda.Message{Body: []byte(`{"id":"o-1","total":4200}`),
		Attributes: map[string]eda.Attribute{"tags": {DataType: "String.Array", StringValue: `["vip","eu"]`}}})
	require.NoError(t, err)
	Settle(t, topic)

	for _, dest := range []string{"enveloped", "raw"} {
		AssertDeliveredPolicyN(t, rec.To(dest), `{"total": [{"numeric": [">=", 1000]}]}`, eda.ScopeMessageBody, 1, dest)
		AssertDeliveredPolicy(t, rec.To(dest), `{"tags": ["eu"]}`, eda.ScopeMessageAttributes, dest)
	}
	msg := reportOf(t, func(tb testing.TB) bool {
		return AssertDeliveredPolicy(tb, rec.To("enveloped"), `{"tags": ["us"]}`, eda.ScopeMessageAttributes)
	})
	assert.Contains(t, msg, `body {"id":"o-1","total":4200} attributes {"tags":["vip","eu"]}
     no match: 0 of 1 fields hold
       FAIL tags: none of the values "vip", "eu" matches ["us"]`)
}
