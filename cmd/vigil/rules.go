package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/ruletest"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Check, list and test detection rules",
	}
	cmd.AddCommand(newRulesValidateCmd(), newRulesListCmd(), newRulesTestCmd())
	return cmd
}

func newRulesValidateCmd() *cobra.Command {
	var strict, defaults bool
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Load rule files and print every problem as file:line:col: severity: message",
		Long: "Load rule files and directories in order, as vigil run would, and print every\n" +
			"diagnostic: errors (the rule cannot load) and warnings (unknown fields, unused\n" +
			"lists and macros, redefined rules, rules without an evt.type restriction,\n" +
			"event types Vigil does not capture). Exits non-zero if there is any error.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			rs, err := detect.Load(detect.LoadOptions{Paths: paths, Defaults: defaults, Strict: strict})
			if err != nil {
				return err
			}
			// How actions will be enforced is part of validity: a block
			// rule the kernel cannot enforce as written says so here.
			_, notes := enforce.Plan(rs.Program, enforce.Options{})
			rs.Diagnostics = append(rs.Diagnostics, notes...)
			if err := printDiagnostics(cmd.OutOrStdout(), rs.Diagnostics, ""); err != nil {
				return err
			}
			errs, warns := count(rs.Diagnostics)
			summary := printer{w: cmd.ErrOrStderr()}
			summary.printf("%d rules compiled, %d errors, %d warnings\n", len(rs.Program.Rules()), errs, warns)
			if summary.err != nil {
				return summary.err
			}
			if errs > 0 {
				return fmt.Errorf("%d errors in the rules", errs)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "make fields Vigil does not know an error")
	cmd.Flags().BoolVar(&defaults, "with-defaults", false, "load the embedded default rules first, as files amending them need")
	return cmd
}

func count(ds lang.Diagnostics) (errs, warns int) {
	for _, d := range ds {
		if d.Severity == lang.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func newRulesListCmd() *cobra.Command {
	var paths []string
	var defaults bool
	var format *reportFormat
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List rules with their priority, source, state, tags and event types",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := format.get()
			if err != nil {
				return err
			}
			rs, err := detect.Load(detect.LoadOptions{Paths: paths, Defaults: defaults})
			if err != nil {
				return err
			}
			if f == "json" {
				return describeRules(cmd.OutOrStdout(), rs, "", f)
			}
			t := newTable(cmd.OutOrStdout())
			t.println("NAME\tPRIORITY\tSOURCE\tENABLED\tTAGS\tEVENT TYPES")
			for _, r := range rs.Loaded.Rules {
				types := "(not loaded)"
				switch cr := rs.Program.Rule(r.Name); {
				case !r.ForThisEngine:
					types = "(other source)"
				case cr != nil:
					types = typesText(cr.Types)
				}
				t.printf("%s\t%s\t%s\t%v\t%s\t%s\n", r.Name, r.Priority, r.Source, r.Enabled, strings.Join(r.Tags, ","), types)
			}
			return t.flush()
		},
	}
	cmd.Flags().StringArrayVarP(&paths, "rules", "r", nil, "rule file or directory (repeatable; default: the embedded rules)")
	cmd.Flags().BoolVar(&defaults, "with-defaults", false, "load the embedded default rules before --rules")
	format = addReportFormat(cmd.Flags(), false, "text", "json")
	return cmd
}

// typesText shows a rule's event types: a list, "*" for all, or all
// but some.
func typesText(ts compile.TypeSet) string {
	switch {
	case ts.All():
		return "*"
	case ts.Neg:
		return "* except " + strings.Join(ts.Names(), ",")
	case ts.Empty():
		return "(none)"
	}
	return strings.Join(ts.Names(), ",")
}

func newRulesTestCmd() *cobra.Command {
	var paths []string
	var defaults, experimental bool
	cmd := &cobra.Command{
		Use:   "test FIXTURE.yaml...",
		Short: "Run rules against synthetic events described in fixture files",
		Long: "Run the rules against the synthetic events of each fixture (format in\n" +
			"docs/rules.md) and check which rules fire. Exits non-zero on any failure.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, fixtures []string) error {
			rs, err := detect.Load(detect.LoadOptions{Paths: paths, Defaults: defaults, Experimental: experimental})
			if err != nil {
				return err
			}
			out := printer{w: cmd.OutOrStdout()}
			if err := printDiagnostics(cmd.ErrOrStderr(), rs.Diagnostics, ""); err != nil {
				return err
			}
			if rs.Diagnostics.HasErrors() {
				return fmt.Errorf("the rules have errors")
			}
			passed, failed := 0, 0
			for _, path := range fixtures {
				f, err := ruletest.Read(path)
				if err != nil {
					return err
				}
				for _, r := range ruletest.Run(rs.Program, f) {
					if r.Passed() {
						passed++
						out.printf("PASS %s: %s\n", r.Test.Pos, r.Test.Name)
						continue
					}
					failed++
					out.printf("FAIL %s: %s\n", r.Test.Pos, r.Test.Name)
					for _, msg := range r.Failures {
						out.printf("  %s\n", msg)
					}
				}
			}
			out.printf("%d passed, %d failed\n", passed, failed)
			if out.err != nil {
				return out.err
			}
			if failed > 0 {
				return fmt.Errorf("%d rule tests failed", failed)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&paths, "rules", nil, "rule file or directory (repeatable; default: the embedded rules)")
	cmd.Flags().BoolVar(&defaults, "with-defaults", false, "load the embedded default rules before --rules")
	cmd.Flags().BoolVar(&experimental, "experimental", false, "also load the embedded experimental rules, after the stable ones")
	return cmd
}
