package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/export"
	"github.com/vigilsec/vigil/internal/sbom/image"
	"github.com/vigilsec/vigil/internal/sbom/scan"
)

type sbomFlags struct {
	format  string
	output  string
	files   bool
	tempDir string
}

func newSBOMCmd() *cobra.Command {
	var f sbomFlags
	cmd := &cobra.Command{
		Use:   "sbom",
		Short: "Inventory the software of a root file system, the host, a container or an image",
		Long: "List the installed packages (dpkg, apk, rpm) and language packages (Go binaries,\n" +
			"npm, Python, Java archives) of a target, as a table, Vigil's JSON inventory, or\n" +
			"a CycloneDX 1.6 or SPDX 2.3 JSON SBOM. See docs/sbom.md.",
	}
	cmd.PersistentFlags().StringVar(&f.format, "format", "table", "output format: table, json (the inventory), cyclonedx or spdx")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "", "write to this file instead of stdout")
	cmd.PersistentFlags().BoolVar(&f.files, "files", false, "list each package's files in cyclonedx/spdx output")
	cmd.PersistentFlags().StringVar(&f.tempDir, "temp-dir", "", "where images are unpacked (default: the system temp dir)")
	run := func(scanFn func(ctx context.Context, opts scan.Options) (*sbom.Inventory, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			switch f.format {
			case "table", "json", "cyclonedx", "spdx":
			default:
				return fmt.Errorf("unknown --format %q (table, json, cyclonedx, spdx)", f.format)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts, clearProgress := progressOptions(cmd.ErrOrStderr())
			inv, err := scanFn(ctx, opts)
			clearProgress()
			if err != nil {
				return err
			}
			return writeInventory(cmd, inv, f)
		}
	}
	cmd.AddCommand(&cobra.Command{
		Use: "rootfs DIR", Short: "Inventory a root file system directory", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(func(ctx context.Context, o scan.Options) (*sbom.Inventory, error) { return scan.Scan(ctx, args[0], o) })(cmd, args)
		},
	}, &cobra.Command{
		Use: "host", Short: "Inventory this machine (/), without container engines' stores", Args: cobra.NoArgs,
		RunE: run(scan.Host),
	}, &cobra.Command{
		Use: "container ID", Short: "Inventory a running Docker or podman container through /proc/<pid>/root", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(func(ctx context.Context, o scan.Options) (*sbom.Inventory, error) {
				return scanContainer(ctx, args[0], o)
			})(cmd, args)
		},
	}, &cobra.Command{
		Use:   "image NAME|TAR",
		Short: "Inventory an image: a docker save archive, or an image of the local Docker engine",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(func(ctx context.Context, o scan.Options) (*sbom.Inventory, error) {
				opts := image.Options{Scan: o, TempDir: f.tempDir}
				if st, err := os.Stat(args[0]); err == nil && st.Mode().IsRegular() {
					return image.ScanArchive(ctx, args[0], opts)
				}
				return scanEngineImage(ctx, args[0], opts)
			})(cmd, args)
		},
	})
	return cmd
}

func scanContainer(ctx context.Context, id string, opts scan.Options) (*sbom.Inventory, error) {
	sources := dockerapi.Detect()
	if len(sources) == 0 {
		return nil, errors.New("no container engine socket found (docker at " + dockerapi.DefaultDockerSocket + ", podman at " + dockerapi.DefaultPodmanSocket + ")")
	}
	var errs []error
	for _, src := range sources {
		inv, err := scan.Container(ctx, src, id, opts)
		if err == nil {
			return inv, nil
		}
		if !errors.Is(err, container.ErrNotFound) {
			return nil, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", src.Name(), err))
	}
	return nil, errors.Join(errs...)
}

func scanEngineImage(ctx context.Context, name string, opts image.Options) (*sbom.Inventory, error) {
	c := dockerapi.New(dockerapi.DefaultDockerSocket, container.RuntimeDocker)
	rc, err := c.SaveImage(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("image %s: not a file, and the Docker engine could not save it: %w", name, err)
	}
	defer rc.Close()
	return image.ScanStream(ctx, rc, name, opts)
}

func writeInventory(cmd *cobra.Command, inv *sbom.Inventory, f sbomFlags) (err error) {
	w := cmd.OutOrStdout()
	if f.output != "" {
		out, err := os.Create(f.output)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}()
		w = out
	}
	opts := export.Options{ToolVersion: version, Files: f.files}
	switch f.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(inv)
	case "cyclonedx":
		return export.CycloneDX(w, inv, opts)
	case "spdx":
		return export.SPDX(w, inv, opts)
	}
	if err := printTable(w, inv); err != nil {
		return err
	}
	return printErrors(cmd.ErrOrStderr(), inv)
}

func printTable(w io.Writer, inv *sbom.Inventory) error {
	t := newTable(w)
	t.println("NAME\tVERSION\tTYPE\tECOSYSTEM\tSOURCE\tLOCATION")
	for _, p := range inv.Packages {
		src := "-"
		if p.SourceName != "" {
			src = p.SourceName + " " + p.SourceVersion
		}
		eco := p.Ecosystem
		if eco == "" {
			eco = "-"
		}
		t.printf("%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Type, eco, src, p.Location)
	}
	return t.flush()
}

// printErrors summarises the scan and lists the first files it could not
// read.
func printErrors(w io.Writer, inv *sbom.Inventory) error {
	p := printer{w: w}
	const shown = 20
	distro := inv.Distro.Name
	if distro == "" {
		distro = "unknown distribution"
	}
	p.printf("%s %s: %s, %d packages, %d files not read\n", inv.Target.Kind, inv.Target.Name, distro, len(inv.Packages), len(inv.Errors))
	for i, e := range inv.Errors {
		if i == shown {
			p.printf("  ... and %d more (see --format json)\n", len(inv.Errors)-shown)
			break
		}
		p.printf("  %s: %s\n", e.File, e.Message)
	}
	return p.err
}

// progressLine redraws one status line on a terminal; nil when stderr is
// not one, so that logs and pipes never get carriage returns.
type progressLine struct {
	w     io.Writer
	drawn bool
}

// progressOptions returns scan options that draw progress on w when it is
// a terminal, and the function that erases the line once the scan ends.
func progressOptions(w io.Writer) (scan.Options, func()) {
	var opts scan.Options
	progress := newProgressLine(w)
	if progress != nil {
		opts.Progress = progress.update
	}
	return opts, progress.clear
}

func newProgressLine(w io.Writer) *progressLine {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return nil
	}
	return &progressLine{w: w}
}

func (p *progressLine) update(pr scan.Progress) {
	if pr.Done {
		return
	}
	path := pr.Path
	if len(path) > 50 {
		path = "..." + path[len(path)-47:]
	}
	// Progress is decoration on a terminal: a failed redraw must not
	// stop the scan, and the report's own writes are checked.
	_, _ = fmt.Fprintf(p.w, "\r\033[Kscanning: %d files, %d packages  %s", pr.Files, pr.Packages, path)
	p.drawn = true
}

func (p *progressLine) clear() {
	if p != nil && p.drawn {
		_, _ = fmt.Fprint(p.w, "\r\033[K") // decoration, as in update
	}
}
