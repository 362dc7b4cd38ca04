// Package loader reads Falco-style YAML rule files: rules, macros, lists,
// exceptions, overrides and the legacy append flag, engine and plugin
// version requirements. Several files load in order, later ones amending
// earlier ones; RuleSet then expands every rule's macros, lists and
// exceptions into one condition, reporting problems as positioned
// diagnostics rather than failing at the first one.
package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/yamldoc"
)

// Loader accumulates rule files. It is not safe for concurrent use.
type Loader struct {
	opts Options

	rules  []*Rule
	macros []*Macro
	lists  []*List
	ruleBy map[string]*Rule
	macBy  map[string]*Macro
	listBy map[string]*List

	reqEngine string
	plugins   []PluginRequirement
	diags     lang.Diagnostics
}

// New returns an empty loader.
func New(opts Options) *Loader {
	if opts.Source == "" {
		opts.Source = DefaultSource
	}
	return &Loader{
		opts:   opts,
		ruleBy: map[string]*Rule{},
		macBy:  map[string]*Macro{},
		listBy: map[string]*List{},
	}
}

// Load reads the given files and directories in order and returns the
// expanded rule set. The error is for files that cannot be read; problems
// in their content are in the rule set's diagnostics.
func Load(opts Options, paths ...string) (*RuleSet, error) {
	l := New(opts)
	for _, p := range paths {
		if err := l.LoadPath(p); err != nil {
			return nil, err
		}
	}
	return l.RuleSet(), nil
}

// LoadPath loads a file, or every .yaml and .yml file of a directory in
// name order (not recursing), as Falco loads a rules directory.
func (l *Loader) LoadPath(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return l.LoadFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if err := l.LoadFile(filepath.Join(path, n)); err != nil {
			return err
		}
	}
	return nil
}

// LoadFile loads one rules file.
func (l *Loader) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	l.LoadBytes(path, data)
	return nil
}

// LoadBytes loads rules from data; name is used in positions.
func (l *Loader) LoadBytes(name string, data []byte) {
	f := newFileText(name, data)
	docs, err := yamldoc.Parse(name, data)
	if se := (*yamldoc.SyntaxError)(nil); errors.As(err, &se) {
		l.diags.Errorf(lang.Pos{File: name, Line: se.Line}, "invalid YAML: %s", se.Msg)
		return
	}
	r := &reader{l: l, f: f}
	for _, d := range docs {
		r.document(d)
	}
}

// RuleSet expands what was loaded so far and returns it with all
// diagnostics. It may be called again after loading more files.
func (l *Loader) RuleSet() *RuleSet {
	rs := &RuleSet{
		Rules:                 l.rules,
		Macros:                l.macros,
		Lists:                 l.lists,
		RequiredEngineVersion: l.reqEngine,
		RequiredPlugins:       l.plugins,
		Diagnostics:           append(lang.Diagnostics(nil), l.diags...),
	}
	newExpander(l, &rs.Diagnostics).run()
	return rs
}

// describe names an item for messages: rule "x".
func describe(kind, name string) string { return fmt.Sprintf("%s %q", kind, name) }
