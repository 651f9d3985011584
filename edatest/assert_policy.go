package edatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
)

// The policy assertions check Topic deliveries against an SNS subscription
// filter policy, as [eda.MatchFilterPolicy] decides: the message of a
// record is its body ([eda.Delivery.Body]: the raw message, or the
// notification's Message) with its attributes (Delivery.Attributes), in
// the scope given — ScopeMessageAttributes or ScopeMessageBody. A record
// that is not a Topic message (an event of a Bus) passes no policy. They
// report as the pattern assertions do ([AssertDelivered]): on failure they
// list the nearest records, each with its body and attributes, and why
// the policy does not pass it.

// AssertDeliveredPolicy asserts that at least one record's message passes
// the SNS filter policy in the scope.
func AssertDeliveredPolicy(t testing.TB, r *Recorder, policy string, scope eda.FilterPolicyScope, msgAndArgs ...any) bool {
	t.Helper()
	return assertPolicy(t, "AssertDeliveredPolicy", r, policy, scope, func(n int) bool { return n > 0 }, "at least one record", msgAndArgs)
}

// AssertNotDeliveredPolicy asserts that no record's message passes the SNS
// filter policy in the scope.
func AssertNotDeliveredPolicy(t testing.TB, r *Recorder, policy string, scope eda.FilterPolicyScope, msgAndArgs ...any) bool {
	t.Helper()
	return assertPolicy(t, "AssertNotDeliveredPolicy", r, policy, scope, func(n int) bool { return n == 0 }, "no record", msgAndArgs)
}

// AssertDeliveredPolicyN asserts that exactly n records' messages pass the
// SNS filter policy in the scope.
func AssertDeliveredPolicyN(t testing.TB, r *Recorder, policy string, scope eda.FilterPolicyScope, n int, msgAndArgs ...any) bool {
	t.Helper()
	return assertPolicy(t, "AssertDeliveredPolicyN", r, policy, scope, func(got int) bool { return got == n },
		fmt.Sprintf("exactly %d records", n), msgAndArgs)
}

// assertPolicy is assertCount for a filter policy, failing the test if the
// policy is invalid.
func assertPolicy(t testing.TB, name string, r *Recorder, policy string, scope eda.FilterPolicyScope, ok func(int) bool, want string, msgAndArgs []any) bool {
	t.Helper()
	// A message without attributes compiles the policy and passes none.
	if _, err := eda.MatchFilterPolicy([]byte(policy), scope, eda.Message{}); err != nil {
		assert.Fail(t, fmt.Sprintf("%s: %v", name, err))
		return false
	}
	exp := expectation{
		what: fmt.Sprintf("passing the filter policy %s (scope %s)", policy, scope),
		match: func(rec Record) bool {
			m, isMsg := recordMessage(rec)
			if !isMsg {
				return false
			}
			ok, err := eda.MatchFilterPolicy([]byte(policy), scope, m)
			return ok && err == nil
		},
		explain: func(rec Record) (string, float64) { return explainPolicy(policy, scope, rec) },
		show:    showMessage,
	}
	return assertCount(t, name, r, exp, ok, want, msgAndArgs)
}

// recordMessage returns the message of a Topic delivery; false for a
// record that is not one.
func recordMessage(rec Record) (eda.Message, bool) {
	d := rec.Delivery
	if d.Kind != eda.PayloadMessage && d.Kind != eda.PayloadNotification {
		return eda.Message{}, false
	}
	body, ok := d.Body()
	if !ok {
		return eda.Message{}, false
	}
	return eda.Message{Body: body, Attributes: d.Attributes, GroupID: d.GroupID}, true
}

// explainPolicy says why the policy does not pass rec's message, with how
// close it comes (see expectation.explain). Where eda.Explain, which
// speaks EventBridge's dialect, agrees with the policy's verdict, it gives
// its field-by-field explanation of the body, or of the attributes as a
// JSON object; otherwise only the verdict.
func explainPolicy(policy string, scope eda.FilterPolicyScope, rec Record) (string, float64) {
	m, isMsg := recordMessage(rec)
	if !isMsg {
		return fmt.Sprintf("not a Topic message but a delivery of kind %s", rec.Delivery.Kind), -1
	}
	if _, err := eda.MatchFilterPolicy([]byte(policy), scope, m); err != nil {
		return err.Error(), -1
	}
	doc := m.Body
	if scope == eda.ScopeMessageAttributes {
		if len(m.Attributes) == 0 {
			return "the message has no attributes: SNS passes no attribute policy then", -1
		}
		doc = attributesJSON(m.Attributes)
	}
	ex, err := eda.Explain([]byte(policy), doc)
	switch {
	case errors.Is(err, eda.ErrNotObject):
		return "the body is not a JSON object", -1
	case err != nil || ex.Matched: // a policy beyond EventBridge's dialect, or a verdict of SNS's own
		return "the message does not pass the policy", 0
	}
	return explanation(ex)
}

// attributesJSON returns the attributes as a JSON object, for eda.Explain:
// a String as a string, a Number as a number, a String.Array as its array;
// Binary attributes, which no policy matches, are left out.
func attributesJSON(attrs map[string]eda.Attribute) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		var v string
		switch base, _, _ := strings.Cut(a.DataType, "."); {
		case a.DataType == "String.Array" && json.Valid([]byte(a.StringValue)):
			v = a.StringValue
		case base == "Number":
			f, err := strconv.ParseFloat(a.StringValue, 64)
			if err != nil {
				continue
			}
			v = strconv.FormatFloat(f, 'g', -1, 64)
			if json.Valid([]byte(a.StringValue)) {
				v = a.StringValue
			}
		case base == "String":
			q, _ := json.Marshal(a.StringValue)
			v = string(q)
		default:
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		q, _ := json.Marshal(name)
		b.Write(q)
		b.WriteByte(':')
		b.WriteString(v)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// showMessage renders a record's message, body and attributes, on a line.
func showMessage(rec Record) string {
	m, isMsg := recordMessage(rec)
	if !isMsg {
		return payloadJSON(rec)
	}
	s := "body " + oneLine(m.Body)
	if len(m.Attributes) > 0 {
		s += " attributes " + string(attributesJSON(m.Attributes))
	}
	return s
}
