package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/edakit/eda/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

func TestExampleOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	want := `== validation (enforce)
registered com.example.orders@OrderPlaced version 1 (JSONSchemaDraft4)
good order o-1: accepted
bad order o-2: rejected: EventValidationFailed: detail.total: must be >= 0 (minimum) [schema com.example.orders@OrderPlaced version 1]
handled o-1 for c-7: 1 item(s), total 42.50
validator: 2 validated, 1 valid, 1 rejected
== discovery
com.example.orders@OrderShipped version 1, detail: {"properties":{"carrier":{"type":"string"},"orderId":{"type":"string"},"shippedAt":{"format":"date-time","type":"string"}},"required":["carrier","orderId","shippedAt"],"type":"object"}
com.example.orders@OrderShipped version 2, detail: {"properties":{"carrier":{"type":"string"},"orderId":{"type":"string"},"shippedAt":{"format":"date-time","type":"string"},"tracking":{"properties":{"id":{"type":"string"},"url":{"type":"string"}},"required":["id","url"],"type":"object"}},"required":["carrier","orderId","shippedAt"],"type":"object"}
discoverer: 3 seen, 3 inspected, 0 sampled out, 2 versions
`
	assert.Equal(t, want, out.String())
}

// TestGeneratedOrdersAreUpToDate checks that orders/orders.go is what
// edagen makes of the schema today (go generate ./examples/schemas
// rewrites it).
func TestGeneratedOrdersAreUpToDate(t *testing.T) {
	file := filepath.Join("schemas", "com.example.orders@OrderPlaced.json")
	content, err := os.ReadFile(file)
	require.NoError(t, err)
	src, err := schema.GenerateGo(strings.TrimSuffix(filepath.Base(file), ".json"), "", content, "orders")
	require.NoError(t, err)
	checkedIn, err := os.ReadFile(filepath.Join("orders", "orders.go"))
	require.NoError(t, err)
	assert.Equal(t, string(src), string(checkedIn), "run go generate ./examples/schemas")
}
