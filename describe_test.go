package eda

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDescribeTopology(t *testing.T) {
	central := newTestBus(t, "central")
	orders := newTestBus(t, "orders")
	rec := &recorder{}
	mustPutRule(t, orders, Rule{Name: "big-orders", Description: "fraud check",
		EventPattern: `{ "detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 1000]}]} }`,
		Targets:      []Target{HandlerTarget("fraud", rec, WithInputPath("$.detail"), WithMaxConcurrency(2))}})
	mustPutRule(t, orders, Rule{Name: "all-orders", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{BusTarget("to-central", central), HandlerTarget("store", rec,
			WithInputTransformer(InputTransformer{InputPathsMap: map[string]string{"id": "$.detail.orderId"}, InputTemplate: `{"id": <id>}`}))}})
	mustPutRule(t, central, Rule{Name: "audit", EventPattern: `{"source":[{"prefix":""}]}`, State: RuleDisabled,
		Targets: []Target{HandlerTarget("audit", rec, WithInput(`{"audit":true}`))}})

	topo := orders.Describe()
	require.Len(t, topo.Buses, 2, "buses %+v", topo.Buses)
	require.Equal(t, "orders", topo.Buses[0].Name, "the described bus first")
	require.Equal(t, "central", topo.Buses[1].Name, "then the bus its bus target reaches")
	ob := topo.Buses[0]
	require.Len(t, ob.Rules, 2, "rules %+v", ob.Rules)
	require.Equal(t, "all-orders", ob.Rules[0].Name, "rules by name")
	require.Equal(t, "big-orders", ob.Rules[1].Name, "rules by name")
	big := ob.Rules[1]
	assert.Equal(t, "fraud check", big.Description, "rule %+v", big)
	assert.Equal(t, RuleEnabled, big.State, "rule %+v", big)
	assert.Equal(t, "arn:aws:events:us-east-1:000000000000:rule/orders/big-orders", big.ARN, "rule %+v", big)
	want := TargetDescription{ID: "fraud", Kind: TargetKindHandler, Destination: "*eda.recorder", Input: "input-path $.detail", MaxConcurrency: 2}
	if assert.NotEmpty(t, big.Targets, "targets") {
		assert.Equal(t, want, big.Targets[0], "target")
	}
	if assert.NotEmpty(t, ob.Rules[0].Targets, "bus targets") {
		tg := ob.Rules[0].Targets[0]
		assert.Equal(t, TargetKindBus, tg.Kind, "bus target %+v", tg)
		assert.Equal(t, "central", tg.Destination, "bus target %+v", tg)
	}

	wantMermaid := strings.Join([]string{
		`flowchart LR`,
		`  bus0(["bus: orders"])`,
		`  bus0_rule0{{"rule: all-orders<br/>{#quot;source#quot;:[#quot;com.example.orders#quot;]}"}}`,
		`  bus0 --> bus0_rule0`,
		`  bus0_rule0 -->|"to-central"| bus1`,
		`  bus0_rule0_target1["store<br/>handler: *eda.recorder<br/>input-transformer"]`,
		`  bus0_rule0 --> bus0_rule0_target1`,
		`  bus0_rule1{{"rule: big-orders<br/>{#quot;detail-type#quot;:[#quot;OrderPlaced#quot;],#quot;detail#quot;:{#quot;total#quot;:[{#quot;numeric#quot;:[#quot;#gt;#quot;,1000]}]}}"}}`,
		`  bus0 --> bus0_rule1`,
		`  bus0_rule1_target0["fraud<br/>handler: *eda.recorder<br/>input-path $.detail"]`,
		`  bus0_rule1 --> bus0_rule1_target0`,
		`  bus1(["bus: central"])`,
		`  bus1_rule0{{"rule: audit<br/>{#quot;source#quot;:[{#quot;prefix#quot;:#quot;#quot;}]}"}}`,
		`  bus1 -. disabled .-> bus1_rule0`,
		`  bus1_rule0_target0["audit<br/>handler: *eda.recorder<br/>input"]`,
		`  bus1_rule0 --> bus1_rule0_target0`,
		``,
	}, "\n")
	assert.Equal(t, wantMermaid, topo.Mermaid(), "Mermaid")
}

