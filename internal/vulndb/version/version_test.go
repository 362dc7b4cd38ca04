package version

import (
	"testing"
)

type order struct {
	a, b string
	want int
}

// checkOrder asserts each pair compares as wanted, in both directions.
func checkOrder(t *testing.T, s Scheme, cases []order) {
	t.Helper()
	for _, c := range cases {
		a, err := s.Parse(c.a)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", s.Name(), c.a, err)
			continue
		}
		b, err := s.Parse(c.b)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", s.Name(), c.b, err)
			continue
		}
		if got := a.Compare(b); got != c.want {
			t.Errorf("%s: %q vs %q = %d, want %d", s.Name(), c.a, c.b, got, c.want)
		}
		if got := b.Compare(a); got != -c.want {
			t.Errorf("%s: %q vs %q = %d, want %d", s.Name(), c.b, c.a, got, -c.want)
		}
	}
}

func checkInvalid(t *testing.T, s Scheme, bad []string) {
	t.Helper()
	for _, v := range bad {
		if _, err := s.Parse(v); err == nil {
			t.Errorf("%s: Parse(%q) accepted an invalid version", s.Name(), v)
		}
	}
}

func TestDebianOrder(t *testing.T) {
	checkOrder(t, Debian, []order{
		{"1.0~rc1", "1.0", -1},
		{"1.0~rc1-1", "1.0-1", -1},
		{"1.0~~", "1.0~", -1},
		{"1:0.9", "2.0", 1},
		{"0:1.0", "1.0", 0},
		{"1.0-1", "1.0-2", -1},
		{"1.0-10", "1.0-9", 1},
		{"3.0.11-1~deb12u2", "3.0.11-1", -1},
		{"3.0.11-1~deb12u2", "3.0.11-1~deb12u1", 1},
		{"2.36-9+deb12u4", "2.36-9", 1},
		{"1.2a", "1.2", 1},
		{"1.2+b1", "1.2", 1},
		{"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
	})
	checkInvalid(t, Debian, []string{"", "a:1.0", "-1:1.0", "1.0 beta", "abc"})
}

func TestAPKOrder(t *testing.T) {
	checkOrder(t, APK, []order{
		{"1.2.3-r10", "1.2.3-r9", 1},
		{"1.2.3-r0", "1.2.3", 1},
		{"1.2.3_rc1", "1.2.3", -1},
		{"1.2.3_alpha", "1.2.3_beta", -1},
		{"1.2.3_p1", "1.2.3", 1},
		{"1.2.3_pre1", "1.2.3_rc1", -1},
		{"1.2.10", "1.2.9", 1},
		{"3.1.4-r5", "3.1.4-r5", 0},
		{"1.2a", "1.2", 1},
	})
	checkInvalid(t, APK, []string{"", "abc", "1.2.3-rx", "1..2"})
}

func TestRPMOrder(t *testing.T) {
	checkOrder(t, RPM, []order{
		{"1.0-1.el9", "1.0-2.el9", -1},
		{"1:1.0-1", "2.0-1", 1},
		{"1.0~rc1-1", "1.0-1", -1},
		{"1.0^git1-1", "1.0-1", 1},
		{"3.0.7-18.el9_2", "3.0.7-24.el9", -1},
		{"1.10-1", "1.9-1", 1},
		{"1.0a-1", "1.0-1", 1},
		{"2.0", "2.0", 0},
	})
	checkInvalid(t, RPM, []string{"", "x:1.0", "1.0 1", "1.0-1-1", ":1.0", "9999999999:1"})
}

func TestSemVerOrder(t *testing.T) {
	checkOrder(t, SemVer, []order{
		{"1.0.0-alpha", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-alpha.beta", "1.0.0-beta", -1},
		{"1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"1.0.0-rc.1", "1.0.0", -1},
		{"1.0.0+build.1", "1.0.0", 0},
		{"v2.1.0", "2.1.0", 0},
		{"0", "0.0.1", -1},
		{"10.0.0", "9.9.9", 1},
	})
	checkInvalid(t, SemVer, []string{"", "abc", "1.0.0-", "1.x.0"})
}

func TestGoOrder(t *testing.T) {
	checkOrder(t, Go, []order{
		{"0.3.7", "0.3.8", -1},
		{"v0.3.7", "0.3.7", 0},
		{"0", "0.0.1", -1},
		{"1.21.0-rc.2", "1.21.0", -1},
		{"go1.21rc2", "1.21.0-rc.2", 0},
		{"go1.21.3", "1.21.4", -1},
		{"go1.9", "1.9.0", 0},
		{"v0.0.0-20220101000000-abcdefabcdef", "0.0.1", -1},
		{"v2.0.0+incompatible", "2.0.0", 0},
	})
	checkInvalid(t, Go, []string{"", "go", "devel +abc", "1.2.3.4", "gox1"})
}

func TestGoToolchain(t *testing.T) {
	for in, want := range map[string]string{
		"go1.21.3":                "1.21.3",
		"go1.21":                  "1.21.0",
		"go1.21rc2":               "1.21.0-rc.2",
		"go1.20beta1":             "1.20.0-beta.1",
		"go1.9.2rc2":              "1.9.2-rc.2",
		"go1":                     "1.0.0",
		"go1.22.1 X:boringcrypto": "1.22.1",
	} {
		got, ok := GoToolchain(in)
		if !ok || got != want {
			t.Errorf("GoToolchain(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"devel go1.22-abc", "go", "go1.x", "go01.2", "go1.2rc", "go1.2.3.4", "1.21"} {
		if got, ok := GoToolchain(bad); ok {
			t.Errorf("GoToolchain(%q) = %q, accepted", bad, got)
		}
	}
}

func TestPEP440Order(t *testing.T) {
	checkOrder(t, PEP440, []order{
		{"1.0.dev1", "1.0a1", -1},
		{"1.0a1", "1.0", -1},
		{"1.0.dev1", "1.0", -1},
		{"1.0a1", "1.0b1", -1},
		{"1.0b2", "1.0rc1", -1},
		{"1.0rc1", "1.0", -1},
		{"1.0", "1.0.post1", -1},
		{"1.0", "1.0.0", 0},
		{"1!0.5", "2.0", 1},
		{"1.0+local.1", "1.0", 1},
		{"2.10", "2.9", 1},
		{"1.0a1.dev1", "1.0a1", -1},
	})
	checkInvalid(t, PEP440, []string{"", "abc", "1.0-beta-gamma-x", "1.0+"})
}

func TestMavenOrder(t *testing.T) {
	checkOrder(t, Maven, []order{
		{"1.0-SNAPSHOT", "1.0", -1},
		{"1.0-alpha-1", "1.0-beta-1", -1},
		{"1.0-rc1", "1.0", -1},
		{"1.0", "1.0-sp1", -1},
		{"1.0", "1.0.0", 0},
		{"1.0-ga", "1.0", 0},
		{"1.0.1", "1.0", 1},
		{"2.13.4.2", "2.13.4", 1},
		{"1.0-M1", "1.0-RC1", -1},
	})
	checkInvalid(t, Maven, []string{"", "1.0 beta"})
}

func TestRubyGemsOrder(t *testing.T) {
	checkOrder(t, RubyGems, []order{
		{"1.0.a", "1.0", -1},
		{"1.0", "1.0.0", 0},
		{"1", "1.0.0.0", 0},
		{"1.a", "1.0.a", 0},
		{"1.0-1", "1.0", -1},
		{"1.9", "1.10", -1},
		{"2.0.0.rc1", "2.0.0", -1},
		{"2.0.0.rc1", "2.0.0.rc2", -1},
		{"1.0.b1", "1.0.a2", 1},
		{"5.2.4.3", "5.2.4.2", 1},
		{"1.2.3.pre", "1.2.3.a", 1},
		{"", "0", 0},
		{"12345678901234567890", "12345678901234567891", -1},
		{"1.0.rc", "1.0.rc.0", 0},
	})
	checkInvalid(t, RubyGems, []string{"abc", "1.0.", "1..0", "-1", "1.0 2"})
}

func TestForEcosystem(t *testing.T) {
	for eco, want := range map[string]string{
		"Debian:12": "debian", "Ubuntu:22.04:LTS": "debian", "Alpine:v3.19": "apk",
		"AlmaLinux:9": "rpm", "Rocky Linux:9": "rpm", "Go": "go", "npm": "semver",
		"crates.io": "semver", "PyPI": "pep440", "Maven": "maven", "RubyGems": "rubygems",
	} {
		s, ok := ForEcosystem(eco)
		if !ok || s.Name() != want {
			t.Errorf("ForEcosystem(%q) = %v, %v; want %s", eco, s, ok, want)
		}
	}
	for _, eco := range []string{"Packagist", "NuGet", "Hex", "", "debian"} {
		if s, ok := ForEcosystem(eco); ok {
			t.Errorf("ForEcosystem(%q) = %s; want none", eco, s.Name())
		}
	}
}
