package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/image"
	"github.com/vigilsec/vigil/internal/sbom/scan"
	"github.com/vigilsec/vigil/internal/vulndb"
	"github.com/vigilsec/vigil/internal/vulnrank"
)

type scanFlags struct {
	db       string
	format   string
	minScore float64
	top      int
	tempDir  string
}

// scanReport is the JSON output of `vigil scan`.
type scanReport struct {
	Target      sbom.Target          `json:"target"`
	Distro      sbom.Distro          `json:"distro"`
	Packages    int                  `json:"packages"`
	Runtime     *scanRuntime         `json:"runtime"` // null when the target is not running
	Findings    []vulnrank.Ranked    `json:"findings"`
	Unevaluated []vulndb.Unevaluated `json:"unevaluated"`
	Errors      []sbom.ScanError     `json:"errors"`
}

type scanRuntime struct {
	Processes int                      `json:"processes"`
	Errors    int                      `json:"errors"`
	Skipped   int                      `json:"skipped"`
	Container *vulnrank.ContainerFacts `json:"container,omitempty"`
}

func newScanCmd() *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Find the vulnerable packages of a target, ranked by what actually runs",
		Long: "Inventory a target, match it against the vulnerability database, and rank the\n" +
			"findings by severity and runtime reality: is the package executed or loaded by a\n" +
			"running process, does that process listen on the network, as root, in a privileged\n" +
			"container, and is a fix available. See docs/scan.md.",
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.db, "db", vulndb.DefaultPath, "vulnerability database file (vigil db import / update)")
	pf.StringVar(&f.format, "format", "table", "output format: table or json")
	pf.Float64Var(&f.minScore, "min-score", 0, "leave out findings scoring below this")
	pf.IntVar(&f.top, "top", 0, "show only the N highest-ranked findings (0: all)")
	pf.StringVar(&f.tempDir, "temp-dir", "", "where images are unpacked (default: the system temp dir)")
	run := func(target func(ctx context.Context, o scan.Options) (*vulnrank.Target, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd, f, target)
		}
	}
	cmd.AddCommand(&cobra.Command{
		Use: "rootfs DIR", Short: "Scan a root file system directory (not running)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(func(ctx context.Context, o scan.Options) (*vulnrank.Target, error) {
				inv, err := scan.Scan(ctx, args[0], o)
				return &vulnrank.Target{Inventory: inv}, err
			})(cmd, args)
		},
	}, &cobra.Command{
		Use: "host", Short: "Scan this machine and the processes sharing its root", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, o scan.Options) (*vulnrank.Target, error) {
			inv, err := scan.Host(ctx, o)
			if err != nil {
				return nil, err
			}
			facts, err := vulnrank.CollectProc(ctx, vulnrank.ProcOptions{})
			return &vulnrank.Target{Inventory: inv, Facts: facts, Root: "/"}, err
		}),
	}, &cobra.Command{
		Use: "container ID", Short: "Scan a running Docker or podman container and its processes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(func(ctx context.Context, o scan.Options) (*vulnrank.Target, error) {
				return scanRunningContainer(ctx, args[0], o)
			})(cmd, args)
		},
	}, &cobra.Command{
		Use: "image NAME|TAR", Short: "Scan an image: a docker save archive or an image of the local Docker engine (not running)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(func(ctx context.Context, o scan.Options) (*vulnrank.Target, error) {
				opts := image.Options{Scan: o, TempDir: f.tempDir}
				var inv *sbom.Inventory
				var err error
				if st, serr := os.Stat(args[0]); serr == nil && st.Mode().IsRegular() {
					inv, err = image.ScanArchive(ctx, args[0], opts)
				} else {
					inv, err = scanEngineImage(ctx, args[0], opts)
				}
				return &vulnrank.Target{Inventory: inv}, err
			})(cmd, args)
		},
	})
	return cmd
}

