package ruletest

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/yamldoc"
)

// File is a rule test file: synthetic events and the rules each must
// or must not fire. The format is documented in docs/rules.md.
type File struct {
	Path  string
	Tests []*Test
}

// Test is one synthetic event and its expectations.
type Test struct {
	Name string
	Pos  lang.Pos
	// Event and Ancestors are field settings (proc.name: cat), each with
	// the position of its key; ancestors are listed parent first.
	Event     []Setting
	Ancestors [][]Setting
	Fire      []string
	NotFire   []string
	// Output maps rule names to the exact output they must render.
	Output map[string]string
}

// Setting is one "field: value" of a fixture event. Values are scalars,
// or for proc.args a list of arguments.
type Setting struct {
	Field string
	Value string
	List  []string
	Pos   lang.Pos
}

// Read reads and checks a fixture file. Errors name file:line:col.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a fixture; name is used in positions.
func Parse(name string, data []byte) (*File, error) {
	p := &fixtureParser{file: name}
	f := &File{Path: name}
	doc, err := yamldoc.ParseOne(name, data)
	if err != nil {
		return nil, err
	}
	if doc == nil || len(doc.Content) == 0 {
		return nil, p.errorf(&yaml.Node{Line: 1, Column: 1}, "empty fixture: want a mapping with a tests list")
	}
	root := doc.Content[0]
	tests, err := p.mapping(root, "fixture", map[string]bool{"tests": true})
	if err != nil {
		return nil, err
	}
	list := tests["tests"]
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, p.errorf(root, "a fixture needs a tests list")
	}
	for _, n := range list.Content {
		t, err := p.test(n)
		if err != nil {
			return nil, err
		}
		f.Tests = append(f.Tests, t)
	}
	return f, nil
}

type fixtureParser struct{ file string }

func (p *fixtureParser) pos(n *yaml.Node) lang.Pos {
	return lang.Pos{File: p.file, Line: n.Line, Col: n.Column}
}

func (p *fixtureParser) errorf(n *yaml.Node, format string, args ...any) error {
	return &lang.Error{Pos: p.pos(n), Msg: fmt.Sprintf(format, args...)}
}

// mapping returns a mapping's values by key, refusing keys not in allowed
// (when allowed is not nil) and keys given twice.
func (p *fixtureParser) mapping(n *yaml.Node, what string, allowed map[string]bool) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "%s must be a mapping", what)
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, "%s: keys must be strings", what)
		}
		if allowed != nil && !allowed[k.Value] {
			return nil, p.errorf(k, "%s: unknown key %q (want %s)", what, k.Value, keys(allowed))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errorf(k, "%s: key %q is given twice", what, k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return strings.Join(sortedCopy(ks), ", ")
}

var testKeys = map[string]bool{"name": true, "event": true, "ancestors": true, "fire": true, "not_fire": true, "output": true}

func (p *fixtureParser) test(n *yaml.Node) (*Test, error) {
	m, err := p.mapping(n, "test", testKeys)
	if err != nil {
		return nil, err
	}
	t := &Test{Pos: p.pos(n), Output: map[string]string{}}
	if v := m["name"]; v == nil || v.Kind != yaml.ScalarNode || v.Value == "" {
		return nil, p.errorf(n, "test needs a name")
	} else {
		t.Name = v.Value
	}
	ev := m["event"]
	if ev == nil {
		return nil, p.errorf(n, "test %q needs an event", t.Name)
	}
	if t.Event, err = p.settings(ev, eventSetters); err != nil {
		return nil, err
	}
	if a := m["ancestors"]; a != nil {
		if a.Kind != yaml.SequenceNode {
			return nil, p.errorf(a, "ancestors must be a list, parent first")
		}
		for _, an := range a.Content {
			s, err := p.settings(an, processSetters)
			if err != nil {
				return nil, err
			}
			t.Ancestors = append(t.Ancestors, s)
		}
	}
	if t.Fire, err = p.strings(m["fire"], "fire"); err != nil {
		return nil, err
	}
	if t.NotFire, err = p.strings(m["not_fire"], "not_fire"); err != nil {
		return nil, err
	}
	if o := m["output"]; o != nil {
		om, err := p.mapping(o, "output", nil)
		if err != nil {
			return nil, err
		}
		for rule, v := range om {
			if v.Kind != yaml.ScalarNode {
				return nil, p.errorf(v, "output for %q must be a string", rule)
			}
			t.Output[rule] = v.Value
		}
	}
	if len(t.Fire) == 0 && len(t.NotFire) == 0 {
		return nil, p.errorf(n, "test %q expects nothing: give fire or not_fire", t.Name)
	}
	return t, nil
}

// settings reads field settings, checking each field against setters.
func (p *fixtureParser) settings(n *yaml.Node, setters map[string]setter) ([]Setting, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "an event or ancestor must be a mapping of field names to values")
	}
	var out []Setting
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, ok := lookupSetter(setters, k.Value); !ok {
			return nil, p.errorf(k, "%q cannot be set here; settable fields are %s", k.Value, setterNames(setters))
		}
		if seen[k.Value] {
			return nil, p.errorf(k, "%q is set twice", k.Value)
		}
		seen[k.Value] = true
		s := Setting{Field: k.Value, Pos: p.pos(v)}
		switch {
		case v.Kind == yaml.ScalarNode:
			s.Value = v.Value
		case v.Kind == yaml.SequenceNode && (k.Value == "proc.args" || k.Value == "proc.loader_env" || k.Value == "container.mounts"):
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return nil, p.errorf(e, "%s items must be strings", k.Value)
				}
				s.List = append(s.List, e.Value)
			}
		default:
			return nil, p.errorf(v, "%s needs a single value", k.Value)
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *fixtureParser) strings(n *yaml.Node, what string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, "%s must be a rule name or a list of them", what)
	}
	var out []string
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			return nil, p.errorf(e, "%s must list rule names", what)
		}
		out = append(out, e.Value)
	}
	return out, nil
}
