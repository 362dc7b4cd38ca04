// Package rules holds Vigil's default detection rules, written in the
// Falco rules format and embedded in the binary so that `vigil run` works
// without any file on disk.
//
// The rules are split by maturity: the stable set (stable/*.yaml) loads by
// default; the experimental set (experimental/*.yaml) is embedded too but
// loads only when asked for, after the stable set, whose lists and macros
// it uses.
package rules

import (
	"embed"
	"io/fs"
	"sort"
)

// FS holds the default rule files, under stable/ and experimental/.
//
//go:embed stable/*.yaml experimental/*.yaml
var FS embed.FS

// Files returns the names of the stable rule files in FS, in the order
// they load (by name, as Falco loads a rules directory).
func Files() []string { return glob("stable/*.yaml") }

// ExperimentalFiles returns the names of the experimental rule files in
// FS, in the order they load. They need the stable files loaded first.
func ExperimentalFiles() []string { return glob("experimental/*.yaml") }

func glob(pattern string) []string {
	names, err := fs.Glob(FS, pattern)
	if err != nil {
		// Glob fails only for a malformed pattern, and these are fixed.
		return nil
	}
	sort.Strings(names)
	return names
}
