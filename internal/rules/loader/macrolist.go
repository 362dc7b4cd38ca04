package loader

import "github.com/vigilsec/vigil/internal/rules/lang"

var (
	macroKeys = set("macro", "condition", "append", "override", "source")
	listKeys  = set("list", "items", "append", "override")
)

// amendMode reads append and override for a macro or list, whose only
// amendable key is key: it reports whether the item appends.
func (r *reader) amendMode(m *mapping, what, key string) (appending, ok bool) {
	legacy := false
	if e, has := m.get("append"); has {
		if legacy, ok = r.boolean(e, what); !ok {
			return false, false
		}
	}
	modes, ok := r.overrides(m, what, set(key), set(key))
	if !ok {
		return false, false
	}
	if legacy && len(modes) > 0 {
		r.errorf(m.node, "%s: append and override cannot be used together", what)
		return false, false
	}
	if legacy {
		r.warnf(m.node, "%s: append is deprecated; use override with %s: append", what, key)
	}
	return legacy || modes[key] == "append", true
}

func (r *reader) macro(m *mapping) {
	name, ok := r.name(m, "macro")
	if !ok {
		return
	}
	what := describe("macro", name)
	if !lang.IsIdentifier(name) {
		r.errorf(m.entries["macro"].val, "%s: a macro name must be a letter or '_' followed by letters, digits and '_'", what)
		return
	}
	r.checkKeys(m, macroKeys, what)
	appending, ok := r.amendMode(m, what, "condition")
	if !ok {
		return
	}
	e, has := m.get("condition")
	if !has {
		r.errorf(m.node, "%s is missing required key \"condition\"", what)
		return
	}
	cond, ok := r.source(e, what)
	if !ok {
		return
	}
	prev := r.l.macBy[name]
	if appending {
		if prev == nil {
			r.errorf(m.node, "%s appends to a macro that was not defined before", what)
			return
		}
		prev.Condition = lang.Join(" ", prev.Condition, cond)
		return
	}
	mac := &Macro{Name: name, Pos: r.f.nodePos(m.node), Condition: cond}
	if prev != nil {
		// Redefining a macro or list is how Falco users customise them, so
		// it is not worth a warning.
		*prev = *mac
		return
	}
	r.l.macros = append(r.l.macros, mac)
	r.l.macBy[name] = mac
}

func (r *reader) list(m *mapping) {
	name, ok := r.name(m, "list")
	if !ok {
		return
	}
	what := describe("list", name)
	if !lang.IsBareValue(name) {
		r.errorf(m.entries["list"].val, "%s: a list name must be usable as a bare value: no blanks, quotes, parentheses, commas or '='", what)
		return
	}
	r.checkKeys(m, listKeys, what)
	appending, ok := r.amendMode(m, what, "items")
	if !ok {
		return
	}
	e, has := m.get("items")
	if !has {
		r.errorf(m.node, "%s is missing required key \"items\"", what)
		return
	}
	items, ok := r.scalars(e.val, what+": items")
	if !ok {
		return
	}
	prev := r.l.listBy[name]
	if appending {
		if prev == nil {
			r.errorf(m.node, "%s appends to a list that was not defined before", what)
			return
		}
		prev.Items = append(append([]ListItem(nil), prev.Items...), items...)
		return
	}
	list := &List{Name: name, Pos: r.f.nodePos(m.node), Items: items}
	if prev != nil {
		*prev = *list
		return
	}
	r.l.lists = append(r.l.lists, list)
	r.l.listBy[name] = list
}
