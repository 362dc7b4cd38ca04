package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/vulndb"
)

func newDBCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the offline vulnerability database (OSV records)",
		Long: "The vulnerability database holds OSV records in one local file, indexed by\n" +
			"ecosystem and package. Import records offline from files, directories or the\n" +
			"per-ecosystem zip dumps OSV publishes, or fetch the dumps with update.",
	}
	cmd.PersistentFlags().StringVar(&path, "db", vulndb.DefaultPath, "database file")
	cmd.AddCommand(newDBImportCmd(&path), newDBUpdateCmd(&path), newDBStatusCmd(&path), newDBMatchCmd(&path))
	return cmd
}

func newDBImportCmd(path *string) *cobra.Command {
	var format *reportFormat
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import OSV records from JSON files, directories or zip dumps",
		Long: "Import OSV records from JSON files (one record or an array), directories\n" +
			"(searched recursively for .json and .zip) and OSV's <ecosystem>/all.zip dumps.\n" +
			"A record replaces a stored one with the same id unless the stored one was\n" +
			"modified later. Bad records are printed as file:line:col and skipped.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) (err error) {
			db, err := vulndb.Open(*path)
			if err != nil {
				return err
			}
			defer closeInto(&err, db)
			f, err := format.get()
			if err != nil {
				return err
			}
			start := time.Now()
			st, err := db.Import(cmd.Context(), paths...)
			return errors.Join(err, printImport(cmd.OutOrStdout(), cmd.ErrOrStderr(), st, time.Since(start), f == "json"))
		},
	}
	format = addReportFormat(cmd.Flags(), true, "text", "json")
	return cmd
}

func printImport(out, errOut io.Writer, st vulndb.ImportStats, took time.Duration, asJSON bool) error {
	problems := printer{w: errOut}
	for _, p := range st.Problems {
		problems.println(p)
	}
	if st.Bad > len(st.Problems) {
		problems.printf("… and %d more bad records\n", st.Bad-len(st.Problems))
	}
	if asJSON {
		return errors.Join(problems.err, json.NewEncoder(out).Encode(st))
	}
	p := printer{w: out}
	p.printf("%d records from %d files in %v: %d added, %d replaced, %d older skipped, %d withdrawn, %d bad\n",
		st.Records, st.Files, took.Round(time.Millisecond), st.Added, st.Replaced, st.Older, st.Withdrawn, st.Bad)
	return errors.Join(problems.err, p.err)
}

func newDBUpdateCmd(path *string) *cobra.Command {
	var ecosystems []string
	var source string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download OSV's published dumps and import them",
		Long: "Download <source>/<ecosystem>/all.zip for each ecosystem and import it. Needs\n" +
			"the network; offline, download the dumps elsewhere and use vigil db import.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			db, err := vulndb.Open(*path)
			if err != nil {
				return err
			}
			defer closeInto(&err, db)
			res, err := db.Update(cmd.Context(), vulndb.UpdateOptions{Source: source, Ecosystems: ecosystems})
			for _, r := range res {
				p := printer{w: cmd.OutOrStdout()}
				p.printf("%s: %d bytes, ", r.Ecosystem, r.Bytes)
				if perr := errors.Join(p.err, printImport(cmd.OutOrStdout(), cmd.ErrOrStderr(), r.Import, 0, false)); perr != nil {
					return errors.Join(err, perr)
				}
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystem", vulndb.DefaultEcosystems, "ecosystems to fetch (repeatable or comma-separated)")
	cmd.Flags().StringVar(&source, "source", vulndb.DefaultSource, "base URL of the dumps")
	return cmd
}

func newDBStatusCmd(path *string) *cobra.Command {
	var format *reportFormat
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the ecosystems in the database, their record counts and import times",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			db, err := openExisting(*path)
			if err != nil {
				return err
			}
			defer closeInto(&err, db)
			st, err := db.Status()
			if err != nil {
				return err
			}
			f, err := format.get()
			if err != nil {
				return err
			}
			if f == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			t := newTable(cmd.OutOrStdout())
			t.println("ECOSYSTEM\tRECORDS\tWITHDRAWN\tLAST IMPORT\tLAST UPDATE")
			for _, s := range st {
				t.printf("%s\t%d\t%d\t%s\t%s\n", s.Ecosystem, s.Records, s.Withdrawn, stamp(s.LastImport), stamp(s.LastUpdate))
			}
			return t.flush()
		},
	}
	format = addReportFormat(cmd.Flags(), true, "text", "json")
	return cmd
}

func newDBMatchCmd(path *string) *cobra.Command {
	var q vulndb.Query
	cmd := &cobra.Command{
		Use:   "match --ecosystem ECO --name NAME --version VERSION",
		Short: "Match one package against the database and print the findings as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if q.Ecosystem == "" || q.Name == "" || q.Version == "" {
				return errors.New("--ecosystem, --name and --version are required")
			}
			db, err := openExisting(*path)
			if err != nil {
				return err
			}
			defer closeInto(&err, db)
			findings, unevaluated, err := db.Match(cmd.Context(), []vulndb.Query{q})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(struct {
				Findings    []vulndb.Finding     `json:"findings"`
				Unevaluated []vulndb.Unevaluated `json:"unevaluated"`
			}{nonNil(findings), nonNil(unevaluated)})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Ecosystem, "ecosystem", "", `OSV ecosystem, e.g. "Debian:12", "Go", "PyPI"`)
	f.StringVar(&q.Name, "name", "", "package name")
	f.StringVar(&q.Version, "version", "", "installed version")
	f.StringVar(&q.SourceName, "source-name", "", "distribution source package, if different")
	f.StringVar(&q.SourceVersion, "source-version", "", "source package version, if different")
	return cmd
}

// openExisting opens the database for reading commands, which should not
// create an empty one by mistake.
func openExisting(path string) (*vulndb.DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no vulnerability database at %s (run vigil db import or vigil db update)", path)
		}
		return nil, err
	}
	return vulndb.Open(path)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return strings.Replace(t.UTC().Format(time.RFC3339), "T", " ", 1)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
