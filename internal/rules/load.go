package rules

import (
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// Options configure Load.
type Options struct {
	Loader  loader.Options
	Compile compile.Options
}

// Load reads rule files and directories in order (later files amend
// earlier ones), expands and compiles them against r. The error is for
// files that cannot be read. Everything else, from YAML syntax to unknown
// fields, is in the diagnostics; rules with errors are left out of the
// program, so callers decide whether diags.HasErrors() is fatal.
func Load[C any](r compile.FieldResolver[C], opts Options, paths ...string) (*compile.Program[C], lang.Diagnostics, error) {
	rs, err := loader.Load(opts.Loader, paths...)
	if err != nil {
		return nil, nil, err
	}
	p, diags := compile.Compile(rs, r, opts.Compile)
	return p, append(rs.Diagnostics, diags...), nil
}
