package eda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
)

// Topology is the event flow of one or more buses as data: which rules
// each bus has, their patterns, and where their targets deliver. Print it
// with [Topology.Mermaid] to look at the flow instead of the wiring code.
type Topology struct {
	// Buses lists the described bus first, then the buses its bus targets
	// reach, transitively, each once.
	Buses []BusDescription
	// Topics lists the described topic, or the topics that the buses'
	// topic targets reach, each once.
	Topics []TopicDescription
}

// TopicDescription describes one topic.
type TopicDescription struct {
	Name string
	// ARN is the ARN SNS would give the topic.
	ARN  string
	FIFO bool
	// Subscriptions are sorted by name.
	Subscriptions []SubscriptionDescription
}

// SubscriptionDescription describes one subscription.
type SubscriptionDescription struct {
	Name string
	// Destination is the handler's name (see [Named]).
	Destination string
	// FilterPolicy is the subscription's filter policy, empty for none,
	// in FilterPolicyScope.
	FilterPolicy      string
	FilterPolicyScope FilterPolicyScope
	// RawDelivery says whether the handler receives the message body
	// itself rather than SNS's JSON notification.
	RawDelivery bool
	// MaxConcurrency is the subscription's own limit; 0 means the topic's.
	MaxConcurrency int
}

// BusDescription describes one bus.
type BusDescription struct {
	Name    string
	Account string
	Region  string
	// Rules are sorted by name.
	Rules []RuleDescription
}

// RuleDescription describes one rule.
type RuleDescription struct {
	Name         string
	Description  string
	EventPattern string
	State        RuleState
	// ARN is the ARN EventBridge would give the rule.
	ARN     string
	Targets []TargetDescription
}

// TargetDescription describes one target.
type TargetDescription struct {
	ID string
	// Kind is TargetKindHandler, TargetKindBus or TargetKindTopic.
	Kind string
	// Destination names what the target delivers to: the bus or topic
	// name, or the handler's name (see [Named]).
	Destination string
	// Input says what the target receives: "event", "input" (a constant),
	// "input-path <path>" or "input-transformer".
	Input string
	// MaxConcurrency is the target's own limit; 0 means the bus's.
	MaxConcurrency int
}

// Named is an optional interface of a [Handler]: a handler that has a
// Name method is named by it in [Bus.Describe] (TargetDescription's
// Destination, and the Mermaid text), as net/http checks a ResponseWriter
// for optional interfaces at run time. No wrapper is needed:
//
//	type mailer struct{ ... }
//
//	func (m *mailer) Handle(ctx context.Context, d eda.Delivery) error { ... }
//	func (m *mailer) Name() string { return "mailer (smtp.example.com)" }
//
// A handler without a Name method (or whose Name returns "") is named, in
// this order: by its String method ([fmt.Stringer]); for a function, such
// as a [HandlerFunc], or a handler made by [HandlerOf] or
// [HandlerOfDelivery], by the function's name as the Go runtime reports
// it, without the import path — "main.sendEmail", "orders.(*Service).Send"
// for a method value, "main.main.func1" for a function literal (the
// function it is written in, and its number there); otherwise by its Go
// type, "*orders.Mailer". The name is taken when the target is built
// ([HandlerTarget]).
type Named interface {
	Name() string
}

// handlerName returns the name Describe gives h: see Named. A Name or
// String method that panics (a nil receiver) is passed over.
func handlerName(h Handler) string {
	if n := callName[Named](h, Named.Name); n != "" {
		return n
	}
	if n := callName[fmt.Stringer](h, fmt.Stringer.String); n != "" {
		return n
	}
	if v := reflect.ValueOf(h); v.Kind() == reflect.Func && !v.IsNil() {
		if n := funcName(v.Pointer()); n != "" {
			return n
		}
	}
	return fmt.Sprintf("%T", h)
}

// callName returns name(h) when h implements I, or "" when it does not or
// name panics.
func callName[I any](h Handler, name func(I) string) (n string) {
	i, ok := h.(I)
	if !ok {
		return ""
	}
	defer func() {
		if recover() != nil {
			n = ""
		}
	}()
	return name(i)
}

// funcName returns the name of the function at pc, without its import
// path and without the "-fm" that marks a method value; "" if unknown.
func funcName(pc uintptr) string {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return ""
	}
	n := strings.TrimSuffix(f.Name(), "-fm")
	return n[strings.LastIndex(n, "/")+1:]
}

