package detect

import (
	"io/fs"
	"sort"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
	defaultrules "github.com/vigilsec/vigil/rules"
)

// Program is a rule set compiled against Vigil's fields.
type Program = compile.Program[*fields.Context]

// Rule is one compiled rule.
type Rule = compile.Rule[*fields.Context]

// EmbeddedPrefix starts the names of the embedded default rule files in
// diagnostics, so they are not mistaken for files on disk.
const EmbeddedPrefix = "<embedded>/"

// LoadOptions configure Load.
type LoadOptions struct {
	// Paths are rule files and directories, loaded in order (later ones
	// amend earlier ones). None means the embedded default rules.
	Paths []string
	// Defaults loads the embedded default rules before Paths even when
	// Paths are given, so that they can amend the defaults.
	Defaults bool
	// Experimental adds the embedded experimental rules after the stable
	// defaults (and before Paths), whenever the defaults load.
	Experimental bool
	// Strict makes fields Vigil does not know an error instead of a
	// reason to skip the rule.
	Strict bool
	// Registry resolves fields; nil means fields.New().
	Registry *fields.Registry
	// MinPriority, when set, is the least severe priority that runs:
	// rules below it load disabled, as Falco's priority setting does.
	MinPriority string
	// FirstMatch stops the evaluation of an event at its first matching
	// rule (Falco's rule_matching: first); see compile.Options.
	FirstMatch bool
}

// LoadOptionsFrom returns the options the agent loads its rules with:
// the rule paths and rule switches of the configuration.
func LoadOptionsFrom(cfg *config.Config) LoadOptions {
	return LoadOptions{Paths: cfg.Rules, Defaults: cfg.WithDefaults, Strict: cfg.Strict, Experimental: cfg.ExperimentalRules,
		MinPriority: cfg.Priority, FirstMatch: cfg.RuleMatching == "first"}
}

// RuleSet is the outcome of Load.
type RuleSet struct {
	// Loaded is every rule as read, including rules for other sources and
	// rules that failed to compile.
	Loaded *loader.RuleSet
	// Program holds the rules that compiled.
	Program *Program
	// Syscalls is the kernel filter the enabled rules need.
	Syscalls []string
	// NeedsFDTable says some enabled rule reads per-process fd state
	// (proc.std*, or fd.* on events that do not describe the fd), so the
	// process table must track fds.
	NeedsFDTable bool
	// Diagnostics are the loader's and the compiler's, then Vigil's own
	// (event types it cannot capture), sorted by position.
	Diagnostics lang.Diagnostics
}

// Load reads and compiles rules; it is the one rule loader, used by the
// agent at start and on reload, by the rules commands and by tests. The
// error is for files that cannot be read; everything wrong inside them is
// in the diagnostics, so that a validator can show every problem at once.
// [RuleSet.Runnable] says whether the agent may run the result.
func Load(opts LoadOptions) (*RuleSet, error) {
	l := loader.New(loader.Options{})
	if len(opts.Paths) == 0 || opts.Defaults {
		names := defaultrules.Files()
		if opts.Experimental {
			names = append(names, defaultrules.ExperimentalFiles()...)
		}
		for _, name := range names {
			data, err := fs.ReadFile(defaultrules.FS, name)
			if err != nil {
				return nil, err
			}
			l.LoadBytes(EmbeddedPrefix+name, data)
		}
	}
	for _, p := range opts.Paths {
		if err := l.LoadPath(p); err != nil {
			return nil, err
		}
	}
	reg := opts.Registry
	if reg == nil {
		reg = fields.New()
	}
	loaded := l.RuleSet()
	if min, ok := loader.ParsePriority(opts.MinPriority); ok {
		for _, r := range loaded.Rules {
			if r.Priority > min {
				r.Enabled = false
			}
		}
	}
	prog, diags := compile.Compile(loaded, reg, compile.Options{Strict: opts.Strict, FirstMatch: opts.FirstMatch})
	rs := &RuleSet{Loaded: loaded, Program: prog}
	calls, more := Syscalls(prog)
	rs.Syscalls = calls
	for _, r := range prog.Rules() {
		rs.NeedsFDTable = rs.NeedsFDTable || (r.Enabled && needsFDTable(r))
	}
	rs.Diagnostics = append(append(append(rs.Diagnostics, loaded.Diagnostics...), diags...), more...)
	sortDiagnostics(rs.Diagnostics)
	return rs, nil
}

// sortDiagnostics orders diagnostics by file, line and column, keeping the
// order of those at the same place; diagnostics without a position go
// first.
func sortDiagnostics(ds lang.Diagnostics) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
