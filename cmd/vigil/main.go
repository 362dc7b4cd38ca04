// Command vigil is Vigil's command-line interface: the agent and its tools.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/agent/service"
)

// Set at link time: -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	service.Version = version
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "vigil:", err)
		os.Exit(1)
	}
}

// newRootCmd builds the whole command tree: main runs it, and the man
// pages are generated from it.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Runtime security for Linux hosts, containers and Kubernetes",
		Long:          "Vigil watches every process on a node through eBPF, enriches each event with\nprocess ancestry, and streams or evaluates it.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("vigil {{.Version}} (commit " + commit + ", " + runtime.Version() + ")\n")
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the command to this file")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRun = func(*cobra.Command, []string) { pprof.StopCPUProfile() }
	root.AddCommand(newVersionCmd(), newEventsCmd(), newRunCmd(), newRulesCmd(), newConfigCmd())
	root.AddCommand(newFieldsCmd())
	root.AddCommand(newSBOMCmd())
	root.AddCommand(newDBCmd())
	root.AddCommand(newScanCmd())
	root.AddCommand(newEnforceCmd())
	root.AddCommand(newServerCmd())
	root.AddCommand(newGenDocsCmd(root))
	return root
}
