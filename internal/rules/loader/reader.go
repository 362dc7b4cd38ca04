package loader

import (
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"go.yaml.in/yaml/v3"
)

// reader applies the items of one file to its Loader.
type reader struct {
	l *Loader
	f *fileText
}

func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	r.l.diags.Errorf(r.f.nodePos(n), format, args...)
}

func (r *reader) warnf(n *yaml.Node, format string, args ...any) {
	r.l.diags.Warnf(r.f.nodePos(n), format, args...)
}

func (r *reader) document(doc *yaml.Node) {
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "a rules file must be a sequence of rule, macro and list items, found %s", kindName(n))
		return
	}
	for _, item := range n.Content {
		r.item(deref(item))
	}
}

func (r *reader) item(n *yaml.Node) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "expected a rule, macro or list item (a mapping), found %s", kindName(n))
		return
	}
	m, ok := r.mapping(n)
	if !ok {
		return
	}
	switch {
	case m.has("required_engine_version"):
		r.engineVersion(m)
	case m.has("required_plugin_versions"):
		r.pluginVersions(m)
	case m.has("list"):
		r.list(m)
	case m.has("macro"):
		r.macro(m)
	case m.has("rule"):
		r.rule(m)
	default:
		r.warnf(n, "unknown top-level item with keys %s", strings.Join(m.keys, ", "))
	}
}

// entry is one key: value pair of a mapping.
type entry struct {
	key, val *yaml.Node
}

// mapping indexes a YAML mapping by key.
type mapping struct {
	node    *yaml.Node
	entries map[string]entry
	keys    []string // in file order
}

func (m *mapping) has(k string) bool { _, ok := m.entries[k]; return ok }

func (m *mapping) get(k string) (entry, bool) {
	e, ok := m.entries[k]
	return e, ok
}

// mapping checks that keys are unique scalars.
func (r *reader) mapping(n *yaml.Node) (*mapping, bool) {
	m := &mapping{node: n, entries: map[string]entry{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, "mapping keys must be strings, found %s", kindName(k))
			return nil, false
		}
		if prev, dup := m.entries[k.Value]; dup {
			r.errorf(k, "duplicate key %q (first at %s)", k.Value, r.f.nodePos(prev.key))
			return nil, false
		}
		m.entries[k.Value] = entry{key: k, val: v}
		m.keys = append(m.keys, k.Value)
	}
	return m, true
}

// checkKeys warns about keys that mean nothing for this kind of item; Falco
// files from newer versions may carry keys this loader does not know.
func (r *reader) checkKeys(m *mapping, known map[string]bool, what string) {
	for _, k := range m.keys {
		if !known[k] {
			r.warnf(m.entries[k].key, "unknown key %q in %s", k, what)
		}
	}
}

// str returns a scalar value.
func (r *reader) str(e entry, what string) (string, bool) {
	if e.val.Kind != yaml.ScalarNode {
		r.errorf(e.val, "%s: %q must be a string, found %s", what, e.key.Value, kindName(e.val))
		return "", false
	}
	if isNull(e.val) {
		return "", true
	}
	return e.val.Value, true
}

// name reads the item's name key and insists it is not empty.
func (r *reader) name(m *mapping, key string) (string, bool) {
	e, _ := m.get(key)
	s, ok := r.str(e, key)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		r.errorf(e.val, "%q must not be empty", key)
		return "", false
	}
	return s, true
}

// boolean returns a true/false value. YAML 1.2 reads yes/no as strings;
// they are accepted too, as YAML 1.1 parsers (Falco's) read them as booleans.
func (r *reader) boolean(e entry, what string) (bool, bool) {
	if e.val.Kind == yaml.ScalarNode {
		switch strings.ToLower(e.val.Value) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	r.errorf(e.val, "%s: %q must be true or false", what, e.key.Value)
	return false, false
}

// scalars reads a sequence of scalars; null is an empty sequence.
func (r *reader) scalars(n *yaml.Node, what string) ([]ListItem, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s must be a sequence, found %s", what, kindName(n))
		return nil, false
	}
	items := make([]ListItem, 0, len(n.Content))
	for _, c := range n.Content {
		c = deref(c)
		if c.Kind != yaml.ScalarNode || isNull(c) {
			r.errorf(c, "%s must contain only strings, found %s", what, kindName(c))
			return nil, false
		}
		items = append(items, ListItem{Value: c.Value, Pos: r.f.nodePos(c)})
	}
	return items, true
}

// source returns a scalar as a source with file positions.
func (r *reader) source(e entry, what string) (*lang.Source, bool) {
	if _, ok := r.str(e, what); !ok {
		return nil, false
	}
	return r.f.scalarSource(e.val), true
}

// overrides reads the override key: which keys append and which replace.
// Every overridable key in the item must be listed there and every listed
// key must be present, so that an override never silently drops a value.
func (r *reader) overrides(m *mapping, what string, appendable, replaceable map[string]bool) (map[string]string, bool) {
	e, ok := m.get("override")
	if !ok {
		return nil, true
	}
	if e.val.Kind != yaml.MappingNode {
		r.errorf(e.val, "%s: override must be a mapping of keys to append or replace, found %s", what, kindName(e.val))
		return nil, false
	}
	om, ok := r.mapping(e.val)
	if !ok {
		return nil, false
	}
	modes := map[string]string{}
	good := true
	for _, k := range om.keys {
		oe := om.entries[k]
		mode, ok := r.str(oe, what+": override")
		switch {
		case !ok:
			good = false
		case mode != "append" && mode != "replace":
			r.errorf(oe.val, "%s: override for %q must be append or replace, found %q", what, k, mode)
			good = false
		case mode == "append" && !appendable[k]:
			r.errorf(oe.key, "%s: key %q cannot be appended to", what, k)
			good = false
		case mode == "replace" && !replaceable[k]:
			r.errorf(oe.key, "%s: key %q cannot be replaced", what, k)
			good = false
		case !m.has(k):
			r.errorf(oe.key, "%s: override for %q, but the item has no %q key", what, k, k)
			good = false
		}
		modes[k] = mode
	}
	for _, k := range m.keys {
		if (appendable[k] || replaceable[k]) && modes[k] == "" {
			r.errorf(m.entries[k].key, "%s: unexpected key %q: no corresponding entry under override", what, k)
			good = false
		}
	}
	return modes, good
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}
