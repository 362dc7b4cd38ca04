package config

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind is the kind of a configuration file: Vigil's own, or Falco's
// falco.yaml, which Vigil reads by mapping each key with a Vigil meaning.
type Kind int

// Kinds.
const (
	KindVigil Kind = iota
	KindFalco
)

func (k Kind) String() string {
	if k == KindFalco {
		return "falco"
	}
	return "vigil"
}

// Note is something to tell about a Falco key: that it has no meaning in
// Vigil and is ignored, or how its meaning differs.
type Note struct {
	// Key is the key's dotted path; Line is where the file sets it.
	Key  string
	Line int
	// Ignored is set for a key with no Vigil meaning; otherwise the key
	// was mapped and Why says how it differs.
	Ignored bool
	Why     string
}

func (n Note) String() string {
	what := "mapped"
	if n.Ignored {
		what = "ignored"
	}
	return fmt.Sprintf("%s (line %d): %s: %s", n.Key, n.Line, what, n.Why)
}

// FileInfo is what Load learned about the configuration file.
type FileInfo struct {
	Kind Kind
	// Notes are the Falco keys ignored or mapped with a difference, in
	// file order; empty for Vigil's files.
	Notes []Note
}

// vigilOnlyKeys are Vigil's top-level keys that Falco's file does not
// have; keys both have (rules, log_level, priority, rule_matching,
// outputs) are told apart by their values.
func vigilOnlyKeys() map[string]bool {
	keys := map[string]bool{}
	for _, k := range Keys() {
		top, _, _ := strings.Cut(k, ".")
		keys[top] = true
	}
	for _, shared := range []string{"rules", "log_level", "priority", "rule_matching", "outputs"} {
		delete(keys, shared)
	}
	return keys
}

// DetectKind tells a Falco configuration from a Vigil one by its
// top-level keys: a key only Falco has (rules_files, json_output,
// stdout_output, engine, ...) makes it Falco's, a key only Vigil has
// makes it Vigil's; keys both have decide by their values (Falco's rules
// is a list of enable/disable selections, its outputs holds rate and
// max_burst, its log_level has syslog's names). A file with keys only
// Falco has and keys only Vigil has is an error, naming one of each.
func DetectKind(file string, top *yaml.Node) (Kind, error) {
	if top == nil || top.Kind != yaml.MappingNode {
		return KindVigil, nil
	}
	vigilOnly := vigilOnlyKeys()
	var falcoAt, vigilAt *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		_, falcos := falcoTop[k.Value]
		switch {
		case vigilOnly[k.Value]:
			vigilAt = firstNode(vigilAt, k)
		case falcos && !sharedKey(k.Value):
			falcoAt = firstNode(falcoAt, k)
		case falcoShaped(k.Value, v):
			falcoAt = firstNode(falcoAt, k)
		}
	}
	switch {
	case falcoAt != nil && vigilAt != nil:
		return KindVigil, posError(file, falcoAt, "%q is a Falco key but %q (line %d) is Vigil's: a file is one or the other",
			falcoAt.Value, vigilAt.Value, vigilAt.Line)
	case falcoAt != nil:
		return KindFalco, nil
	}
	return KindVigil, nil
}

func firstNode(cur, n *yaml.Node) *yaml.Node {
	if cur == nil {
		return n
	}
	return cur
}

func sharedKey(k string) bool {
	switch k {
	case "rules", "log_level", "priority", "rule_matching", "outputs":
		return true
	}
	return false
}

// falcoShaped reports whether a key both files have holds a value only
// Falco's takes.
func falcoShaped(key string, v *yaml.Node) bool {
	switch key {
	case "rules":
		return v.Kind == yaml.SequenceNode && len(v.Content) > 0 && v.Content[0].Kind == yaml.MappingNode
	case "outputs":
		for i := 0; v.Kind == yaml.MappingNode && i+1 < len(v.Content); i += 2 {
			if k := v.Content[i].Value; k == "rate" || k == "max_burst" {
				return true
			}
		}
	case "log_level":
		switch strings.ToLower(v.Value) {
		case "emergency", "alert", "critical", "warning", "notice", "informational":
			return true
		}
	}
	return false
}

// FalcoDefaults returns the configuration a falco.yaml starts from: Vigil's
// defaults where Falco's mean the same, Falco's where they differ (outputs
// off unless enabled, text output unless json_output, a program per alert,
// the first matching rule only, syslog's user facility).
func FalcoDefaults() *Config {
	c := Default()
	c.RuleMatching = "first"
	o := &c.Outputs
	o.Stdout.Enabled = false
	o.Stdout.Format, o.File.Format, o.Program.Format = "falco", "falco", "falco"
	o.Program.KeepAlive = false
	o.Syslog.Facility = 1
	return c
}

// ParseFalco applies a falco.yaml's keys over c and returns the notes:
// keys with no Vigil meaning (ignored, never an error), and keys whose
// Vigil meaning differs from Falco's. A value of the wrong type for a key
// with a meaning is an error at its position.
func ParseFalco(c *Config, top *yaml.Node, file string) ([]Note, error) {
	if top == nil || top.Kind != yaml.MappingNode {
		return nil, nil
	}
	fc := &falcoCtx{c: c, file: file}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if err := fc.apply(top.Content[i], top.Content[i+1], ""); err != nil {
			return fc.notes, err
		}
	}
	fc.finish()
	sort.SliceStable(fc.notes, func(i, j int) bool { return fc.notes[i].Line < fc.notes[j].Line })
	return fc.notes, nil
}