func TestDescribeCycleTerminates(t *testing.T) {
	a := newTestBus(t, "a")
	b := newTestBus(t, "b")
	mustPutRule(t, a, Rule{Name: "ab", EventPattern: `{"source":["x"]}`, Targets: []Target{BusTarget("b", b)}})
	mustPutRule(t, b, Rule{Name: "ba", EventPattern: `{"source":["x"]}`, Targets: []Target{BusTarget("a", a)}})
	topo := a.Describe()
	require.Len(t, topo.Buses, 2, "buses")
	m := topo.Mermaid()
	assert.Contains(t, m, `bus0_rule0 -->|"b"| bus1`, "cycle edge a→b")
	assert.Contains(t, m, `bus1_rule0 -->|"a"| bus0`, "cycle edge b→a")
}

// namedHandler implements Named (and fmt.Stringer, which Named outranks).
type namedHandler struct{ name string }

func (h *namedHandler) Handle(context.Context, Delivery) error { return nil }
func (h *namedHandler) Name() string                           { return h.name }
func (h *namedHandler) String() string                         { return "stringer" }

// stringHandler implements fmt.Stringer only.
type stringHandler struct{}

func (stringHandler) Handle(context.Context, Delivery) error { return nil }
func (stringHandler) String() string                         { return "via String" }

// describeService has a method used as a HandlerFunc (a method value).
type describeService struct{}

func (*describeService) send(context.Context, Delivery) error { return nil }

func describeSendEmail(context.Context, Delivery) error { return nil }

type describeOrder struct{ ID int }

func describeOnOrder(context.Context, describeOrder) error { return nil }

func describeOnOrderDelivery(context.Context, describeOrder, Delivery) error { return nil }

// TestDescribeHandlerNames: Describe names a handler by Name, else String,
// else its function's name (HandlerFunc, HandlerOf, HandlerOfDelivery;
// method values; function literals), else its type — never
// "eda.HandlerFunc".
func TestDescribeHandlerNames(t *testing.T) {
	b := newTestBus(t, "names")
	var nilNamed *panickyNamed
	svc := &describeService{}
	cases := []struct {
		h    Handler
		want string
	}{
		{&namedHandler{name: "mailer"}, "mailer"},
		{&namedHandler{}, "stringer"}, // an empty Name falls through
		{stringHandler{}, "via String"},
		{HandlerFunc(describeSendEmail), "eda.describeSendEmail"},
		{HandlerFunc(svc.send), "eda.(*describeService).send"},
		{HandlerFunc(func(context.Context, Delivery) error { return nil }), "eda.TestDescribeHandlerNames.func1"},
		{HandlerOf(describeOnOrder), "eda.describeOnOrder"},
		{HandlerOfDelivery(describeOnOrderDelivery), "eda.describeOnOrderDelivery"},
		{&recorder{}, "*eda.recorder"},
	}
	targets := make([]Target, len(cases))
	for i, tc := range cases {
		targets[i] = HandlerTarget(fmt.Sprintf("t%d", i), tc.h)
	}
	cases[0].h.(*namedHandler).name = "renamed" // the name was taken when the target was built
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["x"]}`, Targets: targets})
	got := b.Describe().Buses[0].Rules[0].Targets
	require.Len(t, got, len(cases))
	for i, tc := range cases {
		assert.Equal(t, tc.want, got[i].Destination, "target %d (%T)", i, tc.h)
	}
	assert.Contains(t, b.Describe().Mermaid(), `t0<br/>handler: mailer`)
	// A Name that panics (a nil receiver, which PutRule refuses) is passed
	// over: building the target does not panic.
	assert.Equal(t, "*eda.panickyNamed", HandlerTarget("nil", nilNamed).config().dest)
}

// panickyNamed's Name dereferences its receiver.
type panickyNamed struct{ name string }

func (p *panickyNamed) Handle(context.Context, Delivery) error { return nil }
func (p *panickyNamed) Name() string                           { return p.name }
