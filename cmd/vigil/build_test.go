package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// vigilBinary builds the vigil command into the test's temporary
// directory and returns its path: the CLI is tested as users run it, as a
// separate process. The build cache makes every build after the first a
// link.
func vigilBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil")
	// go test puts its own GOROOT/bin first in the test's PATH.
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
