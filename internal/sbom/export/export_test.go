package export

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigilsec/vigil/internal/sbom"
)

// inventory has one package of each kind, with the awkward cases:
// scoped names, epochs, free-text and SPDX licenses, source packages.
func inventory() *sbom.Inventory {
	return &sbom.Inventory{
		Target: sbom.Target{Kind: sbom.TargetImage, Name: "registry.local/app:1.0", ID: "sha256:" + strings.Repeat("ab", 32)},
		Distro: sbom.Distro{ID: "debian", VersionID: "12", Name: "Debian GNU/Linux 12 (bookworm)"},
		Packages: []sbom.Package{
			{Name: "bash", Version: "5.2.15-2+b8", Ecosystem: "Debian:12", SourceName: "bash", SourceVersion: "5.2.15-2",
				PURL: "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12", Type: "deb", Location: "/var/lib/dpkg/status",
				Files: []string{"/bin/bash"}, Licenses: []string{"GPLv3+"}},
			{Name: "vigil-tools", Version: "3:2.0-1.el9", Ecosystem: "Red Hat", Type: "rpm", Location: "/var/lib/rpm/rpmdb.sqlite",
				PURL: "pkg:rpm/redhat/vigil-tools@2.0-1.el9?arch=x86_64&epoch=3", Licenses: []string{"GPL-2.0-or-later AND MIT"}},
			{Name: "@babel/core", Version: "7.22.0", Ecosystem: "npm", PURL: "pkg:npm/%40babel/core@7.22.0", Type: "npm",
				Location: "/srv/app/package-lock.json", Licenses: []string{"MIT"}},
			{Name: "golang.org/x/text", Version: "v0.3.7", Ecosystem: "Go", PURL: "pkg:golang/golang.org/x/text@v0.3.7",
				Type: "go-module", Location: "/usr/local/bin/app", Files: []string{"/usr/local/bin/app"}},
			{Name: "org.slf4j:slf4j-api", Version: "1.7.36", Ecosystem: "Maven", PURL: "pkg:maven/org.slf4j/slf4j-api@1.7.36",
				Type: "java", Location: "/opt/app.jar!/BOOT-INF/lib/slf4j-api-1.7.36.jar", Files: []string{"/opt/app.jar"}},
		},
	}
}

var fixed = Options{ToolVersion: "1.2.3", Files: true, Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ID: "0b5e4f2c-1d3a-4c6e-8f70-123456789abc"}

