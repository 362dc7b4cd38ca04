package baseline

import (
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"
)

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/curl":                               "/usr/bin/curl",
		"/proc/4242/status":                           "/proc/*/status",
		"/run/vigil-12345.sock":                       "/run/vigil-*.sock",
		"/tmp/tmp.Xy3kPq9ZaB":                         "/tmp/tmp.*",
		"/tmp/go-build1234567/b001/exe/main":          "/tmp/go-*/b001/exe/main",
		"/var/lib/docker/containers/" + hex64:         "/var/lib/docker/containers/*",
		"/tmp/0f8fad5b-d9cb-469f-a165-70867728950e/x": "/tmp/*/x",
		"/usr/lib/x86_64-linux-gnu/libc.so.6":         "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/python3.11/os.py":                   "/usr/lib/python3.11/os.py",
		"/var/log/app-2024-05-01.log":                 "/var/log/app-*-05-01.log",
		"/a//b/./c/../d/":                             "/a/b/d",
		"/etc/rc2.d/S01ssh":                           "/etc/rc2.d/S01ssh",
		"/usr/bin/sha256sum":                          "/usr/bin/sha256sum",
		"/var/cache/a1b2c3d4e5":                       "/var/cache/*",
		"/tmp/*":                                      "/tmp/*",
		"relative/path":                               "relative/path",
	} {
		if got := Normalise(in); got != want {
			t.Errorf("Normalise(%q) = %q, want %q", in, got, want)
		}
	}
	p := "/usr/lib/x86_64-linux-gnu/libssl.so.3"
	if n := testing.AllocsPerRun(100, func() { Normalise(p) }); n != 0 {
		t.Errorf("Normalise of a stable path allocates %v times", n)
	}
}

const hex64 = "8c6efefde0279e4f1c1bd2c5a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a596"

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		pat, p string
		want   bool
	}{
		{"/tmp/*", "/tmp/x", true},
		{"/tmp/*", "/tmp/x/y", false},
		{"/tmp/**", "/tmp/x/y", true},
		{"/tmp/**", "/tmp", false},
		{"/run/vigil-*.sock", "/run/vigil-12.sock", true},
		{"/run/vigil-*.sock", "/run/vigil-12.pid", false},
		{"/a/*/c", "/a/b/c", true},
		{"/a/*/c", "/a/b/d", false},
		{"/**", "/anything/at/all", true},
		{"/a", "/a", true},
		{"/a", "/a/b", false},
	} {
		if got := MatchPattern(tc.pat, tc.p); got != tc.want {
			t.Errorf("MatchPattern(%q, %q) = %v", tc.pat, tc.p, got)
		}
	}
}

func TestPathSetFanOut(t *testing.T) {
	s := emptyPaths
	var all []string
	for _, name := range []string{"alpha", "beta", "gamma", "delta"} {
		p := "/data/" + name + "/state"
		all = append(all, p)
		s, _, _ = s.With([]string{p}, Limits{Cap: 100, FanOut: 3})
	}
	if got := s.Patterns(); !slices.Equal(got, []string{"/data/*/state"}) {
		t.Fatalf("after fan-out: %v", got)
	}
	// Once a directory is a wildcard it absorbs new names.
	s, added, _ := s.With([]string{"/data/epsilon/state", "/data/zeta/other"}, Limits{Cap: 100, FanOut: 3})
	if got := s.Patterns(); !slices.Equal(got, []string{"/data/*/other", "/data/*/state"}) || len(added) != 1 {
		t.Fatalf("after absorbing: %v (added %v)", got, added)
	}
	for _, p := range all {
		if !s.Match(p) {
			t.Errorf("%s no longer matches", p)
		}
	}
}

func TestPathSetCap(t *testing.T) {
	s := emptyPaths
	paths := []string{"/etc/app/a.conf", "/etc/app/b.conf", "/var/log/app/x.log", "/var/log/app/y.log", "/srv/data"}
	s, _, _ = s.With(paths, Limits{Cap: 3})
	if s.Len() > 3 {
		t.Fatalf("cap 3 holds %d: %v", s.Len(), s.Patterns())
	}
	for _, p := range paths {
		if !s.Match(p) {
			t.Errorf("%s not matched by %v", p, s.Patterns())
		}
	}
	if s.Match("/usr/bin/x") {
		t.Errorf("generalised further than needed: %v", s.Patterns())
	}
}

