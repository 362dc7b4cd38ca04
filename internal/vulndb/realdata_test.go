package vulndb

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// goVulnDBVersion is the golang.org/x/vulndb module version whose
// data/osv folder the real-data tests import.
const goVulnDBVersion = "v0.0.0-20261105234957-e22db6528018"

// goVulnDBDir fetches golang.org/x/vulndb through the Go module proxy (or
// the module cache) and returns its data/osv folder. It runs outside any
// module, so no go.mod or go.sum changes.
func goVulnDBDir(t testing.TB) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	testutil.Require(t, err == nil, "the go command")
	cmd := exec.Command(goCmd, "mod", "download", "-json", "golang.org/x/vulndb@"+goVulnDBVersion)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	testutil.Require(t, err == nil, "golang.org/x/vulndb from the Go module proxy: "+string(out))
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %s (%v)", out, err)
	}
	return filepath.Join(mod.Dir, "data", "osv")
}

// TestGoVulnDBRealData imports the real Go vulnerability database and
// matches modules and a toolchain with known vulnerable versions.
func TestGoVulnDBRealData(t *testing.T) {
	osvDir := goVulnDBDir(t)
	db, err := Open(filepath.Join(t.TempDir(), "vulndb.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	start := time.Now()
	st, err := db.Import(ctx, osvDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d records from %d files in %v (%d withdrawn, %d bad)", st.Records, st.Files, time.Since(start), st.Withdrawn, st.Bad)
	if st.Bad != 0 {
		t.Errorf("bad records in the Go vulndb: %v", st.Problems)
	}
	if st.Records < 4000 || st.Added != st.Records {
		t.Errorf("stats %+v", st)
	}

	text := Query{Name: "golang.org/x/text", Version: "v0.3.7", Ecosystem: "Go"}
	textFixed := Query{Name: "golang.org/x/text", Version: "v0.3.8", Ecosystem: "Go"}
	stdlib := Query{Name: "stdlib", Version: "go1.21.3", Ecosystem: "Go"}
	findings, unevaluated, err := db.Match(ctx, []Query{text, textFixed, stdlib})
	if err != nil {
		t.Fatal(err)
	}
	if len(unevaluated) != 0 {
		t.Errorf("unevaluated %v", unevaluated)
	}
	byRecord := map[string]Finding{}
	for _, f := range findings {
		byRecord[f.Package.Version+" "+f.Record] = f
	}
	f, ok := byRecord["v0.3.7 GO-2022-1059"]
	if !ok {
		t.Fatalf("no GO-2022-1059 finding for x/text v0.3.7 in %s", js(findings))
	}
	if want := []string{"CVE-2022-32149", "GHSA-69ch-w2m2-3vjp", "GO-2022-1059"}; !slices.Equal(f.IDs, want) ||
		f.FixedVersion != "0.3.8" || f.AffectedRange != ">=0, <0.3.8" || f.Package != text {
		t.Errorf("finding %s", js(f))
	}
	for _, f := range findings {
		if f.Package == textFixed && slices.Contains(f.IDs, "GO-2022-1059") {
			t.Errorf("v0.3.8 reported vulnerable to GO-2022-1059")
		}
	}
	g, ok := byRecord["go1.21.3 GO-2023-2185"]
	if !ok || g.FixedVersion != "1.21.4" || g.AffectedRange != ">=1.21.0-0, <1.21.4" || g.IDs[0] != "CVE-2023-45283" {
		t.Errorf("stdlib go1.21.3: GO-2023-2185 finding %s", js(g))
	}
	t.Logf("%d findings: x/text v0.3.7, v0.3.8 and stdlib go1.21.3", len(findings))
}
