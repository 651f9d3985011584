package schema

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Order is a producer's event detail, with most of what encoding/json
// does with struct fields.
type Order struct {
	OrderID  string            `json:"orderId"`
	Total    float64           `json:"total"`
	Count    uint              `json:"count"`
	Express  bool              `json:"express,omitempty"`
	Placed   time.Time         `json:"placedAt"`
	Coupon   *string           `json:"coupon"`
	Items    []OrderItem       `json:"items"`
	Tags     map[string]string `json:"tags,omitempty"`
	Raw      json.RawMessage   `json:"raw,omitempty"`
	Blob     []byte            `json:"blob,omitempty"`
	Address  netip.Addr        `json:"address,omitzero"`
	Quantity int               `json:"quantity,string"`
	Skipped  string            `json:"-"`
	//lint:ignore U1000 an unexported field, which the JSON form leaves out
	internal string
	Audit
	*Shipping
}

type OrderItem struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

type Audit struct {
	CreatedBy string `json:"createdBy"`
	OrderID   string // shadowed by Order.OrderID's JSON name? No: its name is "OrderID"
}

type Shipping struct {
	Country string `json:"country"`
}

func TestTypeSchemaFollowsEncodingJSON(t *testing.T) {
	content, err := TypeSchema[Order]("com.example.orders", "OrderPlaced")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(content, &doc))
	detail := doc["properties"].(map[string]any)["detail"].(map[string]any)
	assert.JSONEq(t, `{
	  "type": "object", "title": "Order",
	  "required": ["orderId","total","count","placedAt","coupon","items","quantity","createdBy","OrderID"],
	  "properties": {
	    "orderId": {"type": "string"},
	    "total": {"type": "number"},
	    "count": {"type": "integer", "minimum": 0},
	    "express": {"type": "boolean"},
	    "placedAt": {"type": "string", "format": "date-time"},
	    "coupon": {"type": ["string", "null"]},
	    "items": {"type": ["array", "null"], "items": {"type": "object", "title": "OrderItem", "required": ["sku","qty"],
	      "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
	    "tags": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
	    "raw": {},
	    "blob": {"type": ["string", "null"], "contentEncoding": "base64"},
	    "address": {"type": "string"},
	    "quantity": {"type": "string"},
	    "createdBy": {"type": "string"},
	    "OrderID": {"type": "string"},
	    "country": {"type": "string"}
	  }
	}`, mustJSON(t, detail))

	// What encoding/json makes of an Order conforms.
	coupon := "XMAS"
	for _, o := range []Order{
		{OrderID: "o-1", Total: 12.5, Placed: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), Coupon: &coupon,
			Items: []OrderItem{{SKU: "A", Qty: 1}}, Tags: map[string]string{"a": "b"}, Raw: json.RawMessage(`[1]`),
			Blob: []byte("hi"), Address: netip.MustParseAddr("10.0.0.1"), Shipping: &Shipping{Country: "DE"}},
		{}, // nil slices and pointers, zero time
	} {
		reg := NewRegistry()
		_, err = RegisterType[Order](reg, "com.example.orders", "OrderPlaced")
		require.NoError(t, err)
		detail, err := json.Marshal(o)
		require.NoError(t, err)
		e := eda.Event{ID: "1", Source: "com.example.orders", DetailType: "OrderPlaced", Detail: detail,
			Time: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
		assert.NoError(t, reg.Validate(orderName, "", e.AppendJSON(nil)), "%s", detail)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

type selfRef struct {
	Next *selfRef `json:"next"`
}

func TestTypeSchemaRefusesWhatJSONCannotMarshal(t *testing.T) {
	_, err := TypeSchema[selfRef]("a", "B")
	require.ErrorIs(t, err, ErrUnsupportedType)
	_, err = TypeSchema[struct{ C chan int }]("a", "B")
	require.ErrorIs(t, err, ErrUnsupportedType)
	_, err = TypeSchema[map[[2]int]string]("a", "B")
	require.ErrorIs(t, err, ErrUnsupportedType)
	_, err = RegisterType[struct{ F func() }](NewRegistry(), "a", "B")
	require.ErrorIs(t, err, ErrUnsupportedType)
}

func TestRegisterProducerValidatesItsEvents(t *testing.T) {
	reg := NewRegistry()
	v, err := NewValidator(reg)
	require.NoError(t, err)
	bus, err := eda.NewBus("orders", eda.WithEventValidator(v))
	require.NoError(t, err)
	defer func() { require.NoError(t, bus.Close(context.Background())) }()

	p, err := eda.NewProducer[Order](bus, "com.example.orders", "OrderPlaced")
	require.NoError(t, err)
	ver, err := RegisterProducer(reg, p)
	require.NoError(t, err)
	assert.Equal(t, orderName, ver.Name)
	assert.Equal(t, FormatJSONSchema2020, ver.Format)
	assert.Equal(t, "com.example.orders", ver.Source)
	assert.Equal(t, "OrderPlaced", ver.DetailType)

	_, err = p.Put(context.Background(), Order{OrderID: "o-1", Items: []OrderItem{}})
	require.NoError(t, err)
	// Another producer of the same event type with another shape is
	// refused by the registered schema.
	other, err := eda.NewProducer[map[string]any](bus, "com.example.orders", "OrderPlaced")
	require.NoError(t, err)
	_, err = other.Put(context.Background(), map[string]any{"orderId": 7})
	var ee *eda.EntryError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, eda.ErrorCodeValidationFailed, ee.Code)
	assert.Contains(t, ee.Message, "detail.OrderID: is required (required)")
}

type embeddedA struct {
	Name  string
	Label string `json:"label"`
	Kind  string `json:"Kind"`
}

type embeddedB struct {
	Name  string
	Label string
	Kind  string
}

// ambiguous has two embedded structs whose fields collide at one depth.
type ambiguous struct {
	embeddedA
	embeddedB
	Own int `json:"own"`
}

func TestTypeSchemaResolvesEmbeddedFieldsAsEncodingJSON(t *testing.T) {
	content, err := TypeSchema[ambiguous]("a", "B")
	require.NoError(t, err)
	var doc struct {
		Properties struct {
			Detail struct {
				Properties map[string]any `json:"properties"`
			} `json:"detail"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(content, &doc))
	props := doc.Properties.Detail.Properties
	assert.Contains(t, props, "own")
	assert.Contains(t, props, "label")
	assert.Contains(t, props, "Label", "JSON names are case-sensitive")
	assert.NotContains(t, props, "Name", "two untagged at one depth: neither")
	assert.Contains(t, props, "Kind", "of two at one depth, the tagged one")
	out, err := json.Marshal(ambiguous{embeddedA: embeddedA{Name: "a", Label: "l", Kind: "x"}, embeddedB: embeddedB{Name: "b", Label: "m", Kind: "y"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"label":"l","Label":"m","Kind":"x","own":0}`, string(out), "what encoding/json does")
}