// TestPathSetConverges is the churn case: a program writing random names
// under /tmp ends with a bounded profile that still matches every name.
func TestPathSetConverges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := emptyPaths
	lim := Limits{Cap: 64, FanOut: 16}
	var seen []string
	for i := range 10000 {
		var name string
		switch i % 4 {
		case 0:
			name = fmt.Sprintf("/tmp/%s", randWord(rng, 8, "abcdefghijklmnopqrstuvwxyz"))
		case 1:
			name = fmt.Sprintf("/tmp/tmp.%s", randWord(rng, 10, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
		case 2:
			name = fmt.Sprintf("/tmp/%s/data.bin", randWord(rng, 6, "abcdefghijklmnopqrstuvwxyz"))
		default:
			name = fmt.Sprintf("/var/run/app/%d.pid", rng.IntN(1<<20))
		}
		seen = append(seen, name)
		s, _, _ = s.With([]string{name}, lim)
		if s.Len() > lim.Cap {
			t.Fatalf("step %d: %d patterns", i, s.Len())
		}
	}
	for _, p := range seen {
		if !s.Match(p) {
			t.Fatalf("%s not matched by %v", p, s.Patterns())
		}
	}
	if s.Len() > 8 {
		t.Errorf("10,000 random names left %d patterns: %v", s.Len(), s.Patterns())
	}
	t.Logf("patterns: %v", s.Patterns())
}

func randWord(rng *rand.Rand, n int, alphabet string) string {
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func TestPathSetMatchDoesNotAllocate(t *testing.T) {
	s, _, _ := emptyPaths.With([]string{"/etc/a", "/tmp/x1", "/tmp/x2", "/tmp/x3", "/var/log/app.log"}, Limits{Cap: 10, FanOut: 2})
	for _, p := range []string{"/etc/a", "/tmp/zzz", "/nope/at/all"} {
		if n := testing.AllocsPerRun(100, func() { s.Match(p) }); n != 0 {
			t.Errorf("Match(%q) allocates %v times", p, n)
		}
	}
}

func TestNearest(t *testing.T) {
	got := Nearest([]string{"/usr/bin/curl", "/bin/sh", "/usr/bin/cat", "/usr/sbin/nginx"}, "/usr/bin/nc", 2)
	if !slices.Equal(got, []string{"/usr/bin/curl", "/usr/bin/cat"}) {
		t.Errorf("Nearest: %v", got)
	}
}

// FuzzPathSet checks the generaliser's two promises on any input: the
// result matches every path it was built from (and everything the set
// matched before), and it never holds more than the cap.
func FuzzPathSet(f *testing.F) {
	f.Add("/tmp/a\n/tmp/b\n/tmp/c\n/tmp/d/e", uint8(3), uint8(2))
	f.Add("/proc/1/status\n/proc/22/status\n/x/**\n/x/y", uint8(2), uint8(0))
	f.Add("/a*b/c\n/a/*/c\n/**\n/", uint8(1), uint8(1))
	f.Add("/run/vigil-1.sock\n/run/vigil-22.sock\n//double//slash/\n/a/b/c/d/e/f", uint8(4), uint8(3))
	f.Fuzz(func(t *testing.T, input string, capacity, fanOut uint8) {
		lim := Limits{Cap: int(capacity%16) + 1, FanOut: int(fanOut % 8)}
		s := emptyPaths
		var inputs []string
		for p := range strings.SplitSeq(input, "\n") {
			if !strings.HasPrefix(p, "/") || path.Clean(p) == "/" {
				continue
			}
			prev := s
			s, _, _ = s.With([]string{p}, lim)
			inputs = append(inputs, p)
			if s.Len() > lim.Cap {
				t.Fatalf("%d patterns with cap %d: %q", s.Len(), lim.Cap, s.Patterns())
			}
			for _, q := range prev.Patterns() {
				if !strings.Contains(q, "*") && !s.Match(q) {
					t.Fatalf("%q was matched before adding %q and is not after: %q", q, p, s.Patterns())
				}
			}
		}
		for _, p := range inputs {
			if !s.Match(path.Clean(p)) {
				t.Fatalf("%q not matched by %q", p, s.Patterns())
			}
		}
	})
}
