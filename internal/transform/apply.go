package transform

import (
	"slices"
	"time"

	"github.com/tidwall/gjson"
)

// Vars holds the values of EventBridge's predefined variables for one
// delivery.
type Vars struct {
	RuleARN  string // <aws.events.rule-arn>
	RuleName string // <aws.events.rule-name>
	// IngestionTime is <aws.events.event.ingestion-time>, written as RFC 3339
	// in UTC with second precision. When zero, the event's "time" is used.
	IngestionTime time.Time
}

// cachedVars is how many variable values Apply keeps on the stack; a
// template that uses more allocates once per call.
const cachedVars = 16

type resolved struct {
	raw   string
	state uint8 // 0 not yet looked up, 1 found, 2 absent
}

// Apply fills the template from event (the event's JSON, an object) and
// vars, appends the output to dst and returns the extended slice. The
// output is JSON when IsJSON reports true and text otherwise. Apply does
// not retain event or dst, never panics, and returns ErrEventNotObject
// (with dst unchanged) when event is not a JSON object. Given an event that
// is valid JSON, the output of a JSON template is valid JSON.
func (t *Transformer) Apply(dst []byte, event []byte, vars Vars) ([]byte, error) {
	ev := trimLeft(stringOf(event))
	if !startsWith(ev, '{') {
		return dst, ErrEventNotObject
	}
	var cache [cachedVars]resolved
	var vals []resolved
	if len(t.vars) <= cachedVars {
		vals = cache[:len(t.vars)]
	} else {
		vals = make([]resolved, len(t.vars))
	}
	dst = slices.Grow(dst, t.sizeHint)
	for i := range t.segs {
		s := &t.segs[i]
		if s.v < 0 {
			dst = append(dst, s.lit...)
			continue
		}
		v := &t.vars[s.v]
		switch v.kind {
		case varPath:
			if v.path.wildcard {
				dst = v.path.appendMatches(dst, ev, s.mode)
				continue
			}
			r := &vals[s.v]
			if r.state == 0 {
				r.state = 2
				if raw, ok := v.path.lookup(ev); ok {
					r.raw, r.state = raw, 1
				}
			}
			dst = appendResolved(dst, r, s.mode)
		case varRuleARN:
			dst = appendString(dst, vars.RuleARN, s.mode)
		case varRuleName:
			dst = appendString(dst, vars.RuleName, s.mode)
		case varIngestionTime:
			dst = appendIngestionTime(dst, ev, vars.IngestionTime, s.mode)
		case varEventJSON:
			dst = appendCompact(dst, ev, s.mode == modeInString)
		case varEvent:
			dst = appendEventSummary(dst, ev, s.mode)
		}
	}
	return dst, nil
}

// appendResolved writes a path variable. An absent value is empty text
// inside strings and in text, and the empty string "" in a JSON value
// position: recorded EventBridge output for {"command": <command>} with a
// missing path is {"command": ""}.
func appendResolved(dst []byte, r *resolved, mode writeMode) []byte {
	if r.state != 1 {
		if mode == modeValue {
			return append(dst, '"', '"')
		}
		return dst
	}
	return appendValue(dst, r.raw, mode)
}

// appendString writes a Go string value (a predefined variable): quoted in
// a value position, escaped inside a string, as it is in text.
func appendString(dst []byte, s string, mode writeMode) []byte {
	switch mode {
	case modeValue:
		return appendJSONString(dst, s)
	case modeInString:
		return appendEscaped(dst, s)
	default:
		return append(dst, s...)
	}
}

func appendIngestionTime(dst []byte, ev string, at time.Time, mode writeMode) []byte {
	if at.IsZero() {
		r := gjson.Get(ev, "time")
		if !r.Exists() {
			return appendResolved(dst, &resolved{state: 2}, mode)
		}
		return appendValue(dst, r.Raw, mode)
	}
	if mode == modeValue {
		dst = append(dst, '"')
	}
	dst = at.UTC().AppendFormat(dst, time.RFC3339)
	if mode == modeValue {
		dst = append(dst, '"')
	}
	return dst
}

// summaryFields are the members of <aws.events.event>, in the order and
// with the names EventBridge writes them. The docs call it "the original
// event payload as JSON (without the detail field)"; recorded EventBridge
// output (LocalStack's AWS-validated snapshot of
// test_input_transformer_predefined_variables) names detail-type
// "detailType" and orders the members like this.
var summaryFields = [...]struct{ name, path string }{
	{"id", "id"},
	{"account", "account"},
	{"detailType", "detail-type"},
	{"time", "time"},
	{"source", "source"},
	{"region", "region"},
	{"resources", "resources"},
	{"version", "version"},
}

// appendEventSummary writes <aws.events.event>: the envelope without
// detail. Members absent from the event are left out.
func appendEventSummary(dst []byte, ev string, mode writeMode) []byte {
	strip := mode == modeInString
	// One pass over the envelope's members; the first of duplicate keys
	// wins, as with gjson.Get.
	var raws [len(summaryFields)]string
	gjson.Parse(ev).ForEach(func(k, v gjson.Result) bool {
		for i := range summaryFields {
			if raws[i] == "" && k.Str == summaryFields[i].path {
				raws[i] = v.Raw
				break
			}
		}
		return true
	})
	dst = append(dst, '{')
	n := 0
	for i, f := range summaryFields {
		if raws[i] == "" {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		if !strip {
			dst = append(dst, '"')
		}
		dst = append(dst, f.name...)
		if !strip {
			dst = append(dst, '"')
		}
		dst = append(dst, ':')
		dst = appendCompact(dst, raws[i], strip)
	}
	return append(dst, '}')
}
