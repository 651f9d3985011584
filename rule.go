package eda

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
)

// ErrInvalidRule is wrapped by the errors of [Bus.PutRule] for invalid
// names, states and event patterns, duplicate or invalid targets (a nil
// handler, such as HandlerFunc(nil); a middleware constructor that panics
// or returns a nil handler) and invalid input settings. The error names the
// rule and, for a target, the target. For an invalid event pattern it also
// wraps the [*PatternError] (use errors.As).
var ErrInvalidRule = errors.New("eda: invalid rule")

// ErrRuleNotFound is returned for a rule name the bus does not hold, like
// EventBridge's ResourceNotFoundException.
var ErrRuleNotFound = errors.New("eda: rule not found")

// RuleState says whether a rule routes events.
type RuleState string

const (
	// RuleEnabled rules route matching events to their targets. A Rule with
	// an empty State is enabled, as in EventBridge.
	RuleEnabled RuleState = "ENABLED"
	// RuleDisabled rules are kept but route nothing.
	RuleDisabled RuleState = "DISABLED"
)

// Rule routes the events that match its pattern to its targets.
type Rule struct {
	// Name identifies the rule on its bus: 1 to 64 of [.-_A-Za-z0-9].
	Name string
	// Description is free text, shown by [Bus.Describe].
	Description string
	// EventPattern is an EventBridge event pattern (JSON), matched against
	// the event's JSON form, envelope and detail.
	EventPattern string
	// State is RuleEnabled (or empty) or RuleDisabled.
	State RuleState
	// Targets receive the matching events; ids must be unique in the rule.
	Targets []Target
}

// ruleCounters count a rule's routing; they survive the rule's replacement
// (but not its deletion).
type ruleCounters struct {
	matched   atomic.Uint64
	triggered atomic.Uint64
}

// ruleState is one rule as the routing table holds it.
type ruleState struct {
	name     string
	rule     Rule // as put; Targets copied
	enabled  bool
	targets  []*targetRuntime
	counters *ruleCounters
}

// routeTable maps rule names to rules. A table is never modified once
// published: writers build a new one (copy on write).
type routeTable struct {
	rules map[string]*ruleState
	// enabled counts the enabled rules; with none, routing skips the match.
	enabled int
	// readers counts the events being routed with this table.
	readers atomic.Int64
	// stale is set once a newer table replaced this one.
	stale atomic.Bool
}

// retirement holds the targets that left the rules when table was
// replaced. They are retired once no event is being routed with table or
// any older table (events routed with those may still be queued for them).
type retirement struct {
	table   *routeTable
	targets []*targetRuntime
}

// sweep retires, oldest first, the targets of every replaced table that no
// event is being routed with any more.
func (b *Bus) sweep() {
	b.retireMu.Lock()
	n := 0
	for n < len(b.retiring) && b.retiring[n].table.readers.Load() == 0 {
		n++
	}
	done := slices.Clone(b.retiring[:n])
	b.retiring = slices.Delete(b.retiring, 0, n)
	b.retireMu.Unlock()
	for _, r := range done {
		for _, tr := range r.targets {
			tr.dest.Retire()
		}
	}
}

// validName reports whether s is a valid EventBridge rule name or target
// id: 1 to 64 of [.-_A-Za-z0-9].
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !validNameByte(s[i]) {
			return false
		}
	}
	return true
}

// validNameByte reports whether c is one of [.-_A-Za-z0-9].
func validNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// PutRule creates the rule, or replaces the rule of the same name. The
// pattern, names, target ids, handlers and every target's input settings
// (Input, InputPath, input transformer) are validated first, and the
// middleware of new targets is applied; on error, which wraps
// [ErrInvalidRule], nothing changes.
//
// The change applies to events put after PutRule returns. Events already
// queued for a replaced rule's targets are still delivered. A target that
// is kept (the same [Target] value, as returned by [Bus.Rule]) keeps its
// queue and workers; other targets of the old rule stop after their queue
// empties.
func (b *Bus) PutRule(r Rule) error {
	if !validName(r.Name) {
		return fmt.Errorf("%w: name %q: use 1 to 64 of [.-_A-Za-z0-9]", ErrInvalidRule, r.Name)
	}
	switch r.State {
	case "":
		r.State = RuleEnabled
	case RuleEnabled, RuleDisabled:
	default:
		return fmt.Errorf("%w: rule %q: state %q: use ENABLED or DISABLED", ErrInvalidRule, r.Name, r.State)
	}
	if r.EventPattern == "" {
		return fmt.Errorf("%w: rule %q: an event pattern is required", ErrInvalidRule, r.Name)
	}
	if _, err := ParsePattern([]byte(r.EventPattern)); err != nil {
		return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, r.Name, err)
	}
	r.Targets = slices.Clone(r.Targets)
	seen := make(map[string]bool, len(r.Targets))
	for i, t := range r.Targets {
		if t == nil {
			return fmt.Errorf("%w: rule %q: target %d is nil", ErrInvalidRule, r.Name, i)
		}
		id := t.TargetID()
		if seen[id] {
			return fmt.Errorf("%w: rule %q: duplicate target id %q", ErrInvalidRule, r.Name, id)
		}
		seen[id] = true
		if _, err := t.config().validate(); err != nil {
			return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, r.Name, err)
		}
	}

	// Build the runtimes of new targets outside the lock (middleware
	// constructors are user code); start over if the rule changed
	// meanwhile, reusing what was built.
	built := map[*targetConfig]*targetRuntime{}
	retireBuilt := func(except []*targetRuntime) {
		for _, tr := range built {
			if !slices.Contains(except, tr) {
				tr.dest.Retire()
			}
		}
	}
	for {
		snap := b.table.Load().rules[r.Name]
		for _, t := range r.Targets {
			cfg := t.config()
			if built[cfg] != nil || (snap != nil && snap.target(cfg) != nil) {
				continue
			}
			tr, err := b.newTargetRuntime(r.Name, cfg)
			if err != nil { // the middleware failed (the rest was validated above)
				retireBuilt(nil)
				return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, r.Name, err)
			}
			built[cfg] = tr
		}

		b.mu.Lock()
		if b.closed.Load() {
			b.mu.Unlock()
			retireBuilt(nil)
			return ErrClosed
		}
		old := b.table.Load().rules[r.Name]
		if old != snap {
			b.mu.Unlock()
			continue
		}
		targets := make([]*targetRuntime, len(r.Targets))
		for i, t := range r.Targets {
			cfg := t.config()
			if old != nil {
				targets[i] = old.target(cfg)
			}
			if targets[i] == nil {
				targets[i] = built[cfg]
			}
		}
		var retire []*targetRuntime // targets of the old rule that are not kept
		if old != nil {
			for _, tr := range old.targets {
				if !slices.Contains(targets, tr) {
					retire = append(retire, tr)
				}
			}
		}
		counters := b.counters[r.Name]
		if counters == nil {
			counters = new(ruleCounters)
			b.counters[r.Name] = counters
		}
		rs := &ruleState{name: r.Name, rule: r, enabled: r.State == RuleEnabled, targets: targets, counters: counters}
		err := b.publish(r.Name, rs, retire, func() error {
			if rs.enabled {
				return b.matcher.Add(r.Name, []byte(r.EventPattern))
			}
			b.matcher.Delete(r.Name)
			return nil
		})
		b.mu.Unlock()
		if err != nil {
			// Nothing was published: retire what this call built.
			retireBuilt(nil)
			return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, r.Name, err)
		}
		retireBuilt(targets) // built but not used (kept from the old rule instead)
		return nil
	}
}

