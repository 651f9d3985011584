package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestDiscoverer(t *testing.T, opts ...DiscovererOption) *Discoverer {
	t.Helper()
	d, err := NewDiscoverer(NewRegistry(), opts...)
	require.NoError(t, err)
	t.Cleanup(d.Close)
	return d
}

func flush(t *testing.T, d *Discoverer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Flush(ctx))
}

// discoveredJSONSchema returns the latest discovered schema of name as
// JSON Schema draft 4.
func discoveredJSONSchema(t *testing.T, d *Discoverer, name string) string {
	t.Helper()
	out, err := d.Registry().Export(name, "", FormatJSONSchemaDraft4)
	require.NoError(t, err)
	return string(out)
}

func TestDiscoveryConvergesAndVersionsOnChange(t *testing.T) {
	d := newTestDiscoverer(t)
	bus, err := eda.NewBus("discovered", eda.WithEventValidator(d))
	require.NoError(t, err)
	defer func() { require.NoError(t, bus.Close(context.Background())) }()
	ctx := context.Background()
	put := func(detail string) {
		t.Helper()
		res, err := bus.PutEvents(ctx, eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(detail)})
		require.NoError(t, err)
		require.NoError(t, res.Err())
	}

	put(`{"orderId":"o-1","total":10,"placedAt":"2026-12-06T10:00:00Z","items":[{"sku":"A","qty":1}]}`)
	flush(t, d)
	assert.Equal(t, []string{"1"}, d.Registry().Versions(orderName))
	v1, err := d.Registry().Describe(orderName, "")
	require.NoError(t, err)
	assert.Equal(t, FormatOpenAPI3, v1.Format)
	assert.Equal(t, "com.example.orders", v1.Source)
	assert.Equal(t, "OrderPlaced", v1.DetailType)
	assert.JSONEq(t, `{
	  "$schema": "http://json-schema.org/draft-04/schema#",
	  "type": "object",
	  "x-amazon-events-source": "com.example.orders",
	  "x-amazon-events-detail-type": "OrderPlaced",
	  "required": ["account","detail","detail-type","id","region","resources","source","time","version"],
	  "properties": {
	    "account": {"type": "string"},
	    "detail": {
	      "type": "object",
	      "required": ["items","orderId","placedAt","total"],
	      "properties": {
	        "items": {"type": "array", "items": {"type": "object", "required": ["qty","sku"],
	          "properties": {"qty": {"type": "integer"}, "sku": {"type": "string"}}}},
	        "orderId": {"type": "string"},
	        "placedAt": {"type": "string", "format": "date-time"},
	        "total": {"type": "integer"}
	      }
	    },
	    "detail-type": {"type": "string"},
	    "id": {"type": "string"},
	    "region": {"type": "string"},
	    "resources": {"type": "array"},
	    "source": {"type": "string"},
	    "time": {"type": "string", "format": "date-time"},
	    "version": {"type": "string"}
	  }
	}`, discoveredJSONSchema(t, d, orderName))

	// Events of the same shape add no version, whatever their values.
	for i := range 5 {
		put(fmt.Sprintf(`{"orderId":"o-%d","total":%d,"placedAt":"2026-12-06T10:00:0%dZ","items":[{"sku":"B","qty":%d}]}`, i, i, i, i))
	}
	flush(t, d)
	assert.Equal(t, []string{"1"}, d.Registry().Versions(orderName))

	// A new field, a fractional total and a placedAt that is no date-time
	// change the shape: one new version for the event that changed it.
	put(`{"orderId":"o-9","total":10.5,"placedAt":"soon","coupon":"XMAS","items":[]}`)
	flush(t, d)
	assert.Equal(t, []string{"1", "2"}, d.Registry().Versions(orderName))
	js := discoveredJSONSchema(t, d, orderName)
	var doc struct {
		Properties struct {
			Detail struct {
				Required   []string                  `json:"required"`
				Properties map[string]map[string]any `json:"properties"`
			} `json:"detail"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &doc))
	detail := doc.Properties.Detail
	assert.Equal(t, []string{"items", "orderId", "placedAt", "total"}, detail.Required, "coupon is not in every event")
	assert.Equal(t, map[string]any{"type": "string"}, detail.Properties["coupon"])
	assert.Equal(t, map[string]any{"type": "number"}, detail.Properties["total"])
	assert.Equal(t, map[string]any{"type": "string"}, detail.Properties["placedAt"])

	// It converged: the same variety again adds nothing.
	put(`{"orderId":"o-10","total":1,"placedAt":"later","coupon":"X","items":[{"sku":"C","qty":3}]}`)
	put(`{"orderId":"o-11","total":1.25,"placedAt":"2026-12-06T10:00:00Z","items":[]}`)
	flush(t, d)
	assert.Equal(t, []string{"1", "2"}, d.Registry().Versions(orderName))
	assert.Equal(t, DiscovererStats{Seen: 9, Inspected: 9, Versions: 2}, d.Stats())

	// Every event seen validates against the discovered schema, in both
	// formats.
	for _, f := range []Format{FormatJSONSchemaDraft4, FormatOpenAPI3} {
		out, err := d.Registry().Export(orderName, "", f)
		require.NoError(t, err)
		reg := NewRegistry()
		_, err = reg.Create(orderName, f, out)
		require.NoError(t, err)
		assert.NoError(t, reg.Validate(orderName, "", orderEvent(`{"orderId":"o","total":2.5,"placedAt":"x","items":[{"sku":"A","qty":1}]}`)))
		assert.Error(t, reg.Validate(orderName, "", orderEvent(`{"orderId":"o","total":"2.5","placedAt":"x","items":[]}`)))
	}
}

func TestDiscoveryKeepsEventTypesApart(t *testing.T) {
	d := newTestDiscoverer(t)
	d.Observe(orderEvent(goodOrder))
	d.Observe([]byte(`{"source":"com.example.orders","detail-type":"Order Cancelled","detail":{"reason":"late"}}`))
	d.Observe([]byte(`{"source":"com.example.orders","detail":{}}`)) // no detail-type
	d.Observe([]byte(`[1,2]`))
	flush(t, d)
	names := []string{}
	for _, s := range d.Registry().List("") {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"com.example.orders@OrderCancelled", orderName}, names)
	assert.Equal(t, DiscovererStats{Seen: 4, Inspected: 2, Versions: 2, Failed: 2}, d.Stats())
}

func TestDiscoverySamplesUnderLoad(t *testing.T) {
	d := newTestDiscoverer(t, WithQueueSize(1))
	// Hold the discoverer inside its first inspection, so that its queue
	// stays full.
	d.shapeMu.Lock()
	d.Observe(orderEvent(goodOrder))
	require.Eventually(t, func() bool { return len(d.queue) == 0 }, 10*time.Second, time.Millisecond,
		"the discoverer takes the first event")
	d.Observe(orderEvent(goodOrder)) // queued
	d.Observe(orderEvent(goodOrder)) // queue full: sampled out
	d.shapeMu.Unlock()
	flush(t, d)
	assert.Equal(t, DiscovererStats{Seen: 3, Sampled: 1, Inspected: 2, Versions: 1}, d.Stats())

	d.Close()
	d.Observe(orderEvent(goodOrder))
	assert.Equal(t, uint64(2), d.Stats().Sampled, "after Close events are sampled out")
	flush(t, d)
	d.Close() // idempotent
}

func TestDiscoveryCloseInspectsWhatIsQueued(t *testing.T) {
	d := newTestDiscoverer(t)
	d.shapeMu.Lock()
	for range 5 {
		d.Observe(orderEvent(goodOrder))
	}
	closed := make(chan struct{})
	go func() { d.Close(); close(closed) }()
	d.shapeMu.Unlock()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	assert.Equal(t, DiscovererStats{Seen: 5, Inspected: 5, Versions: 1}, d.Stats())
}

func TestDiscoveryFlushHonoursContext(t *testing.T) {
	d := newTestDiscoverer(t)
	d.shapeMu.Lock()
	d.Observe(orderEvent(goodOrder))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, d.Flush(ctx), context.Canceled)
	d.shapeMu.Unlock()
	flush(t, d)
}

func TestNewDiscovererIsValidated(t *testing.T) {
	_, err := NewDiscoverer(nil)
	require.Error(t, err)
	_, err = NewDiscoverer(NewRegistry(), WithQueueSize(0))
	require.Error(t, err)
}

// FuzzDiscover checks that the schema inferred from any JSON object — as
// JSON Schema draft 4 and as the OpenAPI 3 the registry records — validates
// that object.
func FuzzDiscover(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,"x",null,{"c":true}],"d":"2026-12-06T10:00:00Z"}`))
	f.Add([]byte(`{"":{},"n":[[],[[1.5]]],"t":"2026-12-06T10:00:00.123+01:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeJSON(data)
		if err != nil {
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		s := newShape()
		s.add(obj)
		doc := inferDocument(s)
		sch, err := doc.compile()
		require.NoError(t, err)
		require.NoError(t, sch.Validate(obj), "inferred %v", doc.root)

		// Merging what changes nothing says so; what changes the schema says so.
		before, err := json.Marshal(doc.root)
		require.NoError(t, err)
		require.False(t, s.add(obj), "the same object again")
		after, err := json.Marshal(inferDocument(s).root)
		require.NoError(t, err)
		require.Equal(t, string(before), string(after))
		changed := s.add(map[string]any{})
		after, err = json.Marshal(inferDocument(s).root)
		require.NoError(t, err)
		require.Equal(t, string(before) != string(after), changed, "an empty object changes the schema iff it had required properties")

		oas, err := doc.export("x@Y", "x", "Y", FormatOpenAPI3)
		require.NoError(t, err)
		content, err := json.Marshal(oas)
		require.NoError(t, err)
		reg := NewRegistry()
		_, err = reg.Create("x@Y", FormatOpenAPI3, content)
		require.NoError(t, err, "%s", content)
		require.NoError(t, reg.Validate("x@Y", "", data), "%s", content)
	})
}
