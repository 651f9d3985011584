package eda

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// Sample events from the EventBridge documentation, in EventBridge's own
// field order and (compacted) form.
var docSampleEvents = []struct {
	name, doc, json string
}{
	{
		name: "ec2-state-change",
		doc:  "EventBridge User Guide, Event structure reference / Powertools EventBridgeSchema sample",
		json: `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"us-west-1","resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance_id":"i-1234567890abcdef0","state":"terminated"}}`,
	},
	{
		name: "input-transformer-tutorial",
		doc:  "EventBridge User Guide, Tutorial: Use input transformer (version added; the doc omits it)",
		json: `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance-id":"i-1234567890abcdef0","state":"stopped"}}`,
	},
	{
		name: "scheduled-event",
		doc:  "EventBridge User Guide, Scheduled Event (empty detail)",
		json: `{"version":"0","id":"89d1a02d-5ec7-412e-82f5-13505f849b41","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2016-12-30T18:44:49Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/SampleRule"],"detail":{}}`,
	},
	{
		name: "custom-no-resources",
		doc:  "a custom PutEvents event: resources always present, as an empty array",
		json: `{"version":"0","id":"1b6a3d0e-0000-4000-8000-000000000001","detail-type":"OrderPlaced","source":"com.example.orders","account":"000000000000","time":"2026-01-02T03:04:05Z","region":"us-east-1","resources":[],"detail":{"orderId":"o-1","total":1250.5,"items":[{"sku":"A","qty":2}],"note":null}}`,
	},
}

func TestEventJSONMatchesDocumentedSamples(t *testing.T) {
	for _, tc := range docSampleEvents {
		t.Run(tc.name, func(t *testing.T) {
			var e Event
			if err := json.Unmarshal([]byte(tc.json), &e); err != nil {
				t.Fatalf("%s: %v", tc.doc, err)
			}
			if e.Time.Location() != time.UTC {
				t.Errorf("time location %v, want UTC", e.Time.Location())
			}
			got, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.json {
				t.Errorf("encoding/json output (%s)\n got %s\nwant %s", tc.doc, got, tc.json)
			}
			if fast := e.AppendJSON(nil); string(fast) != tc.json {
				t.Errorf("AppendJSON output\n got %s\nwant %s", fast, tc.json)
			}
			// Round trip: decode what we wrote, get the same event back.
			var back Event
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, back) {
				t.Errorf("round trip\n got %+v\nwant %+v", back, e)
			}
		})
	}
}

func TestEventUnmarshalIndentedSample(t *testing.T) {
	// The documentation prints events indented, sometimes with extra
	// fields; both decode.
	doc := `{
	  "version": "0",
	  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
	  "detail-type": "EC2 Instance State-change Notification",
	  "source": "aws.ec2",
	  "account": "111122223333",
	  "time": "2017-12-22T18:43:48Z",
	  "region": "us-west-1",
	  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
	  "detail": {"instance_id": "i-1234567890abcdef0", "state": "terminated"},
	  "replay-name": "replay_archive"
	}`
	var e Event
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		t.Fatal(err)
	}
	if e.DetailType != "EC2 Instance State-change Notification" {
		t.Errorf("detail-type %q", e.DetailType)
	}
	if want := time.Date(2017, 12, 22, 18, 43, 48, 0, time.UTC); !e.Time.Equal(want) {
		t.Errorf("time %v, want %v", e.Time, want)
	}
	var detail map[string]string
	if err := json.Unmarshal(e.Detail, &detail); err != nil || detail["state"] != "terminated" {
		t.Errorf("detail %s (%v)", e.Detail, err)
	}
}

func TestEventMarshalDefaultsAndTime(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	e := Event{
		ID:         "x",
		DetailType: "t",
		Source:     "s",
		Time:       time.Date(2026, 5, 6, 9, 8, 7, 654321000, loc),
	}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	// UTC with Z, whole seconds, version 0, [] and {} defaults.
	want := `{"version":"0","id":"x","detail-type":"t","source":"s","account":"","time":"2026-05-06T07:08:07Z","region":"","resources":[],"detail":{}}`
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if _, err := json.Marshal(Event{Detail: json.RawMessage(`{"broken"`)}); err == nil {
		t.Error("invalid detail: no error")
	}
	var bad Event
	if err := json.Unmarshal([]byte(`{"time":"yesterday"}`), &bad); err == nil {
		t.Error("bad time: no error")
	}
	if err := json.Unmarshal([]byte(`[1]`), &bad); err == nil {
		t.Error("array: no error")
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x01\x1f",
		"ünïcødé ✓ 𝄞", "<html> & co", "bad \xff utf8", "line\u2028sep\u2029",
	} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q decodes to %q, encoding/json's to %q", s, back, wantBack)
		}
		if !bytes.ContainsAny([]byte(s), "<>&") && string(want) != string(got) {
			t.Errorf("%q: %s, encoding/json writes %s", s, got, want)
		}
	}
}

