package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orderDraft4 is an order schema in JSON Schema draft 4.
const orderDraft4 = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "required": ["source", "detail-type", "detail"],
  "properties": {
    "source": {"type": "string", "enum": ["com.example.orders"]},
    "detail-type": {"type": "string", "enum": ["OrderPlaced"]},
    "time": {"type": "string", "format": "date-time"},
    "detail": {"$ref": "#/definitions/Order"}
  },
  "definitions": {
    "Order": {
      "type": "object",
      "required": ["orderId", "total", "items"],
      "properties": {
        "orderId": {"type": "string", "minLength": 1},
        "total": {"type": "number", "minimum": 0},
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/Item"}}
      }
    },
    "Item": {
      "type": "object",
      "required": ["sku", "qty"],
      "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1, "exclusiveMinimum": false}}
    }
  }
}`

// order2020 is the same order schema in JSON Schema 2020-12.
const order2020 = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["source", "detail-type", "detail"],
  "properties": {
    "source": {"const": "com.example.orders"},
    "detail-type": {"const": "OrderPlaced"},
    "time": {"type": "string", "format": "date-time"},
    "detail": {"$ref": "#/$defs/Order"}
  },
  "$defs": {
    "Order": {
      "type": "object",
      "required": ["orderId", "total", "items"],
      "properties": {
        "orderId": {"type": "string", "minLength": 1},
        "total": {"type": "number", "minimum": 0},
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Item"}}
      }
    },
    "Item": {
      "type": "object",
      "required": ["sku", "qty"],
      "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}
    }
  }
}`

// orderOpenAPI is the same order schema in OpenAPI 3.0, as EventBridge
// writes its schemas.
const orderOpenAPI = `{
  "openapi": "3.0.0",
  "info": {"title": "OrderPlaced", "version": "1.0.0"},
  "paths": {},
  "components": {"schemas": {
    "AWSEvent": {
      "type": "object",
      "x-amazon-events-source": "com.example.orders",
      "x-amazon-events-detail-type": "OrderPlaced",
      "required": ["source", "detail-type", "detail"],
      "properties": {
        "source": {"type": "string"},
        "detail-type": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "detail": {"$ref": "#/components/schemas/Order"}
      }
    },
    "Order": {
      "type": "object",
      "required": ["orderId", "total", "items"],
      "properties": {
        "orderId": {"type": "string", "minLength": 1},
        "total": {"type": "number", "minimum": 0},
        "coupon": {"type": "string", "nullable": true},
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Item"}}
      }
    },
    "Item": {
      "type": "object",
      "required": ["sku", "qty"],
      "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}
    }
  }}
}`

const orderName = "com.example.orders@OrderPlaced"

// orderEvent returns an order envelope with the given detail.
func orderEvent(detail string) []byte {
	return []byte(`{"version":"0","id":"1","detail-type":"OrderPlaced","source":"com.example.orders","account":"000000000000",` +
		`"time":"2026-12-06T10:00:00Z","region":"us-east-1","resources":[],"detail":` + detail + `}`)
}

const goodOrder = `{"orderId":"o-1","total":12.5,"items":[{"sku":"A-1","qty":2}]}`

var orderFormats = []struct {
	format  Format
	content string
}{
	{FormatJSONSchemaDraft4, orderDraft4},
	{FormatJSONSchema2020, order2020},
	{FormatOpenAPI3, orderOpenAPI},
}

