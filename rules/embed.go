// Package rules holds Vigil's default detection rules, written in the
// Falco rules format and embedded in the binary so that `vigil run` works
// without any file on disk.
package rules

import (
	"embed"
	"io/fs"
	"sort"
)

// FS holds the default rule files at its root.
//
//go:embed *.yaml
var FS embed.FS

// Files returns the names of the default rule files in FS, in the order
// they load (by name, as Falco loads a rules directory).
func Files() []string {
	names, err := fs.Glob(FS, "*.yaml")
	if err != nil {
		// Glob fails only for a malformed pattern, and this one is fixed.
		return nil
	}
	sort.Strings(names)
	return names
}