// target returns the runtime of cfg in the rule, or nil.
func (rs *ruleState) target(cfg *targetConfig) *targetRuntime {
	for _, tr := range rs.targets {
		if tr.cfg == cfg {
			return tr
		}
	}
	return nil
}

// publish changes the matcher (change) and installs rs (nil: removes the
// rule) in a new routing table, as one step for concurrent routing. The
// caller holds b.mu.
func (b *Bus) publish(name string, rs *ruleState, retire []*targetRuntime, change func() error) error {
	b.seq.Add(1) // odd: routing waits for b.mu
	if err := change(); err != nil {
		b.seq.Add(1)
		return err
	}
	old := b.table.Load()
	next := make(map[string]*ruleState, len(old.rules)+1)
	for k, v := range old.rules {
		next[k] = v
	}
	if rs == nil {
		delete(next, name)
	} else {
		next[name] = rs
	}
	enabled := 0
	for _, rs := range next {
		if rs.enabled {
			enabled++
		}
	}
	b.table.Store(&routeTable{rules: next, enabled: enabled})
	b.seq.Add(1)
	b.retireMu.Lock()
	b.retiring = append(b.retiring, retirement{table: old, targets: retire})
	b.retireMu.Unlock()
	old.stale.Store(true)
	b.sweep()
	return nil
}

// DeleteRule removes the rule. Events already queued for its targets are
// still delivered. It returns [ErrRuleNotFound] for an unknown name.
func (b *Bus) DeleteRule(name string) error {
	b.mu.Lock()
	old := b.table.Load().rules[name]
	if old == nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrRuleNotFound, name)
	}
	_ = b.publish(name, nil, old.targets, func() error { b.matcher.Delete(name); return nil })
	delete(b.counters, name)
	b.mu.Unlock()
	return nil
}

// EnableRule sets the rule's state to ENABLED.
func (b *Bus) EnableRule(name string) error { return b.setState(name, true) }

// DisableRule sets the rule's state to DISABLED: it stays on the bus, with
// its targets, but routes nothing until enabled.
func (b *Bus) DisableRule(name string) error { return b.setState(name, false) }

func (b *Bus) setState(name string, enabled bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.table.Load().rules[name]
	if old == nil {
		return fmt.Errorf("%w: %q", ErrRuleNotFound, name)
	}
	if old.enabled == enabled {
		return nil
	}
	rs := *old
	rs.enabled = enabled
	rs.rule.State = RuleDisabled
	if enabled {
		rs.rule.State = RuleEnabled
	}
	return b.publish(name, &rs, nil, func() error {
		if enabled {
			return b.matcher.Add(name, []byte(old.rule.EventPattern))
		}
		b.matcher.Delete(name)
		return nil
	})
}

// Rule returns the rule with the given name, or [ErrRuleNotFound].
// Its Targets are the values that were put; putting them again keeps
// their queues.
func (b *Bus) Rule(name string) (Rule, error) {
	rs := b.table.Load().rules[name]
	if rs == nil {
		return Rule{}, fmt.Errorf("%w: %q", ErrRuleNotFound, name)
	}
	r := rs.rule
	r.Targets = slices.Clone(r.Targets)
	return r, nil
}

// Rules returns every rule of the bus, sorted by name.
func (b *Bus) Rules() []Rule {
	t := b.table.Load()
	out := make([]Rule, 0, len(t.rules))
	for _, rs := range t.rules {
		r := rs.rule
		r.Targets = slices.Clone(r.Targets)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rule) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}