func TestValidationVerdictsAndMessagesPerFormat(t *testing.T) {
	cases := []struct {
		name   string
		detail string
		want   string // "" when valid
	}{
		{"valid", goodOrder, ""},
		{"negative total", `{"orderId":"o-1","total":-1,"items":[{"sku":"A-1","qty":2}]}`, "detail.total: must be >= 0 (minimum)"},
		{"missing total", `{"orderId":"o-1","items":[{"sku":"A-1","qty":2}]}`, "detail.total: is required (required)"},
		{"total a string", `{"orderId":"o-1","total":"12","items":[{"sku":"A-1","qty":2}]}`, "detail.total: must be number, not string (type)"},
		{"item qty zero", `{"orderId":"o-1","total":1,"items":[{"sku":"A-1","qty":0}]}`, "detail.items[0].qty: must be >= 1 (minimum)"},
		{"qty not integer", `{"orderId":"o-1","total":1,"items":[{"sku":"A-1","qty":1.5}]}`, "detail.items[0].qty: must be integer, not number (type)"},
		{"no items", `{"orderId":"o-1","total":1,"items":[]}`, "detail.items: must have at least 1 items (minItems)"},
		{"empty id", `{"orderId":"","total":1,"items":[{"sku":"A-1","qty":1}]}`, "detail.orderId: must have at least 1 characters (minLength)"},
	}
	for _, f := range orderFormats {
		t.Run(string(f.format), func(t *testing.T) {
			reg := NewRegistry()
			v, err := reg.Create(orderName, f.format, []byte(f.content))
			require.NoError(t, err)
			assert.Equal(t, "1", v.Version)
			assert.Equal(t, f.format, v.Format)
			assert.Equal(t, "com.example.orders", v.Source)
			assert.Equal(t, "OrderPlaced", v.DetailType)
			for _, c := range cases {
				err := reg.Validate(orderName, "", orderEvent(c.detail))
				if c.want == "" {
					assert.NoError(t, err, c.name)
					continue
				}
				var ve *ValidationError
				require.ErrorAs(t, err, &ve, c.name)
				assert.Equal(t, c.want+" [schema "+orderName+" version 1]", err.Error(), c.name)
			}
			// The envelope is validated too.
			bad := strings.Replace(string(orderEvent(goodOrder)), "2026-12-06T10:00:00Z", "yesterday", 1)
			assert.EqualError(t, reg.Validate(orderName, "", []byte(bad)),
				"time: must be a valid date-time (format) [schema "+orderName+" version 1]")
		})
	}
}

func TestOpenAPINullable(t *testing.T) {
	reg := NewRegistry()
	_, err := reg.Create(orderName, "", []byte(orderOpenAPI))
	require.NoError(t, err)
	assert.NoError(t, reg.Validate(orderName, "", orderEvent(`{"orderId":"o-1","total":1,"coupon":null,"items":[{"sku":"A","qty":1}]}`)))
	assert.Error(t, reg.Validate(orderName, "", orderEvent(`{"orderId":"o-1","total":1,"coupon":5,"items":[{"sku":"A","qty":1}]}`)))
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	reg := NewRegistry()
	_, err := reg.Create(orderName, "", []byte(orderDraft4))
	require.NoError(t, err)
	err = reg.Validate(orderName, "", orderEvent(`{"orderId":"","total":-1,"items":[{"qty":0},{"sku":1,"qty":1}]}`))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []Problem{
		{Path: "detail.items[0].qty", Keyword: "minimum", Message: "must be >= 1"},
		{Path: "detail.items[0].sku", Keyword: "required", Message: "is required"},
		{Path: "detail.items[1].sku", Keyword: "type", Message: "must be string, not number"},
		{Path: "detail.orderId", Keyword: "minLength", Message: "must have at least 1 characters"},
		{Path: "detail.total", Keyword: "minimum", Message: "must be >= 0"},
	}, ve.Problems)
	ve.Problems = append(ve.Problems, Problem{Path: "x", Keyword: "k", Message: "m"})
	assert.True(t, strings.HasSuffix(ve.Error(), "; and 1 more [schema "+orderName+" version 1]"), ve.Error())

	require.ErrorAs(t, reg.Validate(orderName, "", []byte(`{"detail":`)), &ve)
	assert.Equal(t, "json", ve.Problems[0].Keyword)
	assert.Equal(t, "(event)", ve.Problems[0].String()[:7])
}

