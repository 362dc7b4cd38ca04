package main

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newGenDocsCmd generates the manual pages of root (make man); it is
// hidden, as it is for packaging, not for users.
func newGenDocsCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:    "gendocs DIR",
		Short:  "Write a manual page per command into DIR (make man)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root.DisableAutoGenTag = true
			return doc.GenManTree(root, &doc.GenManHeader{Title: "VIGIL", Section: "8", Source: "Vigil " + version,
				Manual: "Vigil Manual"}, args[0])
		},
	}
}
