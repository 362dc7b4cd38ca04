package scan_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
	"github.com/vigilsec/vigil/internal/sbom/scan"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/vulndb"
	"github.com/vigilsec/vigil/internal/vulnrank"
)

// goVulnDBVersion is the golang.org/x/vulndb module whose data/osv folder
// holds the real Go vulnerability records.
const goVulnDBVersion = "v0.0.0-20261105234957-e22db6528018"

// TestGoBinaryAgainstRealVulnDB builds a Go program that pins
// golang.org/x/text v0.3.7, finds it by scanning a root file system, and
// matches the inventory against the real Go vulnerability database: the
// finding names GO-2022-1059 and its fix.
func TestGoBinaryAgainstRealVulnDB(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	testutil.Require(t, err == nil, "the go command")
	dl := exec.Command(goCmd, "mod", "download", "-json", "golang.org/x/vulndb@"+goVulnDBVersion)
	dl.Dir = t.TempDir()
	out, err := dl.Output()
	testutil.Require(t, err == nil, "golang.org/x/vulndb from the Go module proxy")
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %s (%v)", out, err)
	}

	root := t.TempDir()
	bin := filepath.Join(root, "usr", "local", "bin", "app")
	copyFile(t, sbomtest.GoBinary(t), bin)
	inv, err := scan.Scan(context.Background(), root, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(filepath.Join(t.TempDir(), "vulndb.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Import(context.Background(), filepath.Join(mod.Dir, "data", "osv")); err != nil {
		t.Fatal(err)
	}
	findings, _, err := db.Match(context.Background(), vulnrank.Queries(inv))
	if err != nil {
		t.Fatal(err)
	}
	var found *vulndb.Finding
	for i, f := range findings {
		if f.Package.Name == "golang.org/x/text" && slices.Contains(f.IDs, "GO-2022-1059") {
			found = &findings[i]
		}
	}
	if found == nil {
		t.Fatalf("no GO-2022-1059 finding for the binary's golang.org/x/text; %d findings", len(findings))
	}
	if found.Package.Version != sbomtest.XTextVersion || found.FixedVersion != "0.3.8" || !slices.Contains(found.IDs, "CVE-2022-32149") {
		t.Errorf("finding %+v", *found)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(errors.Join(err, out.Close()))
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