func TestRegistryVersionsAndLifecycle(t *testing.T) {
	reg := NewRegistry()
	_, err := reg.Update(orderName, "", []byte(orderDraft4))
	require.ErrorIs(t, err, ErrNotFound)

	v1, err := reg.Create(orderName, "", []byte(orderDraft4))
	require.NoError(t, err)
	assert.Equal(t, FormatJSONSchemaDraft4, v1.Format, "detected from $schema")
	_, err = reg.Create(orderName, "", []byte(orderDraft4))
	require.ErrorIs(t, err, ErrExists)

	// The same content, spaced differently, adds no version.
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, []byte(orderDraft4)))
	same, err := reg.Update(orderName, "", compact.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "1", same.Version)

	v2, err := reg.Update(orderName, "", []byte(order2020))
	require.NoError(t, err)
	assert.Equal(t, "2", v2.Version)
	assert.Equal(t, []string{"1", "2"}, reg.Versions(orderName))

	// The latest version validates; an older one can be asked for.
	d, err := reg.Describe(orderName, "")
	require.NoError(t, err)
	assert.Equal(t, "2", d.Version)
	assert.JSONEq(t, order2020, string(d.Content))
	d, err = reg.Describe(orderName, "1")
	require.NoError(t, err)
	assert.JSONEq(t, orderDraft4, string(d.Content))
	_, err = reg.Describe(orderName, "9")
	require.ErrorIs(t, err, ErrNotFound)

	v3, err := reg.Put(orderName, FormatOpenAPI3, []byte(orderOpenAPI))
	require.NoError(t, err)
	assert.Equal(t, "3", v3.Version)
	_, err = reg.Put("com.example@Other", "", []byte(`{"type":"object"}`))
	require.NoError(t, err)

	assert.Equal(t, []Summary{
		{Name: "com.example.orders@OrderPlaced", LatestVersion: "3", VersionCount: 3, Format: FormatOpenAPI3},
	}, reg.List("com.example.orders"))
	assert.Len(t, reg.List(""), 2)

	require.NoError(t, reg.DeleteVersion(orderName, "3"))
	assert.Equal(t, []string{"1", "2"}, reg.Versions(orderName))
	require.ErrorIs(t, reg.DeleteVersion(orderName, "3"), ErrNotFound)
	v4, err := reg.Update(orderName, "", []byte(orderOpenAPI))
	require.NoError(t, err)
	assert.Equal(t, "4", v4.Version, "version numbers are not reused")

	require.NoError(t, reg.Delete(orderName))
	require.ErrorIs(t, reg.Delete(orderName), ErrNotFound)
	assert.Nil(t, reg.Versions(orderName))
	require.ErrorIs(t, reg.Validate(orderName, "", orderEvent(goodOrder)), ErrNotFound)

	require.NoError(t, reg.DeleteVersion("com.example@Other", "1"))
	assert.Empty(t, reg.List(""), "deleting the last version deletes the schema")
}

func TestRegistryRefusesBadInput(t *testing.T) {
	reg := NewRegistry()
	cases := []struct {
		name, schema string
		format       Format
		want         error
	}{
		{"", `{}`, "", ErrInvalidName},
		{"a/b", `{}`, "", ErrInvalidName},
		{"a b", `{}`, "", ErrInvalidName},
		{strings.Repeat("a", 386), `{}`, "", ErrInvalidName},
		{"x@Y", `not json`, "", ErrInvalidSchema},
		{"x@Y", `[1]`, "", ErrInvalidSchema},
		{"x@Y", `{"type":"nope"}`, "", ErrInvalidSchema},
		{"x@Y", `{"minimum":"zero"}`, "", ErrInvalidSchema},
		{"x@Y", `{"$schema":"http://json-schema.org/draft-07/schema#"}`, "", ErrInvalidSchema},
		{"x@Y", `{"$ref":"http://example.com/other.json"}`, "", ErrInvalidSchema},
		{"x@Y", `{"$ref":"#/definitions/missing"}`, "", ErrInvalidSchema},
		{"x@Y", `{"type":"object"}`, "YAML", ErrInvalidSchema},
		{"x@Y", `{"type":"object"}`, FormatOpenAPI3, ErrInvalidSchema},
		{"x@Y", `{"openapi":"3.0.0","components":{"schemas":{}}}`, "", ErrInvalidSchema},
		{"x@Y", `{"openapi":"3.0.0","components":{"schemas":{"A":{},"B":{}}}}`, "", ErrInvalidSchema},
		{"x@Y", `{"openapi":"3.0.0","components":{"schemas":{"A":{"type":7}}}}`, "", ErrInvalidSchema},
		{"x@Y", `{"$schema":"http://json-schema.org/draft-04/schema#"}`, FormatJSONSchema2020, ErrInvalidSchema},
	}
	for _, c := range cases {
		_, err := reg.Create(c.name, c.format, []byte(c.schema))
		assert.ErrorIs(t, err, c.want, "%s %s", c.name, c.schema)
	}
	assert.Empty(t, reg.List(""))
	// A draft 4 schema without $schema may be read as 2020-12 when asked.
	_, err := reg.Create("x@Y", FormatJSONSchema2020, []byte(`{"type":"object"}`))
	require.NoError(t, err)
}

