// Package sbomtest builds the fixtures the inventory tests share: a Go
// binary with pinned module versions and a synthetic Debian root file
// system with one package of every kind, with the exact packages a scan
// must find in it.
package sbomtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// XTextVersion is the golang.org/x/text version the fixture binary pins,
// one with known vulnerabilities (GO-2022-1059, fixed in v0.3.8).
const XTextVersion = "v0.3.7"

// GoModule is the fixture binary's main module path.
const GoModule = "example.com/vigilfixture"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  string
)

// GoBinary returns the path of a static Go executable built (once per test
// process) from a module that requires golang.org/x/text at XTextVersion
// from the module proxy and example.com/local replaced by a local folder.
func GoBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-gofixture-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		files := map[string]string{
			"go.mod": "module " + GoModule + "\n\ngo 1.21\n\nrequire (\n\tgolang.org/x/text " + XTextVersion +
				"\n\texample.com/local v0.0.0\n)\n\nreplace example.com/local => ./local\n",
			"main.go":        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/local\"\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() { fmt.Println(language.Make(\"en-US\"), local.Name) }\n",
			"local/go.mod":   "module example.com/local\n\ngo 1.21\n",
			"local/local.go": "// Package local is a replaced dependency.\npackage local\n\n// Name is printed.\nconst Name = \"local\"\n",
		}
		for name, body := range files {
			p := filepath.Join(dir, name)
			err := os.MkdirAll(filepath.Dir(p), 0o755)
			if err == nil {
				err = os.WriteFile(p, []byte(body), 0o644)
			}
			if err != nil {
				buildErr = err.Error()
				return
			}
		}
		out := filepath.Join(dir, "vigil-go-fixture")
		// go test puts its own GOROOT/bin first in the test's PATH.
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOWORK=off")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = "go build of the fixture binary: " + err.Error() + "\n" + string(b)
			return
		}
		buildPath = out
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return buildPath
}

// GoVersion is the toolchain version the fixture binary records, as
// OSV's Go database spells the standard library's ("1.26.8").
func GoVersion() string { return strings.TrimPrefix(strings.Fields(runtime.Version())[0], "go") }