// falcoCtx carries a falco.yaml's translation: keys whose meaning needs
// others (http_output's TLS files, webserver's address) are gathered and
// settled in finish.
type falcoCtx struct {
	c     *Config
	file  string
	notes []Note
	// seen holds the scalar values read, by dotted path.
	seen  map[string]*yaml.Node
	depth int
}

func (fc *falcoCtx) note(k *yaml.Node, key string, ignored bool, format string, args ...any) {
	fc.notes = append(fc.notes, Note{Key: key, Line: k.Line, Ignored: ignored, Why: fmt.Sprintf(format, args...)})
}

// apply handles one key: a handler for its path, or its children when
// some handler is below it, or a note that it is ignored.
func (fc *falcoCtx) apply(k, v *yaml.Node, parent string) error {
	if fc.depth++; fc.depth > maxDepth {
		return posError(fc.file, k, "nested too deeply")
	}
	defer func() { fc.depth-- }()
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	path := join(parent, k.Value)
	if h, ok := falcoKeys[path]; ok {
		if h.apply == nil {
			fc.note(k, path, true, "%s", h.why)
			return nil
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nil
		}
		return h.apply(fc, k, v, path)
	}
	if v.Kind == yaml.MappingNode && hasChildren(path) {
		for i := 0; i+1 < len(v.Content); i += 2 {
			if err := fc.apply(v.Content[i], v.Content[i+1], path); err != nil {
				return err
			}
		}
		return nil
	}
	fc.note(k, path, true, "not a key of Falco's configuration that Vigil knows")
	return nil
}

// isFalcoKey reports whether key is one of falco.yaml's, or inside a
// block of it that Vigil takes or ignores as a whole.
func isFalcoKey(key string) bool {
	for p := range falcoKeys {
		if key == p || strings.HasPrefix(key, p+".") {
			return true
		}
	}
	return false
}

func hasChildren(path string) bool {
	for p := range falcoKeys {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// decodeAt decodes v into dst, errors at v's position.
func (fc *falcoCtx) decodeAt(v *yaml.Node, path string, dst any) error {
	if err := v.Decode(dst); err != nil {
		return posError(fc.file, v, "%s: %s", path, cleanYAMLError(err))
	}
	return nil
}

// remember keeps a value for finish.
func (fc *falcoCtx) remember(path string, v *yaml.Node) {
	if fc.seen == nil {
		fc.seen = map[string]*yaml.Node{}
	}
	fc.seen[path] = v
}

// flag reports whether a remembered boolean is set and true.
func (fc *falcoCtx) flag(path string) bool {
	var b bool
	n, ok := fc.seen[path]
	return ok && n.Decode(&b) == nil && b
}

// str returns a remembered scalar, or def.
func (fc *falcoCtx) str(path, def string) string {
	if n, ok := fc.seen[path]; ok {
		return n.Value
	}
	return def
}

// line is where a remembered key was set, or 0.
func (fc *falcoCtx) line(path string) int {
	if n, ok := fc.seen[path]; ok {
		return n.Line
	}
	return 0
}

// MarshalFromFalco writes c, read from a falco.yaml, as Vigil's
// configuration: the keys that differ from Vigil's defaults, under a
// header that names the source and lists, as comments, the Falco keys
// that were ignored or mapped with a difference.
func MarshalFromFalco(c *Config, notes []Note, source string) ([]byte, error) {
	top := &yaml.Node{Kind: yaml.MappingNode}
	var head strings.Builder
	head.WriteString("Vigil configuration translated from " + source + " by `vigil config from-falco`.\n")
	head.WriteString("Keys left out are Vigil's defaults; docs/config.md documents every key,\n")
	head.WriteString("docs/falco.md how each of Falco's maps.")
	var ignoredNotes, mapped []string
	for _, n := range notes {
		if n.Ignored {
			ignoredNotes = append(ignoredNotes, n.String())
		} else {
			mapped = append(mapped, n.String())
		}
	}
	if len(ignoredNotes) > 0 {
		head.WriteString("\n\nFalco keys with no meaning in Vigil, left out:\n  " + strings.Join(ignoredNotes, "\n  "))
	}
	if len(mapped) > 0 {
		head.WriteString("\n\nFalco keys whose Vigil meaning differs:\n  " + strings.Join(mapped, "\n  "))
	}
	top.HeadComment = head.String()
	def := Default()
	var defs []reflect.Value
	walk(reflect.ValueOf(def).Elem(), "", func(_ string, v reflect.Value) { defs = append(defs, v) })
	i := 0
	var err error
	walk(reflect.ValueOf(c).Elem(), "", func(path string, v reflect.Value) {
		d := defs[i]
		i++
		if err != nil || reflect.DeepEqual(v.Interface(), d.Interface()) {
			return
		}
		var val yaml.Node
		if err = val.Encode(v.Interface()); err != nil {
			return
		}
		setNode(top, strings.Split(path, "."), &val)
	})
	if err != nil {
		return nil, err
	}
	if len(top.Content) == 0 {
		top.Content = nil
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// setNode puts val at the path of keys under the mapping m, creating the
// mappings on the way.
func setNode(m *yaml.Node, keys []string, val *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == keys[0] {
			if len(keys) == 1 {
				m.Content[i+1] = val
			} else {
				setNode(m.Content[i+1], keys[1:], val)
			}
			return
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: keys[0]}
	if len(keys) == 1 {
		m.Content = append(m.Content, k, val)
		return
	}
	child := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, k, child)
	setNode(child, keys[1:], val)
}
