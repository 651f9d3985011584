package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingHandler counts deliveries and signals each.
type countingHandler struct {
	mu  sync.Mutex
	ids []string
	got chan struct{}
}

func newCountingHandler() *countingHandler { return &countingHandler{got: make(chan struct{}, 100)} }

func (h *countingHandler) Handle(ctx context.Context, d eda.Delivery) error {
	h.mu.Lock()
	h.ids = append(h.ids, d.ID)
	h.mu.Unlock()
	h.got <- struct{}{}
	return nil
}

func (h *countingHandler) delivered() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ids...)
}

// validatedBus returns a bus validating with v, every event of which goes
// to the returned handler; the bus is closed when the test ends.
func validatedBus(t *testing.T, v eda.EventValidator) (*eda.Bus, *countingHandler) {
	t.Helper()
	bus, err := eda.NewBus("orders", eda.WithEventValidator(v))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, bus.Close(ctx))
	})
	h := newCountingHandler()
	require.NoError(t, bus.PutRule(eda.Rule{Name: "all", EventPattern: `{"source":[{"prefix":""}]}`,
		Targets: []eda.Target{eda.HandlerTarget("count", h)}}))
	return bus, h
}

func orderEntry(detail string) eda.Event {
	return eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(detail)}
}

const badOrder = `{"orderId":"o-2","total":-1,"items":[{"sku":"A-1","qty":2}]}`

func orderRegistry(t *testing.T) *Registry {
	t.Helper()
	reg := NewRegistry()
	_, err := reg.Create(orderName, "", []byte(orderDraft4))
	require.NoError(t, err)
	return reg
}

