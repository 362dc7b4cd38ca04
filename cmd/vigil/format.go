package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// reportFormat is the --format flag of every command that prints a
// report, so that each takes the same spelling: a name among allowed,
// the first being the default, with --json kept as the older spelling of
// --format json where a command had it.
type reportFormat struct {
	name    string
	allowed []string
	asJSON  bool
}

// addReportFormat declares --format on fs; withJSON also declares --json.
func addReportFormat(fs *pflag.FlagSet, withJSON bool, allowed ...string) *reportFormat {
	f := &reportFormat{allowed: allowed}
	fs.StringVar(&f.name, "format", allowed[0], "output format: "+strings.Join(allowed, ", "))
	if withJSON {
		fs.BoolVar(&f.asJSON, "json", false, "print JSON (the same as --format json)")
	}
	return f
}

// get returns the chosen format, or an error naming the allowed ones.
func (f *reportFormat) get() (string, error) {
	if f.asJSON {
		return "json", nil
	}
	if !slices.Contains(f.allowed, f.name) {
		return "", fmt.Errorf("--format %q: want %s", f.name, strings.Join(f.allowed, ", "))
	}
	return f.name, nil
}