func TestEntrySize(t *testing.T) {
	// EventBridge: Time counts 14 bytes when set; Source, DetailType,
	// Detail and every resource their UTF-8 bytes.
	e := Event{Source: "src", DetailType: "dt", Detail: json.RawMessage(`{"a":1}`), Resources: []string{"r1", "ü"}}
	if got := EntrySize(&e); got != 3+2+7+2+2 {
		t.Errorf("EntrySize = %d, want %d", got, 3+2+7+2+2)
	}
	e.Time = time.Now()
	if got := EntrySize(&e); got != 14+3+2+7+2+2 {
		t.Errorf("EntrySize with time = %d, want %d", got, 14+3+2+7+2+2)
	}
}

func BenchmarkEventAppendJSON(b *testing.B) {
	var e Event
	if err := json.Unmarshal([]byte(docSampleEvents[0].json), &e); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
}

func TestAppendTimeMatchesAppendFormat(t *testing.T) {
	loc := time.FixedZone("X", -7*3600-30*60)
	for _, tm := range []time.Time{
		time.Date(2017, 12, 22, 18, 43, 48, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 30, 0, 0, loc),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := tm.UTC().AppendFormat(nil, timeLayout)
		if got := appendTime(nil, tm); string(got) != string(want) {
			t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestEventIDsAreUniqueV4(t *testing.T) {
	var src idSource
	seen := make(map[string]bool, 10000)
	for range 10000 {
		id := src.newID()
		if !uuidV4.MatchString(id) {
			t.Fatalf("%q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestEventJSONSizeHintIsEnough(t *testing.T) {
	for _, tc := range docSampleEvents {
		var e Event
		if err := json.Unmarshal([]byte(tc.json), &e); err != nil {
			t.Fatal(err)
		}
		if hint, n := e.jsonSizeHint(), len(e.AppendJSON(nil)); hint < n {
			t.Errorf("%s: size hint %d < JSON length %d: AppendJSON would grow its buffer", tc.name, hint, n)
		}
	}
}

// FuzzEventJSON: whatever decodes as an Event encodes to JSON that decodes
// to the same Event.
func FuzzEventJSON(f *testing.F) {
	for _, tc := range docSampleEvents {
		f.Add([]byte(tc.json))
	}
	f.Add([]byte(`{"detail-type":"x\u2028\u0000","time":"2020-01-01T00:00:00.5+01:00","resources":null,"detail":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		if json.Unmarshal(data, &e) != nil {
			return
		}
		out, err := json.Marshal(e)
		if err != nil {
			if !json.Valid(e.Detail) {
				return // an invalid detail is refused, as it should be
			}
			t.Fatalf("Marshal: %v", err)
		}
		var back Event
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("our JSON does not decode: %v\n%s", err, out)
		}
		e.Time = e.Time.Truncate(time.Second)
		if e.Version == "" {
			e.Version = "0"
		}
		if len(e.Detail) == 0 {
			e.Detail = json.RawMessage(`{}`)
		}
		if e.Resources == nil {
			e.Resources = []string{}
		}
		var d1, d2 any
		_ = json.Unmarshal(e.Detail, &d1)
		_ = json.Unmarshal(back.Detail, &d2)
		e.Detail, back.Detail = nil, nil
		if !reflect.DeepEqual(d1, d2) {
			t.Fatalf("detail changed: %v -> %v", d1, d2)
		}
		if !utf8.ValidString(e.ID + e.Source + e.DetailType + e.Account + e.Region) {
			return // invalid UTF-8 is replaced by U+FFFD, as encoding/json does
		}
		for _, r := range e.Resources {
			if !utf8.ValidString(r) {
				return
			}
		}
		if !reflect.DeepEqual(e, back) {
			t.Fatalf("round trip\n got %+v\nwant %+v", back, e)
		}
	})
}
