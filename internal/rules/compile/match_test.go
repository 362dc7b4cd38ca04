package compile

import (
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"*", "/a/b", false, true}, // '*' crosses '/', as fnmatch without FNM_PATHNAME
		{"/etc/*", "/etc/a/b", false, true},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"[abc]x", "bx", false, true},
		{"[!abc]x", "bx", false, false},
		{"[^abc]x", "dx", false, true},
		{"[a-c]", "d", false, false},
		{"[]]", "]", false, true},
		{"[a-]", "-", false, true},
		{`\*`, "*", false, true},
		{`\*`, "a", false, false},
		{"[unclosed", "[unclosed", false, true},
		{"*.so*", "libc.so.6", false, true},
		{"*a*b*c", "xaxbxc", false, true},
		{"*a*b*c", "xaxbxcx", false, false},
		{"A*[B-C]", "abc", true, true},
		{"A*[B-C]", "abc", false, false},
		{"a*a*a*a*a*a*a*a*b", strings.Repeat("a", 100), false, false},
	} {
		if got := compileGlob(c.pattern, c.fold).match(c.s); got != c.want {
			t.Errorf("glob(%q, fold=%v) on %q = %v", c.pattern, c.fold, c.s, got)
		}
	}
}

func TestPrefixSet(t *testing.T) {
	ps := newPrefixSet([]string{"/etc/", "/usr/lib", "", "relative/dir"})
	for s, want := range map[string]bool{
		"/etc": true, "/etc/passwd": true, "/etcx": false, "/usr/lib/x/y": true,
		"/usr/libexec": false, "/usr": false, "relative/dir/f": true, "": false,
	} {
		if got := ps.match(s); got != want {
			t.Errorf("pmatch %q = %v", s, got)
		}
	}
	if !newPrefixSet([]string{"/"}).match("/anything") {
		t.Error("/ should match every absolute path")
	}
}

func TestContainsFold(t *testing.T) {
	for _, c := range []struct {
		s, needle string
		want      bool
	}{
		{"Hello World", "world", true}, {"Hello", "hello!", false}, {"x", "", true},
		{"aaAB", "aab", true}, {"", "a", false},
	} {
		if got := containsFold(c.s, c.needle); got != c.want {
			t.Errorf("containsFold(%q, %q) = %v", c.s, c.needle, got)
		}
	}
}

func TestTypeSetAlgebra(t *testing.T) {
	ab, bc := typeSetOf("a", "b"), typeSetOf("b", "c")
	notA, notB := typeSetOf("a").complement(), typeSetOf("b").complement()
	show := func(s TypeSet) string {
		if s.Neg {
			return "not" + strings.Join(s.Names(), "")
		}
		return strings.Join(s.Names(), "")
	}
	for _, c := range []struct {
		got  TypeSet
		want string
	}{
		{ab.union(bc), "abc"},
		{ab.intersect(bc), "b"},
		{ab.union(notA), "not"},
		{ab.intersect(notA), "b"},
		{notA.intersect(ab), "b"},
		{notA.union(notB), "not"},
		{notA.intersect(notB), "notab"},
		{typeSetOf("a").complement().union(typeSetOf("c")), "nota"},
		{bc.union(notB), "not"},
	} {
		if s := show(c.got); s != c.want {
			t.Errorf("got %s, want %s", s, c.want)
		}
	}
	if !(TypeSet{Neg: true}).All() || !(TypeSet{}).Empty() || !notA.Has("z") || notA.Has("a") {
		t.Error("All/Empty/Has disagree")
	}
}

func TestParseNumbers(t *testing.T) {
	for s, want := range map[string]uint64{"0": 0, "0755": 755, "0x1F": 31, "18446744073709551615": 1<<64 - 1} {
		if got, ok := parseUint(s); !ok || got != want {
			t.Errorf("parseUint(%q) = %d, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-1", "1e3", "0x", "18446744073709551616"} {
		if _, ok := parseUint(s); ok {
			t.Errorf("parseUint(%q) accepted", s)
		}
	}
	for s, want := range map[string]int64{"-9223372036854775808": -1 << 63, "+5": 5, "-0x10": -16} {
		if got, ok := parseInt(s); !ok || got != want {
			t.Errorf("parseInt(%q) = %d, %v", s, got, ok)
		}
	}
	if _, ok := parseInt("9223372036854775808"); ok {
		t.Error("parseInt accepted an overflow")
	}
}
