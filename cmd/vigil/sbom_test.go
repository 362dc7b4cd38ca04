package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
)

func sbomFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"etc/os-release":                      "ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"Debian 12\"\n",
		"var/lib/dpkg/status":                 "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n",
		"var/lib/dpkg/info/zlib1g:amd64.list": "/usr/lib/x86_64-linux-gnu/libz.so.1\n",
		"app/package-lock.json":               `{"lockfileVersion":3,"packages":{"node_modules/left-pad":{"version":"1.3.0","license":"WTFPL"}}}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSBOMRootFSFormats(t *testing.T) {
	bin := vigilBinary(t)
	dir := sbomFixture(t)

	out, errOut, code := vigil(t, bin, "sbom", "rootfs", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		strings.Join(strings.Fields(lines[1]), " ") != "zlib1g 1:1.2.13.dfsg-1 deb Debian:12 zlib 1:1.2.13.dfsg-1 /var/lib/dpkg/status" ||
		strings.Join(strings.Fields(lines[2]), " ") != "left-pad 1.3.0 npm npm - /app/package-lock.json" {
		t.Errorf("table:\n%s", out)
	}
	if want := "rootfs " + dir + ": Debian 12, 2 packages, 0 files not read\n"; errOut != want {
		t.Errorf("stderr %q, want %q (no progress line off a terminal)", errOut, want)
	}

	out, _, code = vigil(t, bin, "sbom", "rootfs", "--format", "json", dir)
	var inv sbom.Inventory
	if err := json.Unmarshal([]byte(out), &inv); err != nil || code != 0 {
		t.Fatalf("json: %v (exit %d)\n%s", err, code, out)
	}
	if len(inv.Packages) != 2 || inv.Packages[0].Name != "zlib1g" || inv.Packages[0].Files[0] != "/usr/lib/x86_64-linux-gnu/libz.so.1" ||
		inv.Distro.ID != "debian" || inv.Target.Kind != "rootfs" {
		t.Errorf("inventory %+v", inv)
	}

	file := filepath.Join(t.TempDir(), "bom.json")
	if _, errOut, code := vigil(t, bin, "sbom", "rootfs", "--format", "cyclonedx", "-o", file, dir); code != 0 {
		t.Fatalf("cyclonedx: %s", errOut)
	}
	var bom struct {
		BOMFormat, SpecVersion string
		Components             []struct{ Name, Purl string }
	}
	b, _ := os.ReadFile(file)
	if err := json.Unmarshal(b, &bom); err != nil || bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || len(bom.Components) != 3 {
		t.Errorf("cyclonedx %v %+v", err, bom)
	}

	out, _, _ = vigil(t, bin, "sbom", "rootfs", "--format", "spdx", dir)
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.SPDXVersion != "SPDX-2.3" || len(doc.Packages) != 4 {
		t.Errorf("spdx %v %+v", err, doc)
	}
}

func TestSBOMErrors(t *testing.T) {
	bin := vigilBinary(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sbom", "rootfs", "--format", "xml", "/"}, `vigil: unknown --format "xml" (table, json, cyclonedx, spdx)`},
		{[]string{"sbom", "rootfs", "/nonexistent-vigil-dir"}, "vigil: open /nonexistent-vigil-dir: no such file or directory"},
		{[]string{"sbom", "image", "/dev/null/x"}, "vigil: image /dev/null/x: not a file, and the Docker engine could not save it"},
	} {
		_, errOut, code := vigil(t, bin, c.args...)
		if code != 1 || !strings.HasPrefix(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want prefix %q", c.args, code, errOut, c.want)
		}
	}
}
