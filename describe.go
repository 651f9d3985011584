package eda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Topology is the event flow of one or more buses as data: which rules
// each bus has, their patterns, and where their targets deliver. Print it
// with [Topology.Mermaid] to look at the flow instead of the wiring code.
type Topology struct {
	// Buses lists the described bus first, then the buses its bus targets
	// reach, transitively, each once.
	Buses []BusDescription
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
	// name, or the Go type of a handler.
	Destination string
	// Input says what the target receives: "event", "input" (a constant),
	// "input-path <path>" or "input-transformer".
	Input string
	// MaxConcurrency is the target's own limit; 0 means the bus's.
	MaxConcurrency int
}

// Describe returns the topology of b and of every bus reachable from it
// through bus targets.
func (b *Bus) Describe() Topology {
	var topo Topology
	seen := map[*Bus]bool{}
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
				rd.Targets = append(rd.Targets, td)
			}
			bd.Rules = append(bd.Rules, rd)
		}
		topo.Buses = append(topo.Buses, bd)
	}
	return topo
}

// Mermaid renders the topology as a Mermaid flowchart: a stadium node per
// bus, a hexagon per rule (name and pattern; disabled rules with a dotted
// edge) and a box per target, with bus targets pointing at their bus.
func (t Topology) Mermaid() string {
	var sb strings.Builder
	sb.WriteString("flowchart LR\n")
	busNode := make(map[string]string, len(t.Buses))
	for i, b := range t.Buses {
		busNode[b.Name] = fmt.Sprintf("bus%d", i)
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
				if tg.Kind == TargetKindBus {
					if dst, ok := busNode[tg.Destination]; ok {
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
