package python

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

const metadata = "Metadata-Version: 2.1\nName: Flask_Login\nVersion: 0.6.3\nLicense: MIT\n\tsecond line of a long license\nClassifier: License :: OSI Approved :: MIT License\n\nName: body-not-a-header\n"

func TestParseMetadata(t *testing.T) {
	m, err := ParseMetadata(strings.NewReader(metadata))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Flask_Login" || m.Version != "0.6.3" || !slices.Equal(m.Licenses, []string{"MIT"}) {
		t.Errorf("%+v", m)
	}
	m, _ = ParseMetadata(strings.NewReader("Name: x\nVersion: 1\nLicense-Expression: Apache-2.0 OR MIT\nLicense: ignored\n"))
	if !slices.Equal(m.Licenses, []string{"Apache-2.0 OR MIT"}) {
		t.Errorf("expression: %v", m.Licenses)
	}
	m, _ = ParseMetadata(strings.NewReader("Name: x\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: BSD License\n"))
	if !slices.Equal(m.Licenses, []string{"BSD License"}) {
		t.Errorf("classifier: %v", m.Licenses)
	}
	if _, err := ParseMetadata(strings.NewReader("Name: x\nbad line\n")); err == nil || err.Error() != `line 2: not a field: "bad line"` {
		t.Errorf("err %v", err)
	}
	if _, err := ParseMetadata(strings.NewReader("Name: x\n")); err == nil {
		t.Error("no version accepted")
	}
	if p := Package(m, "/m", nil); p.PURL != "pkg:pypi/x@1" {
		t.Errorf("purl %s", p.PURL)
	}
	if Normalize("Flask_Login.ext") != "flask-login-ext" {
		t.Error(Normalize("Flask_Login.ext"))
	}
}

func TestParseRecord(t *testing.T) {
	files, err := ParseRecord([]byte("flask_login/__init__.py,sha256=x,10\n\"flask_login/a,b.py\",,\n../../../bin/tool,,\nflask_login-0.6.3.dist-info/RECORD,,\n"), "/usr/lib/python3/site-packages")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/lib/python3/site-packages/flask_login/__init__.py", "/usr/lib/python3/site-packages/flask_login/a,b.py",
		"/usr/bin/tool", "/usr/lib/python3/site-packages/flask_login-0.6.3.dist-info/RECORD"}
	if !slices.Equal(files, want) {
		t.Errorf("%q", files)
	}
	if _, err := ParseRecord([]byte("a,b\n\"unterminated,c\n"), "/s"); err == nil || !strings.HasPrefix(err.Error(), "line 2:") {
		t.Errorf("err %v", err)
	}
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(metadata))
	f.Add([]byte("a.py,sha256=x,1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(bytes.NewReader(b))
		if err == nil && (m.Name == "" || m.Version == "") {
			t.Fatal("accepted without name or version")
		}
		_, _ = ParseRecord(b, "/s") // only that these do not panic
		ParseInstalledFiles(b, "/e")
	})
}