func TestExportConvertsBetweenFormats(t *testing.T) {
	valid, invalid := orderEvent(goodOrder), orderEvent(`{"orderId":"o-1","total":-1,"items":[{"sku":"A","qty":1}]}`)
	exclusive := orderEvent(`{"orderId":"o-1","total":0,"items":[{"sku":"A","qty":1}]}`)
	for _, from := range orderFormats {
		for _, to := range []Format{FormatJSONSchemaDraft4, FormatJSONSchema2020, FormatOpenAPI3} {
			reg := NewRegistry()
			_, err := reg.Create(orderName, from.format, []byte(from.content))
			require.NoError(t, err)
			out, err := reg.Export(orderName, "", to)
			require.NoError(t, err, "%s → %s", from.format, to)

			// The export is a schema of its format that gives the same verdicts.
			back := NewRegistry()
			v, err := back.Create(orderName, to, out)
			require.NoError(t, err, "%s → %s:\n%s", from.format, to, out)
			assert.Equal(t, "com.example.orders", v.Source, "%s → %s", from.format, to)
			assert.NoError(t, back.Validate(orderName, "", valid), "%s → %s", from.format, to)
			assert.Error(t, back.Validate(orderName, "", invalid), "%s → %s", from.format, to)
			assert.NoError(t, back.Validate(orderName, "", exclusive), "%s → %s", from.format, to)
		}
	}
	_, err := NewRegistry().Export(orderName, "", FormatOpenAPI3)
	require.ErrorIs(t, err, ErrNotFound)
	reg := NewRegistry()
	_, err = reg.Create(orderName, "", []byte(orderDraft4))
	require.NoError(t, err)
	_, err = reg.Export(orderName, "", "YAML")
	require.ErrorIs(t, err, ErrInvalidSchema)
}

func TestExportExclusiveBounds(t *testing.T) {
	reg := NewRegistry()
	_, err := reg.Create("a@B", "", []byte(`{"properties":{"n":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":10,"exclusiveMaximum":true}}}`))
	require.NoError(t, err)
	out, err := reg.Export("a@B", "", FormatJSONSchema2020)
	require.NoError(t, err)
	assert.JSONEq(t, `{"$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"n":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":10}}}`, string(out))
	back := NewRegistry()
	_, err = back.Create("a@B", "", out)
	require.NoError(t, err)
	out4, err := back.Export("a@B", "", FormatJSONSchemaDraft4)
	require.NoError(t, err)
	assert.JSONEq(t, `{"$schema":"http://json-schema.org/draft-04/schema#","properties":{"n":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":10,"exclusiveMaximum":true}}}`, string(out4))
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, orderName+".json"), []byte(orderOpenAPI), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a schema"), 0o600))
	reg := NewRegistry()
	loaded, err := reg.LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, loaded, 1)
	assert.Equal(t, orderName, loaded[0].Name)
	assert.Equal(t, FormatOpenAPI3, loaded[0].Format)
	require.NoError(t, reg.Validate(orderName, "", orderEvent(goodOrder)))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "z@Bad.json"), []byte(`{"type":1}`), 0o600))
	loaded, err = reg.LoadDir(dir)
	require.ErrorIs(t, err, ErrInvalidSchema)
	assert.Contains(t, err.Error(), "z@Bad.json")
	assert.Len(t, loaded, 1, "the files before the bad one are loaded")

	_, err = reg.LoadDir(filepath.Join(dir, "missing"))
	assert.Error(t, err)
	assert.False(t, errors.Is(err, ErrInvalidSchema))
}