func runScan(cmd *cobra.Command, f scanFlags, target func(context.Context, scan.Options) (*vulnrank.Target, error)) (err error) {
	if f.format != "table" && f.format != "json" {
		return fmt.Errorf("unknown --format %q (table, json)", f.format)
	}
	if f.top < 0 {
		return fmt.Errorf("--top %d: must be 0 (all) or more", f.top)
	}
	// Open the database first: a missing one should not cost a scan.
	db, err := openExisting(f.db)
	if err != nil {
		return err
	}
	defer closeInto(&err, db)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, clearProgress := progressOptions(cmd.ErrOrStderr())
	tg, err := target(ctx, opts)
	clearProgress()
	if err != nil {
		return err
	}
	ranked, unevaluated, err := tg.Rank(ctx, db)
	if err != nil {
		return err
	}
	kept := ranked[:0]
	for _, r := range ranked {
		if r.Score >= f.minScore {
			kept = append(kept, r)
		}
	}
	if f.top > 0 && len(kept) > f.top {
		kept = kept[:f.top]
	}
	rep := scanReport{Target: tg.Inventory.Target, Distro: tg.Inventory.Distro, Packages: len(tg.Inventory.Packages),
		Findings: nonNil(kept), Unevaluated: nonNil(unevaluated), Errors: nonNil(tg.Inventory.Errors)}
	if tg.Facts != nil {
		rep.Runtime = &scanRuntime{Processes: len(tg.Facts.Processes), Errors: tg.Facts.Errors,
			Skipped: tg.Facts.Skipped, Container: tg.Facts.Container}
	}
	if f.format == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	if err := printRanked(cmd.OutOrStdout(), &rep, len(ranked)); err != nil {
		return err
	}
	return printErrors(cmd.ErrOrStderr(), tg.Inventory)
}

// scanRunningContainer finds container id in the Docker or podman engine
// and returns it as a ranking target.
func scanRunningContainer(ctx context.Context, id string, opts scan.Options) (*vulnrank.Target, error) {
	sources := dockerapi.Detect()
	if len(sources) == 0 {
		return nil, errors.New("no container engine socket found (docker at " + dockerapi.DefaultDockerSocket + ", podman at " + dockerapi.DefaultPodmanSocket + ")")
	}
	var errs []error
	for _, src := range sources {
		info, err := src.Inspect(ctx, id)
		if errors.Is(err, container.ErrNotFound) {
			errs = append(errs, fmt.Errorf("%s: %w", src.Name(), err))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inspect container %s: %w", id, err)
		}
		if info.PID == 0 {
			return nil, fmt.Errorf("container %s is not running", id)
		}
		t, err := vulnrank.ContainerTarget(ctx, info, opts, nil)
		if err != nil {
			return nil, err
		}
		t.Inventory.Target.Name = id // as the user named it
		return t, nil
	}
	return nil, errors.Join(errs...)
}

// printRanked writes the human table: one line per finding, the runtime
// reason (the factor that moves the score most) beside it.
func printRanked(w io.Writer, rep *scanReport, total int) error {
	runtime := "not running: no runtime facts"
	if rep.Runtime != nil {
		runtime = fmt.Sprintf("%d processes (%d unreadable items)", rep.Runtime.Processes, rep.Runtime.Errors)
	}
	p := printer{w: w}
	p.printf("%s %s: %d packages, %d findings (%d shown), %d unevaluated; runtime: %s\n",
		rep.Target.Kind, rep.Target.Name, rep.Packages, total, len(rep.Findings), len(rep.Unevaluated), runtime)
	if len(rep.Findings) > 0 && p.err == nil {
		t := newTable(w)
		t.println("RANK\tSCORE\tSEVERITY\tID\tPACKAGE\tVERSION\tFIXED\tUSE\tWHY")
		for i, r := range rep.Findings {
			fixed := r.Finding.FixedVersion
			if fixed == "" {
				fixed = "-"
			}
			id := r.Finding.Record
			if len(r.Finding.IDs) > 0 {
				id = r.Finding.IDs[0]
			}
			why := strings.Join(r.Reasons[1:], "; ")
			t.printf("%d\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, r.Score, r.Finding.Severity, id,
				r.Package.Name, r.Package.Version, fixed, r.Use, why)
		}
		p.err = t.flush()
	}
	if len(rep.Unevaluated) > 0 {
		p.println("UNEVALUATED (unknown, not clean):")
		for _, u := range rep.Unevaluated {
			rec := ""
			if u.Record != "" {
				rec = " against " + u.Record
			}
			p.printf("  %s %s (%s)%s: %s\n", u.Package.Name, u.Package.Version, u.Package.Ecosystem, rec, u.Reason)
		}
	}
	return p.err
}
