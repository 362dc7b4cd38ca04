package rpm

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/rpm/rpmdb"
)

// FuzzReadSQLite reads an rpmdb.sqlite however damaged, as a scan of a
// hostile image would: an error or header blobs within rpmdb.MaxBlob,
// and every package made from them has a name and a package URL.
func FuzzReadSQLite(f *testing.F) {
	f.Fuzz(func(t *testing.T, db []byte) {
		file := filepath.Join(t.TempDir(), "rpmdb.sqlite")
		if err := os.WriteFile(file, db, 0o644); err != nil {
			t.Fatal(err)
		}
		blobs, err := readSQLite(context.Background(), file)
		if err != nil {
			return
		}
		for _, b := range blobs {
			if len(b) > rpmdb.MaxBlob {
				t.Fatalf("blob of %d bytes", len(b))
			}
		}
		pkgs, _ := Packages(blobs, sbom.Distro{ID: "rhel", VersionID: "9.3"}, "/var/lib/rpm/rpmdb.sqlite")
		for _, p := range pkgs {
			if p.Name == "" || p.PURL == "" {
				t.Errorf("package %+v", p)
			}
		}
	})
}