func TestName(t *testing.T) {
	assert.Equal(t, "aws.ec2@EC2InstanceStateChangeNotification", Name("aws.ec2", "EC2 Instance State-change Notification"))
	assert.Equal(t, "aws.s3@ObjectCreated", Name("aws.s3", "Object Created"))
	assert.Equal(t, "aws.events@ScheduledEvent", Name("aws.events", "Scheduled Event"))
	assert.Equal(t, "com.example@OrderPlaced", Name("com.example", "order.placed"))
	assert.Equal(t, "com.example@OrderPlaced", Name("com.example", "OrderPlaced"))
}

func TestPredefinedSchemasValidateTheDocumentedSamples(t *testing.T) {
	reg := NewRegistry()
	loaded, err := reg.LoadFS(PredefinedSchemas())
	require.NoError(t, err)
	require.Len(t, loaded, 3)
	for _, v := range loaded {
		t.Run(v.Name, func(t *testing.T) {
			assert.Equal(t, FormatOpenAPI3, v.Format)
			assert.Equal(t, v.Name, Name(v.Source, v.DetailType), "the schema binds to its events")
			sample, err := os.ReadFile(filepath.Join("testdata", "samples", v.Name+".json"))
			require.NoError(t, err)
			require.NoError(t, reg.Validate(v.Name, "", sample))

			// A sample without its detail's first required field fails.
			var ev map[string]any
			require.NoError(t, json.Unmarshal(sample, &ev))
			delete(ev, "detail")
			broken, err := json.Marshal(ev)
			require.NoError(t, err)
			assert.ErrorContains(t, reg.Validate(v.Name, "", broken), "detail: is required (required)")
		})
	}
	// Documented detail constraints hold.
	assert.ErrorContains(t, reg.Validate("aws.ec2@EC2InstanceStateChangeNotification", "",
		[]byte(`{"version":"0","id":"1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"1","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":[],"detail":{"instance-id":"i-1","state":"exploded"}}`)),
		"detail.state: must be one of")
}

func TestExportToDraft4KeepsConst(t *testing.T) {
	reg := NewRegistry()
	_, err := reg.Create(orderName, "", []byte(order2020))
	require.NoError(t, err)
	out, err := reg.Export(orderName, "", FormatJSONSchemaDraft4)
	require.NoError(t, err)
	back := NewRegistry()
	v, err := back.Create(orderName, "", out)
	require.NoError(t, err)
	assert.Equal(t, FormatJSONSchemaDraft4, v.Format)
	assert.Equal(t, "com.example.orders", v.Source)
	wrongSource := strings.Replace(string(orderEvent(goodOrder)), `"source":"com.example.orders"`, `"source":"com.example.other"`, 1)
	assert.ErrorContains(t, back.Validate(orderName, "", []byte(wrongSource)), "source: must be 'com.example.orders' (enum)")
}

func TestOpenAPI31ReadsAs2020(t *testing.T) {
	oas := `{"openapi":"3.1.0","components":{"schemas":{"Event":{"type":"object",
	  "properties":{"detail":{"type":"object","properties":{"n":{"type":["integer","null"],"exclusiveMinimum":0}}}}}}}}`
	reg := NewRegistry()
	v, err := reg.Create("a@B", "", []byte(oas))
	require.NoError(t, err)
	assert.Equal(t, FormatOpenAPI3, v.Format)
	assert.NoError(t, reg.Validate("a@B", "", []byte(`{"detail":{"n":null}}`)))
	assert.NoError(t, reg.Validate("a@B", "", []byte(`{"detail":{"n":1}}`)))
	assert.EqualError(t, reg.Validate("a@B", "", []byte(`{"detail":{"n":0}}`)), "detail.n: must be > 0 (exclusiveMinimum) [schema a@B version 1]")
	for _, to := range []Format{FormatJSONSchemaDraft4, FormatJSONSchema2020, FormatOpenAPI3} {
		out, err := reg.Export("a@B", "", to)
		require.NoError(t, err)
		back := NewRegistry()
		_, err = back.Create("a@B", to, out)
		require.NoError(t, err, "%s", out)
		assert.NoError(t, back.Validate("a@B", "", []byte(`{"detail":{"n":null}}`)), to)
		assert.Error(t, back.Validate("a@B", "", []byte(`{"detail":{"n":0}}`)), to)
	}
}
