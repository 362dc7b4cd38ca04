package detect

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// RulesError is a rule set that must not run: it has errors, or no rule
// is enabled.
type RulesError struct {
	// Errors are the error diagnostics, each at its file:line:col.
	Errors lang.Diagnostics
	// NoneEnabled is set when the rules load but none is enabled.
	NoneEnabled bool
}

// Error names the first error diagnostic and how many more there are, or
// says that no rule is enabled.
func (e *RulesError) Error() string {
	if e.NoneEnabled {
		return "no enabled rules to run"
	}
	msg := e.Errors[0].String()
	if n := len(e.Errors) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more errors)", n)
	}
	return msg
}

// Runnable returns a *RulesError when the agent must not run rs: on any
// error diagnostic, and when no rule is enabled. The agent never runs, or
// switches to, a rule set that is partly broken.
func (rs *RuleSet) Runnable() error {
	if rs.Diagnostics.HasErrors() {
		var errs lang.Diagnostics
		for _, d := range rs.Diagnostics {
			if d.Severity == lang.SeverityError {
				errs = append(errs, d)
			}
		}
		return &RulesError{Errors: errs}
	}
	if rs.Enabled() == 0 {
		return &RulesError{NoneEnabled: true}
	}
	return nil
}

// Enabled counts the rules that run.
func (rs *RuleSet) Enabled() int {
	n := 0
	for _, r := range rs.Program.Rules() {
		if r.Enabled {
			n++
		}
	}
	return n
}

// FileSummary is what one rule file contributed.
type FileSummary struct {
	File              string
	Enabled, Disabled int
	// Skipped are the rules that did not load, each with why.
	Skipped []SkippedRule
}

// SkippedRule is a rule left out of the program.
type SkippedRule struct {
	Name, Pos, Reason string
}

// Summarize groups the rules by the file that (last) defined them, in
// load order.
func (rs *RuleSet) Summarize() []FileSummary {
	var out []FileSummary
	index := map[string]int{}
	for _, lr := range rs.Loaded.Rules {
		file := lr.Pos.File
		i, ok := index[file]
		if !ok {
			i = len(out)
			index[file] = i
			out = append(out, FileSummary{File: file})
		}
		f := &out[i]
		switch r := rs.Program.Rule(lr.Name); {
		case r != nil && r.Enabled:
			f.Enabled++
		case r != nil:
			f.Disabled++
		default:
			f.Skipped = append(f.Skipped, SkippedRule{Name: lr.Name, Pos: lr.Pos.String(), Reason: rs.skipReason(lr.Name, lr.Source, lr.ForThisEngine)})
		}
	}
	return out
}

// skipReason explains why a rule is not in the program: it is for another
// event source, or a diagnostic names it.
func (rs *RuleSet) skipReason(name, source string, ours bool) string {
	if !ours {
		return "for event source " + source + ", which Vigil does not serve"
	}
	quoted := fmt.Sprintf("rule %q ", name)
	for _, d := range rs.Diagnostics {
		if strings.Contains(d.Message, quoted) {
			return d.String()
		}
	}
	return "its condition did not load (see the errors above)"
}

// Log logs the diagnostics (warnings at WARN, errors at ERROR), then one
// line per rule file with its enabled, disabled and skipped counts, and
// one per skipped rule with the reason.
func (rs *RuleSet) Log(log *slog.Logger) {
	for _, d := range rs.Diagnostics {
		level := slog.LevelWarn
		if d.Severity == lang.SeverityError {
			level = slog.LevelError
		}
		log.Log(context.Background(), level, "rule diagnostic", "at", d.Pos.String(), "message", d.Message)
	}
	for _, f := range rs.Summarize() {
		log.Info("rule file loaded", "file", f.File, "enabled", f.Enabled, "disabled", f.Disabled, "skipped", len(f.Skipped))
		for _, s := range f.Skipped {
			log.Warn("rule skipped", "rule", s.Name, "at", s.Pos, "reason", s.Reason)
		}
	}
}