// compile loads the committed schemas (testdata/schema/SOURCES.md) under
// the ids they declare, so that their cross-references resolve offline.
func compile(t *testing.T, main string, files ...string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	var mainID string
	for _, f := range append([]string{main}, files...) {
		b, err := os.ReadFile(filepath.Join("testdata", "schema", f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		if f == main {
			mainID = id
		}
	}
	s, err := c.Compile(mainID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("output does not validate: %v\n%s", err, out)
	}
}

func TestCycloneDXValidatesAndCarriesThePackages(t *testing.T) {
	s := compile(t, "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")
	for _, inv := range []*sbom.Inventory{inventory(), {Target: sbom.Target{Kind: sbom.TargetRootFS, Name: "/"}}} {
		var buf bytes.Buffer
		if err := CycloneDX(&buf, inv, fixed); err != nil {
			t.Fatal(err)
		}
		validate(t, s, buf.Bytes())
	}
	var buf bytes.Buffer
	if err := CycloneDX(&buf, inventory(), fixed); err != nil {
		t.Fatal(err)
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(buf.Bytes()), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.SerialNumber != "urn:uuid:"+fixed.ID || bom.Metadata.Timestamp != "2026-01-02T03:04:05Z" {
		t.Errorf("header: %v %s %s", bom.SpecVersion, bom.SerialNumber, bom.Metadata.Timestamp)
	}
	if m := bom.Metadata.Component; m.Name != "registry.local/app:1.0" || m.Type != cdx.ComponentTypeContainer {
		t.Errorf("metadata component %+v", m)
	}
	comps := *bom.Components
	if len(comps) != 6 || comps[0].Type != cdx.ComponentTypeOS || comps[0].Name != "debian" || comps[0].Version != "12" {
		t.Fatalf("components %+v", comps)
	}
	bash := comps[1]
	if bash.Name != "bash" || bash.Version != "5.2.15-2+b8" || bash.PackageURL != inventory().Packages[0].PURL ||
		(*bash.Licenses)[0].License.Name != "GPLv3+" || (*bash.Evidence.Occurrences)[0].Location != "/bin/bash" {
		t.Errorf("bash component %+v", bash)
	}
	props := map[string]string{}
	for _, p := range *bash.Properties {
		props[p.Name] = p.Value
	}
	wantProps := map[string]string{propType: "deb", propLocation: "/var/lib/dpkg/status", propEcosystem: "Debian:12",
		propSourceName: "bash", propSourceVersion: "5.2.15-2"}
	if len(props) != len(wantProps) {
		t.Errorf("properties %v", props)
	}
	for k, v := range wantProps {
		if props[k] != v {
			t.Errorf("property %s = %q, want %q", k, props[k], v)
		}
	}
	if l := (*comps[2].Licenses)[0]; l.Expression != "GPL-2.0-or-later AND MIT" {
		t.Errorf("rpm license %+v", l)
	}
	if deps := *(*bom.Dependencies)[0].Dependencies; len(deps) != 6 {
		t.Errorf("target depends on %v", deps)
	}
}

func TestSPDXValidatesAndCarriesThePackages(t *testing.T) {
	s := compile(t, "spdx-2.3.schema.json")
	for _, inv := range []*sbom.Inventory{inventory(), {Target: sbom.Target{Kind: sbom.TargetHost, Name: "/"}}} {
		var buf bytes.Buffer
		if err := SPDX(&buf, inv, fixed); err != nil {
			t.Fatal(err)
		}
		validate(t, s, buf.Bytes())
	}
	var buf bytes.Buffer
	if err := SPDX(&buf, inventory(), fixed); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SPDXVersion  string `json:"spdxVersion"`
		CreationInfo struct {
			Creators []string `json:"creators"`
			Created  string   `json:"created"`
		} `json:"creationInfo"`
		Packages []struct {
			SPDXID          string `json:"SPDXID"`
			Name            string `json:"name"`
			Version         string `json:"versionInfo"`
			LicenseDeclared string `json:"licenseDeclared"`
			LicenseComments string `json:"licenseComments"`
			ExternalRefs    []struct {
				Type    string `json:"referenceType"`
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
		Relationships []struct {
			A    string `json:"spdxElementId"`
			B    string `json:"relatedSpdxElement"`
			Type string `json:"relationshipType"`
		} `json:"relationships"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.CreationInfo.Created != "2026-01-02T03:04:05Z" || doc.CreationInfo.Creators[0] != "Tool: vigil-1.2.3" {
		t.Errorf("header %+v %+v", doc.SPDXVersion, doc.CreationInfo)
	}
	if len(doc.Packages) != 7 {
		t.Fatalf("%d packages", len(doc.Packages))
	}
	bash, babel := doc.Packages[2], doc.Packages[4]
	if bash.Name != "bash" || bash.LicenseDeclared != "NOASSERTION" || bash.LicenseComments != "declared as: GPLv3+" ||
		bash.ExternalRefs[0].Type != "purl" || bash.ExternalRefs[0].Locator != inventory().Packages[0].PURL {
		t.Errorf("bash %+v", bash)
	}
	if babel.SPDXID != "SPDXRef-Package-2-babel-core" || babel.LicenseDeclared != "MIT" {
		t.Errorf("@babel/core %+v", babel)
	}
	if r := doc.Relationships[0]; r.A != "SPDXRef-DOCUMENT" || r.B != "SPDXRef-Target" || r.Type != "DESCRIBES" {
		t.Errorf("first relationship %+v", r)
	}
	if len(doc.Relationships) != 7 {
		t.Errorf("%d relationships", len(doc.Relationships))
	}
}
