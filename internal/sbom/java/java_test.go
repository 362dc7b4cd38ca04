package java

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
)

func read(t *testing.T, b []byte, loc string) ([]sbom.Package, []error) {
	t.Helper()
	return Read(bytes.NewReader(b), int64(len(b)), loc)
}

func TestNestedArchivesOneLevelOnly(t *testing.T) {
	deepest := sbomtest.Jar(t, map[string][]byte{
		"META-INF/maven/g/deep/pom.properties": []byte("groupId=g\nartifactId=deep\nversion=9\n"),
	}, "META-INF/maven/g/deep/pom.properties")
	middle := sbomtest.Jar(t, map[string][]byte{
		"META-INF/maven/g/mid/pom.properties": []byte("groupId=g\nartifactId=mid\nversion=2\n"),
		"lib/deep.jar":                        deepest,
	}, "META-INF/maven/g/mid/pom.properties", "lib/deep.jar")
	outer := sbomtest.Jar(t, map[string][]byte{
		"WEB-INF/lib/mid.jar": middle,
		"WEB-INF/lib/bad.jar": []byte("not a zip"),
	}, "WEB-INF/lib/mid.jar", "WEB-INF/lib/bad.jar")
	pkgs, errs := read(t, outer, "/srv/app.war")
	want := []sbom.Package{{Name: "g:mid", Version: "2", Ecosystem: "Maven", Type: "java", PURL: "pkg:maven/g/mid@2",
		Location: "/srv/app.war!/WEB-INF/lib/mid.jar", Files: []string{"/srv/app.war"}}}
	sbomtest.Equal(t, pkgs, want)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "WEB-INF/lib/bad.jar: open nested archive") {
		t.Errorf("errors %v", errs)
	}
}

func TestManifestFallback(t *testing.T) {
	jar := sbomtest.Jar(t, map[string][]byte{
		"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\r\nBundle-Version: 3.2.1\r\n\r\nName: other-section\r\nImplementation-Version: 0\r\n"),
	}, "META-INF/MANIFEST.MF")
	pkgs, errs := read(t, jar, "/opt/lib/guava-3.2.1-jre.jar")
	want := []sbom.Package{{Name: "guava", Version: "3.2.1", Ecosystem: "Maven", Type: "java", PURL: "pkg:maven/guava@3.2.1",
		Location: "/opt/lib/guava-3.2.1-jre.jar", Files: []string{"/opt/lib/guava-3.2.1-jre.jar"}}}
	sbomtest.Equal(t, pkgs, want)
	if len(errs) != 0 {
		t.Error(errs)
	}
}

func TestNotAnArchive(t *testing.T) {
	if _, errs := read(t, []byte("PK\x03\x04 nope"), "/x.jar"); len(errs) != 1 {
		t.Errorf("errors %v", errs)
	}
}

func FuzzRead(f *testing.F) {
	inner := sbomtest.Jar(f, map[string][]byte{"META-INF/maven/a/b/pom.properties": []byte("groupId=a\nartifactId=b\nversion=1\n")},
		"META-INF/maven/a/b/pom.properties")
	f.Add(sbomtest.Jar(f, map[string][]byte{"META-INF/MANIFEST.MF": []byte("Implementation-Version: 1\r\n"), "lib/b.jar": inner},
		"META-INF/MANIFEST.MF", "lib/b.jar"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Read(bytes.NewReader(b), int64(len(b)), "/f-1.0.jar")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("empty package %+v", p)
			}
		}
	})
}