// Describe returns the topology of b and of every bus reachable from it
// through bus targets.
func (b *Bus) Describe() Topology {
	var topo Topology
	seen := map[*Bus]bool{}
	seenTopic := map[*Topic]bool{}
	queue := []*Bus{b}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		bd := BusDescription{Name: cur.name, Account: cur.cfg.account, Region: cur.cfg.region}
		for _, r := range cur.Rules() {
			rd := RuleDescription{
				Name:         r.Name,
				Description:  r.Description,
				EventPattern: r.EventPattern,
				State:        r.State,
				ARN:          cur.ruleARN(r.Name),
			}
			for _, t := range r.Targets {
				c := t.config()
				td := TargetDescription{ID: c.id, Kind: c.kind, Destination: c.dest, Input: "event", MaxConcurrency: c.delivery.maxConcurrency}
				switch {
				case c.hasInput:
					td.Input = "input"
				case c.inputPath != "":
					td.Input = "input-path " + c.inputPath
				case c.transformer != nil:
					td.Input = "input-transformer"
				}
				if c.bus != nil && !seen[c.bus] {
					queue = append(queue, c.bus)
				}
				if f, ok := c.handler.(topicForwarder); ok && !seenTopic[f.dst] {
					seenTopic[f.dst] = true
					topo.Topics = append(topo.Topics, f.dst.describe())
				}
				rd.Targets = append(rd.Targets, td)
			}
			bd.Rules = append(bd.Rules, rd)
		}
		topo.Buses = append(topo.Buses, bd)
	}
	return topo
}

// Describe returns the topology of t: its subscriptions, their filter
// policies and handlers.
func (t *Topic) Describe() Topology {
	return Topology{Topics: []TopicDescription{t.describe()}}
}

// describe returns t's description.
func (t *Topic) describe() TopicDescription {
	td := TopicDescription{Name: t.name, ARN: t.arn, FIFO: t.fifo}
	for _, s := range t.Subscriptions() {
		policy, scope := s.policy()
		td.Subscriptions = append(td.Subscriptions, SubscriptionDescription{
			Name:              s.name,
			Destination:       s.handlerName,
			FilterPolicy:      compactPattern(string(policy)),
			FilterPolicyScope: scope,
			RawDelivery:       s.raw,
			MaxConcurrency:    s.cfg.delivery.maxConcurrency,
		})
	}
	return td
}

// Mermaid renders the topology as a Mermaid flowchart: a stadium node per
// bus, a hexagon per rule (name and pattern; disabled rules with a dotted
// edge) and a box per target, with bus and topic targets pointing at their
// bus or topic; a subroutine node per topic, and a box per subscription
// (with its filter policy).
func (t Topology) Mermaid() string {
	var sb strings.Builder
	sb.WriteString("flowchart LR\n")
	busNode := make(map[string]string, len(t.Buses))
	for i, b := range t.Buses {
		busNode[b.Name] = fmt.Sprintf("bus%d", i)
	}
	topicNode := make(map[string]string, len(t.Topics))
	for i, tp := range t.Topics {
		topicNode[tp.Name] = fmt.Sprintf("topic%d", i)
	}
	for i, b := range t.Buses {
		bn := busNode[b.Name]
		fmt.Fprintf(&sb, "  %s([\"%s\"])\n", bn, "bus: "+mermaidText(b.Name))
		for j, r := range b.Rules {
			rn := fmt.Sprintf("bus%d_rule%d", i, j)
			label := "rule: " + mermaidText(r.Name) + "<br/>" + mermaidText(compactPattern(r.EventPattern))
			fmt.Fprintf(&sb, "  %s{{\"%s\"}}\n", rn, label)
			edge := "-->"
			if r.State == RuleDisabled {
				edge = "-. disabled .->"
			}
			fmt.Fprintf(&sb, "  %s %s %s\n", bn, edge, rn)
			for k, tg := range r.Targets {
				nodes := busNode
				if tg.Kind == TargetKindTopic {
					nodes = topicNode
				}
				if tg.Kind == TargetKindBus || tg.Kind == TargetKindTopic {
					if dst, ok := nodes[tg.Destination]; ok {
						fmt.Fprintf(&sb, "  %s -->|\"%s\"| %s\n", rn, mermaidText(tg.ID), dst)
						continue
					}
				}
				tn := fmt.Sprintf("%s_target%d", rn, k)
				label := mermaidText(tg.ID) + "<br/>" + tg.Kind + ": " + mermaidText(tg.Destination)
				if tg.Input != "event" {
					label += "<br/>" + mermaidText(tg.Input)
				}
				fmt.Fprintf(&sb, "  %s[\"%s\"]\n", tn, label)
				fmt.Fprintf(&sb, "  %s --> %s\n", rn, tn)
			}
		}
	}
	for i, tp := range t.Topics {
		tn := topicNode[tp.Name]
		fmt.Fprintf(&sb, "  %s[[\"%s\"]]\n", tn, "topic: "+mermaidText(tp.Name))
		for j, s := range tp.Subscriptions {
			sn := fmt.Sprintf("topic%d_sub%d", i, j)
			label := mermaidText(s.Name) + "<br/>handler: " + mermaidText(s.Destination)
			if s.FilterPolicy != "" {
				label += "<br/>" + mermaidText(s.FilterPolicy)
			}
			fmt.Fprintf(&sb, "  %s[\"%s\"]\n", sn, label)
			fmt.Fprintf(&sb, "  %s --> %s\n", tn, sn)
		}
	}
	return sb.String()
}

// compactPattern returns the pattern without insignificant whitespace.
func compactPattern(p string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(p)); err != nil {
		return p
	}
	return buf.String()
}

// mermaidText escapes text for a quoted Mermaid label: quotes would end the
// label, and angle brackets would be read as HTML.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ")
	return r.Replace(s)
}
