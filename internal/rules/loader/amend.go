package loader

import (
	"slices"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// Amending rules: override (append or replace per key), the legacy
// append: true, and the enabled-only shorthand. Each needs the rule to
// exist already, from this file or an earlier one.

// target finds the rule an amending item refers to.
func (r *reader) target(m *mapping, name, how string) *Rule {
	prev := r.l.ruleBy[name]
	if prev == nil {
		r.errorf(m.node, "%s has %s but no rule by that name was defined before", describe("rule", name), how)
	}
	return prev
}

func (r *reader) overrideRule(m *mapping, name string, modes map[string]string) {
	what := describe("rule", name)
	prev := r.target(m, name, "override")
	if prev == nil {
		return
	}
	appendKeys, replaceKeys := map[string]bool{}, map[string]bool{}
	for k, mode := range modes {
		if mode == "append" {
			appendKeys[k] = true
		} else {
			replaceKeys[k] = true
		}
	}
	add, ok1 := r.decodeRule(m, what, appendKeys, true)
	repl, ok2 := r.decodeRule(m, what, replaceKeys, false)
	if !ok1 || !ok2 {
		return
	}
	if !r.appendToRule(prev, add, what) {
		return
	}
	r.replaceInRule(prev, repl, what)
}

func (r *reader) appendRule(m *mapping, name string) {
	what := describe("rule", name)
	prev := r.target(m, name, "append: true")
	if prev == nil {
		return
	}
	if !m.has("condition") && !m.has("exceptions") {
		r.errorf(m.node, "%s: an appended rule must have a condition or exceptions", what)
		return
	}
	for _, k := range m.keys {
		if ruleAppendable[k] && k != "condition" && k != "exceptions" || ruleReplaceable[k] && !ruleAppendable[k] {
			r.warnf(m.entries[k].key, "%s: key %q is ignored with append: true; use override", what, k)
		}
	}
	u, ok := r.decodeRule(m, what, set("condition", "exceptions"), true)
	if ok {
		r.appendToRule(prev, u, what)
	}
}

// enableRule handles the old shorthand that only sets enabled.
func (r *reader) enableRule(m *mapping, name string) {
	what := describe("rule", name)
	e, ok := m.get("enabled")
	if !ok {
		r.errorf(m.node, "%s has none of condition, output, desc, priority or enabled", what)
		return
	}
	prev := r.target(m, name, "only enabled")
	if prev == nil {
		return
	}
	r.warnf(m.node, "%s: an item with only enabled is deprecated; use override with enabled: replace", what)
	if b, ok := r.boolean(e, what); ok {
		prev.Enabled = b
	}
}

// appendToRule applies appends the way Falco does: text is joined with a
// space, tags are merged, exceptions gain values or are added.
func (r *reader) appendToRule(rule *Rule, u ruleUpdate, what string) bool {
	if u.exceptions != nil && !r.mergeExceptions(rule, *u.exceptions, what) {
		return false
	}
	if u.cond != nil && strings.TrimSpace(u.cond.Text) != "" {
		rule.Condition = lang.Join(" ", rule.Condition, u.cond)
	}
	if u.output != nil && u.output.Text != "" {
		rule.Output = lang.Join(" ", rule.Output, u.output)
	}
	if u.desc != nil && *u.desc != "" {
		rule.Desc += " " + *u.desc
	}
	if u.tags != nil {
		for _, t := range *u.tags {
			if !slices.Contains(rule.Tags, t) {
				rule.Tags = append(rule.Tags, t)
			}
		}
	}
	return true
}

func (r *reader) replaceInRule(rule *Rule, u ruleUpdate, what string) {
	if u.exceptions != nil {
		for _, ex := range *u.exceptions {
			if !r.completeException(ex, what) {
				return
			}
		}
		rule.Exceptions = *u.exceptions
	}
	if u.cond != nil {
		rule.Condition = u.cond
	}
	if u.output != nil {
		rule.Output = u.output
	}
	if u.desc != nil {
		rule.Desc = *u.desc
	}
	if u.tags != nil {
		rule.Tags = *u.tags
	}
	if u.priority != nil {
		rule.Priority = *u.priority
	}
	if u.enabled != nil {
		rule.Enabled = *u.enabled
	}
	if u.warnEvt != nil {
		rule.WarnEvttypes = *u.warnEvt
	}
	if u.skipUnknown != nil {
		rule.SkipIfUnknownFilter = *u.skipUnknown
	}
	applyAction(rule, u)
}
