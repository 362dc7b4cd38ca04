package osrelease

import (
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
)

func TestParse(t *testing.T) {
	d, err := Parse(strings.NewReader("# comment\nNAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\nPRETTY_NAME='Ubuntu 22.04.4 LTS'\nHOME_URL=\"https://x/\\\"q\\\"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := sbom.Distro{ID: "ubuntu", VersionID: "22.04", Codename: "jammy", Name: "Ubuntu 22.04.4 LTS"}
	if d != want {
		t.Errorf("got %+v, want %+v", d, want)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for in, want := range map[string]string{
		"ID=debian\nnonsense\n":    "line 2: no '=' in \"nonsense\"",
		"ID=debian\nNAME=\"open\n": "line 2: unterminated quote in \"\\\"open\"",
	} {
		_, err := Parse(strings.NewReader(in))
		if err == nil || err.Error() != want {
			t.Errorf("%q: err %v, want %s", in, err, want)
		}
	}
}

func TestEcosystem(t *testing.T) {
	for _, c := range []struct {
		d    sbom.Distro
		want string
	}{
		{sbom.Distro{ID: "debian", VersionID: "12"}, "Debian:12"},
		{sbom.Distro{ID: "debian", VersionID: "11.9"}, "Debian:11"},
		{sbom.Distro{ID: "debian"}, "Debian"}, // testing/sid have no VERSION_ID
		{sbom.Distro{ID: "ubuntu", VersionID: "22.04"}, "Ubuntu:22.04"},
		{sbom.Distro{ID: "alpine", VersionID: "3.19.1"}, "Alpine:v3.19"},
		{sbom.Distro{ID: "rhel", VersionID: "9.3"}, "Red Hat"},
		{sbom.Distro{ID: "almalinux", VersionID: "9.3"}, "AlmaLinux:9"},
		{sbom.Distro{ID: "rocky", VersionID: "8.9"}, "Rocky Linux:8"},
		{sbom.Distro{ID: "opensuse-leap", VersionID: "15.5"}, "openSUSE:Leap 15.5"},
		{sbom.Distro{ID: "wolfi", VersionID: "20230201"}, "Wolfi"},
		{sbom.Distro{ID: "fedora", VersionID: "39"}, "fedora:39"},
		{sbom.Distro{}, ""},
	} {
		if got := Ecosystem(c.d); got != c.want {
			t.Errorf("%+v: %q, want %q", c.d, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ID=debian\nVERSION_ID=\"12\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := Parse(strings.NewReader(in))
		if err == nil {
			Ecosystem(d)
		}
	})
}
