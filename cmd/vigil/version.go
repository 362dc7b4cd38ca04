package main

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/sensor"
)

func newVersionCmd() *cobra.Command {
	var format *reportFormat
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit and the kernel features found",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := format.get()
			if err != nil {
				return err
			}
			features := sensor.ProbeFeatures()
			out := cmd.OutOrStdout()
			if f == "json" {
				return json.NewEncoder(out).Encode(map[string]any{
					"version": version, "commit": commit, "go": runtime.Version(), "features": features,
				})
			}
			p := printer{w: out}
			p.printf("vigil %s (commit %s, %s %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			p.println("kernel features:")
			for _, f := range features {
				state := "yes"
				if !f.Available {
					state = "no"
				}
				line := fmt.Sprintf("  %-18s %-3s", f.Name, state)
				if f.Required {
					line += "  (required)"
				}
				if f.Detail != "" {
					line += "  " + f.Detail
				}
				p.println(line)
			}
			return p.err
		},
	}
	format = addReportFormat(cmd.Flags(), true, "text", "json")
	return cmd
}
