package loader

import (
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

var (
	ruleKeys = set("rule", "desc", "condition", "output", "priority", "source", "enabled", "tags",
		"exceptions", "override", "append", "skip-if-unknown-filter", "warn_evttypes",
		"capture", "capture_duration", "action", "mode")
	ruleAppendable  = set("condition", "output", "desc", "tags", "exceptions")
	ruleReplaceable = set("condition", "output", "desc", "priority", "tags", "exceptions",
		"enabled", "warn_evttypes", "skip-if-unknown-filter", "action", "mode")
	ruleRequired = []string{"condition", "output", "desc", "priority"}
)

// ruleUpdate holds the keys an item sets; nil means absent.
type ruleUpdate struct {
	cond, output *lang.Source
	desc         *string
	priority     *Priority
	tags         *[]string
	exceptions   *[]*Exception
	enabled      *bool
	warnEvt      *bool
	skipUnknown  *bool
	source       *string
	action       *Action
	actionPos    lang.Pos
	mode         *Mode
}

func (r *reader) rule(m *mapping) {
	name, ok := r.name(m, "rule")
	if !ok {
		return
	}
	what := describe("rule", name)
	r.checkKeys(m, ruleKeys, what)
	legacyAppend := false
	if e, ok := m.get("append"); ok {
		if legacyAppend, ok = r.boolean(e, what); !ok {
			return
		}
	}
	modes, ok := r.overrides(m, what, ruleAppendable, ruleReplaceable)
	if !ok {
		return
	}
	switch {
	case legacyAppend && len(modes) > 0:
		r.errorf(m.node, "%s: append and override cannot be used together", what)
	case len(modes) > 0:
		r.overrideRule(m, name, modes)
	case legacyAppend:
		r.warnf(m.node, "%s: append is deprecated; use override with condition: append", what)
		r.appendRule(m, name)
	case !m.has("condition") && !m.has("output") && !m.has("desc") && !m.has("priority"):
		r.enableRule(m, name)
	default:
		r.defineRule(m, name)
	}
}

// decodeRule reads the given keys where present.
func (r *reader) decodeRule(m *mapping, what string, keys map[string]bool, appending bool) (ruleUpdate, bool) {
	var u ruleUpdate
	good := true
	for _, k := range m.keys {
		if !keys[k] {
			continue
		}
		e := m.entries[k]
		ok := true
		switch k {
		case "condition":
			u.cond, ok = r.source(e, what)
		case "output":
			var src *lang.Source
			if src, ok = r.source(e, what); ok {
				u.output = trimSource(src)
			}
		case "desc", "source":
			var s string
			if s, ok = r.str(e, what); ok {
				if k == "desc" {
					s = strings.TrimSpace(s)
					u.desc = &s
				} else {
					u.source = &s
				}
			}
		case "priority":
			var s string
			if s, ok = r.str(e, what); ok {
				p, valid := ParsePriority(s)
				if !valid {
					r.errorf(e.val, "%s: invalid priority %q; want one of emergency, alert, critical, error, warning, notice, informational, debug", what, s)
					ok = false
				}
				u.priority = &p
			}
		case "tags":
			var items []ListItem
			if items, ok = r.scalars(e.val, what+": tags"); ok {
				tags := make([]string, len(items))
				for i, it := range items {
					tags[i] = it.Value
				}
				u.tags = &tags
			}
		case "exceptions":
			var exc []*Exception
			if exc, ok = r.exceptions(e.val, what, appending); ok {
				u.exceptions = &exc
			}
		case "action", "mode":
			ok = r.decodeAction(e, k, what, &u)
		case "enabled", "warn_evttypes", "skip-if-unknown-filter":
			var b bool
			if b, ok = r.boolean(e, what); ok {
				switch k {
				case "enabled":
					u.enabled = &b
				case "warn_evttypes":
					u.warnEvt = &b
				default:
					u.skipUnknown = &b
				}
			}
		}
		good = good && ok
	}
	return u, good
}

func (r *reader) defineRule(m *mapping, name string) {
	what := describe("rule", name)
	missing := false
	for _, k := range ruleRequired {
		if !m.has(k) {
			r.errorf(m.node, "%s is missing required key %q", what, k)
			missing = true
		}
	}
	if missing {
		return
	}
	u, ok := r.decodeRule(m, what, ruleKeys, false)
	if !ok {
		return
	}
	rule := &Rule{
		Name: name, Pos: r.f.nodePos(m.node), Condition: u.cond, Output: u.output,
		Desc: *u.desc, Priority: *u.priority, Source: DefaultSource,
		Enabled: true, WarnEvttypes: true,
	}
	if u.source != nil && *u.source != "" {
		rule.Source = *u.source
	}
	rule.ForThisEngine = rule.Source == r.l.opts.Source
	if u.tags != nil {
		rule.Tags = *u.tags
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
	if u.exceptions != nil {
		for _, ex := range *u.exceptions {
			if !r.completeException(ex, what) {
				return
			}
		}
		rule.Exceptions = *u.exceptions
	}
	prev := r.l.ruleBy[name]
	if prev == nil {
		r.l.rules = append(r.l.rules, rule)
		r.l.ruleBy[name] = rule
		return
	}
	if prev.Source != rule.Source {
		r.errorf(m.node, "%s is redefined with source %q; it was defined for %q at %s", what, rule.Source, prev.Source, prev.Pos)
		return
	}
	r.warnf(m.node, "%s redefines the rule at %s, which it replaces; use override to amend a rule", what, prev.Pos)
	*prev = *rule
}

// trimSource drops leading and trailing blanks, as Falco trims outputs.
func trimSource(s *lang.Source) *lang.Source {
	start, end := 0, len(s.Text)
	for start < end && isYAMLBlank(s.Text[start]) {
		start++
	}
	for end > start && isYAMLBlank(s.Text[end-1]) {
		end--
	}
	return s.Slice(start, end)
}