func TestValidatorEnforceRejectsAtPutEvents(t *testing.T) {
	v, err := NewValidator(orderRegistry(t))
	require.NoError(t, err)
	bus, h := validatedBus(t, v)
	ctx := context.Background()
	res, err := bus.PutEvents(ctx, orderEntry(goodOrder), orderEntry(badOrder),
		eda.Event{Source: "com.example.other", DetailType: "Unknown", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.NoError(t, bus.Drain(ctx))

	assert.Equal(t, 1, res.FailedEntryCount)
	assert.Equal(t, eda.ErrorCodeValidationFailed, res.Entries[1].ErrorCode)
	assert.Equal(t, "detail.total: must be >= 0 (minimum) [schema "+orderName+" version 1]", res.Entries[1].ErrorMessage)
	assert.ElementsMatch(t, []string{res.Entries[0].EventID, res.Entries[2].EventID}, h.delivered(),
		"the valid order and the event without a schema are delivered, the invalid one is not")
	assert.Equal(t, ValidatorStats{Validated: 2, Valid: 1, Rejected: 1, NoSchema: 1}, v.Stats())
}

func TestValidatorWarnDeliversLogsAndCounts(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	v, err := NewValidator(orderRegistry(t), WithMode(ModeWarn), WithLogger(logger))
	require.NoError(t, err)
	bus, h := validatedBus(t, v)
	ctx := context.Background()
	res, err := bus.PutEvents(ctx, orderEntry(goodOrder), orderEntry(badOrder))
	require.NoError(t, err)
	require.NoError(t, res.Err())
	require.NoError(t, bus.Drain(ctx))
	assert.Len(t, h.delivered(), 2)
	assert.Equal(t, ValidatorStats{Validated: 2, Valid: 1, Warned: 1}, v.Stats())
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "detail.total: must be >= 0 (minimum)")
	assert.Contains(t, logs.String(), "id="+res.Entries[1].EventID)
}

func TestValidatorModePerSchema(t *testing.T) {
	reg := orderRegistry(t)
	_, err := reg.Create("com.example.orders@OrderCancelled", "", []byte(`{"properties":{"detail":{"required":["reason"]}}}`))
	require.NoError(t, err)
	// Enforce for the bus, off for OrderPlaced: bad orders pass unchecked,
	// bad cancellations are rejected.
	v, err := NewValidator(reg, WithMode(ModeEnforce), WithSchemaMode(orderName, ModeOff))
	require.NoError(t, err)
	bus, _ := validatedBus(t, v)
	res, err := bus.PutEvents(context.Background(), orderEntry(badOrder),
		eda.Event{Source: "com.example.orders", DetailType: "OrderCancelled", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	assert.Empty(t, res.Entries[0].ErrorCode)
	assert.Equal(t, eda.ErrorCodeValidationFailed, res.Entries[1].ErrorCode)
	assert.Equal(t, "detail.reason: is required (required) [schema com.example.orders@OrderCancelled version 1]", res.Entries[1].ErrorMessage)
	assert.Equal(t, ValidatorStats{Validated: 1, Rejected: 1, Off: 1}, v.Stats())

	// Off for the bus, enforce for one schema.
	v, err = NewValidator(reg, WithMode(ModeOff), WithSchemaMode(orderName, ModeEnforce))
	require.NoError(t, err)
	require.Error(t, v.ValidateEvent(context.Background(), &eda.Event{Source: "com.example.orders", DetailType: "OrderPlaced"}, orderEvent(badOrder)))
	require.NoError(t, v.ValidateEvent(context.Background(), &eda.Event{Source: "com.example.orders", DetailType: "OrderCancelled"}, []byte(`{"detail":{}}`)))
}

func TestValidatorStrictMode(t *testing.T) {
	ctx := context.Background()
	unknown := eda.Event{Source: "com.example.other", DetailType: "Unknown", Detail: json.RawMessage(`{}`)}

	v, err := NewValidator(orderRegistry(t), WithStrict())
	require.NoError(t, err)
	bus, h := validatedBus(t, v)
	res, err := bus.PutEvents(ctx, unknown, orderEntry(goodOrder))
	require.NoError(t, err)
	require.NoError(t, bus.Drain(ctx))
	assert.Equal(t, eda.ErrorCodeValidationFailed, res.Entries[0].ErrorCode)
	assert.Equal(t, `schema: no schema for the event: no schema com.example.other@Unknown for source "com.example.other", detail-type "Unknown"`, res.Entries[0].ErrorMessage)
	assert.Len(t, h.delivered(), 1)
	assert.Equal(t, ValidatorStats{Validated: 1, Valid: 1, Rejected: 1, NoSchema: 1}, v.Stats())
	e := unknown
	assert.ErrorIs(t, v.ValidateEvent(ctx, &e, []byte(`{}`)), ErrNoSchema)

	// Strict in warn mode: delivered, counted.
	var logs bytes.Buffer
	v, err = NewValidator(orderRegistry(t), WithStrict(), WithMode(ModeWarn), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	require.NoError(t, v.ValidateEvent(ctx, &e, []byte(`{}`)))
	assert.Equal(t, ValidatorStats{Warned: 1, NoSchema: 1}, v.Stats())
	assert.Contains(t, logs.String(), "no schema com.example.other@Unknown")
}

func TestValidatorSeesRegistryChanges(t *testing.T) {
	reg := NewRegistry()
	v, err := NewValidator(reg)
	require.NoError(t, err)
	ctx := context.Background()
	e := orderEntry(badOrder)
	require.NoError(t, v.ValidateEvent(ctx, &e, orderEvent(badOrder)), "no schema yet")
	_, err = reg.Create(orderName, "", []byte(orderDraft4))
	require.NoError(t, err)
	require.Error(t, v.ValidateEvent(ctx, &e, orderEvent(badOrder)))
	_, err = reg.Update(orderName, "", []byte(`{"type":"object"}`))
	require.NoError(t, err)
	require.NoError(t, v.ValidateEvent(ctx, &e, orderEvent(badOrder)), "the latest version counts")
}

func TestNewValidatorIsValidated(t *testing.T) {
	_, err := NewValidator(nil)
	require.Error(t, err)
	reg := NewRegistry()
	for _, o := range []Option{WithMode("loud"), WithSchemaMode("a@B", "loud"), WithSchemaMode("a b", ModeWarn), WithLogger(nil)} {
		_, err := NewValidator(reg, o)
		assert.Error(t, err)
	}
	_, err = NewValidator(reg, nil)
	require.NoError(t, err, "a nil option is ignored")
}

func TestValidationMessagesPerKeyword(t *testing.T) {
	cases := []struct{ schema, detail, want string }{
		{`{"type":"number","maximum":10}`, `11`, "detail: must be <= 10 (maximum)"},
		{`{"type":"number","exclusiveMinimum":0}`, `0`, "detail: must be > 0 (exclusiveMinimum)"},
		{`{"type":"number","exclusiveMaximum":1.5}`, `1.5`, "detail: must be < 1.5 (exclusiveMaximum)"},
		{`{"type":"number","multipleOf":0.5}`, `0.7`, "detail: must be a multiple of 0.5 (multipleOf)"},
		{`{"type":"string","maxLength":2}`, `"abc"`, "detail: must have at most 2 characters (maxLength)"},
		{`{"type":"array","maxItems":1}`, `[1,2]`, "detail: must have at most 1 items (maxItems)"},
		{`{"type":"string","pattern":"^a"}`, `"b"`, `detail: must match the pattern "^a" (pattern)`},
		{`{"enum":["a","b"]}`, `"c"`, "detail: must be one of 'a', 'b' (enum)"},
		{`{"const":"a"}`, `"c"`, "detail: must be 'a' (const)"},
		{`{"type":"object","properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"b":2}`, "detail.b: is not allowed (additionalProperties)"},
		{`{"type":"object","minProperties":1}`, `{}`, "detail: minProperties: got 0, want 1 (minProperties)"},
	}
	for _, c := range cases {
		reg := NewRegistry()
		_, err := reg.Create("a@B", FormatJSONSchema2020, []byte(`{"properties":{"detail":`+c.schema+`}}`))
		require.NoError(t, err, c.schema)
		err = reg.Validate("a@B", "", []byte(`{"detail":`+c.detail+`}`))
		assert.EqualError(t, err, c.want+" [schema a@B version 1]", c.schema)
	}
}

func TestChainRunsValidatorsInOrder(t *testing.T) {
	d := newTestDiscoverer(t)
	v, err := NewValidator(orderRegistry(t))
	require.NoError(t, err)
	bus, h := validatedBus(t, Chain(d, nil, v))
	ctx := context.Background()
	res, err := bus.PutEvents(ctx, orderEntry(goodOrder), orderEntry(badOrder))
	require.NoError(t, err)
	require.NoError(t, bus.Drain(ctx))
	flush(t, d)
	assert.Empty(t, res.Entries[0].ErrorCode)
	assert.Equal(t, eda.ErrorCodeValidationFailed, res.Entries[1].ErrorCode)
	assert.Len(t, h.delivered(), 1)
	assert.Equal(t, uint64(2), d.Stats().Inspected, "the discoverer, first, saw the rejected event too")
	assert.Equal(t, uint64(1), v.Stats().Rejected)
}
