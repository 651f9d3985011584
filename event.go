package eda

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/edakit/eda/internal/jsontext"
	"github.com/edakit/eda/internal/pattern"
)

// Event is an EventBridge event: the envelope metadata plus the event's
// detail. Its JSON form is EventBridge's, field for field and in the same
// order, so event patterns written for AWS match unchanged:
//
//	{"version":"0","id":"…","detail-type":"…","source":"…","account":"…",
//	 "time":"2017-12-22T18:43:48Z","region":"…","resources":[…],"detail":{…}}
//
// When an Event is put on a [Bus], Source, DetailType and Detail are
// required; ID, Time, Version, Account and Region are stamped when empty.
type Event struct {
	// Version is always "0" for EventBridge events.
	Version string
	// ID identifies the event; a version 4 UUID stamped by the Bus when empty.
	ID string
	// DetailType names the kind of event ("OrderPlaced"). JSON: "detail-type".
	DetailType string
	// Source names the producer, conventionally in reverse-domain style
	// ("com.example.orders").
	Source string
	// Account is the account the event belongs to; stamped from the Bus.
	Account string
	// Time is when the event happened. Its JSON form is RFC 3339 in UTC with
	// a "Z" and whole seconds, as EventBridge writes it.
	Time time.Time
	// Region is the region the event belongs to; stamped from the Bus.
	Region string
	// Resources lists the resources the event concerns (ARNs, URLs, names).
	Resources []string
	// Detail is the event's payload: a JSON object.
	Detail json.RawMessage
}

// timeLayout is EventBridge's timestamp form: RFC 3339, UTC, whole seconds.
const timeLayout = "2006-01-02T15:04:05Z"

// MarshalJSON returns the event in EventBridge's JSON form. An empty
// Version is written as "0", nil Resources as [] and an empty Detail as {}.
func (e Event) MarshalJSON() ([]byte, error) {
	if len(e.Detail) > 0 && !json.Valid(e.Detail) {
		return nil, errors.New("eda: event detail is not valid JSON")
	}
	return e.AppendJSON(make([]byte, 0, e.jsonSizeHint())), nil
}

// AppendJSON appends the event's EventBridge JSON form to dst and returns
// the extended slice. It does not validate Detail; [Bus.PutEvents] has done
// that for the events it routes.
func (e *Event) AppendJSON(dst []byte) []byte { return e.appendJSON(dst, nil) }

// envelopeLayout names the members of an event's JSON form in the order
// appendJSON writes them, for the matcher (pattern.MatchLayout).
var envelopeLayout = pattern.NewLayout(envelopeKeys[:]...)

// envelopeKeys are the keys of an event's JSON form, in order.
var envelopeKeys = [...]string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}

// envelopeMembers holds where the values of an event's JSON form start, in
// the order of envelopeKeys.
type envelopeMembers [len(envelopeKeys)]int

// appendJSON is AppendJSON that also records, when at is not nil, where
// each member's value starts, counted from the start of the JSON.
func (e *Event) appendJSON(dst []byte, at *envelopeMembers) []byte {
	start := len(dst)
	mark := func(k int) { // member k of envelopeLayout starts here
		if at != nil {
			at[k] = len(dst) - start
		}
	}
	dst = append(dst, `{"version":`...)
	mark(0)
	if e.Version == "" {
		dst = append(dst, `"0"`...)
	} else {
		dst = appendJSONString(dst, e.Version)
	}
	dst = append(dst, `,"id":`...)
	mark(1)
	dst = appendJSONString(dst, e.ID)
	dst = append(dst, `,"detail-type":`...)
	mark(2)
	dst = appendJSONString(dst, e.DetailType)
	dst = append(dst, `,"source":`...)
	mark(3)
	dst = appendJSONString(dst, e.Source)
	dst = append(dst, `,"account":`...)
	mark(4)
	dst = appendJSONString(dst, e.Account)
	dst = append(dst, `,"time":`...)
	mark(5)
	dst = append(dst, '"')
	dst = appendTime(dst, e.Time)
	dst = append(dst, `","region":`...)
	mark(6)
	dst = appendJSONString(dst, e.Region)
	dst = append(dst, `,"resources":`...)
	mark(7)
	dst = append(dst, '[')
	for i, r := range e.Resources {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, r)
	}
	dst = append(dst, `],"detail":`...)
	mark(8)
	if len(e.Detail) == 0 {
		dst = append(dst, `{}`...)
	} else {
		dst = append(dst, e.Detail...)
	}
	return append(dst, '}')
}

// jsonSizeHint estimates the length of the event's JSON form.
func (e *Event) jsonSizeHint() int {
	// 150 bytes of keys, punctuation and time, plus the fields.
	n := 150 + len(e.Version) + len(e.ID) + len(e.DetailType) + len(e.Source) +
		len(e.Account) + len(e.Region) + len(e.Detail)
	for _, r := range e.Resources {
		n += len(r) + 3
	}
	return n
}

// eventJSON is the decoding shape of an event.
type eventJSON struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// UnmarshalJSON decodes an event from its EventBridge JSON form. Fields
// that an EventBridge event does not have (e.g. "replay-name") are ignored.
// The time may carry fractional seconds and any RFC 3339 offset.
func (e *Event) UnmarshalJSON(data []byte) error {
	var j eventJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("eda: decode event: %w", err)
	}
	var t time.Time
	if j.Time != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, j.Time); err != nil {
			return fmt.Errorf("eda: decode event: time: %w", err)
		}
		t = t.UTC()
	}
	if string(j.Detail) == "null" {
		j.Detail = nil
	}
	*e = Event{
		Version:    j.Version,
		ID:         j.ID,
		DetailType: j.DetailType,
		Source:     j.Source,
		Account:    j.Account,
		Time:       t,
		Region:     j.Region,
		Resources:  j.Resources,
		Detail:     j.Detail,
	}
	return nil
}

// appendTime appends t in EventBridge's form, 2006-01-02T15:04:05Z.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, timeLayout)
	}
	hour, minute, sec := t.Clock()
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), 'Z')
}

// appendJSONString appends s as a JSON string, escaped as EventBridge does
// (see jsontext.AppendEscaped).
func appendJSONString(dst []byte, s string) []byte { return jsontext.AppendString(dst, s) }

// EntrySize returns the size of e as EventBridge counts it against the
// entry size limit: 14 bytes for a set Time, plus the UTF-8 bytes of
// Source, DetailType, Detail and each resource.
func EntrySize(e *Event) int {
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if !e.Time.IsZero() {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}
