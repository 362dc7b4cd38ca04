package compile

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// The filters in front of the maps must never reject a member: check every
// member and a crowd of near misses (same length, same ends) against a
// plain map.
func TestStringSetFilterKeepsMembers(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz0123456789-_./"[rng.Intn(40)]
		}
		return string(b)
	}
	for _, size := range []int{0, 1, smallSet, smallSet + 1, 50, 700} {
		items := make([]string, size)
		want := map[string]bool{}
		for i := range items {
			items[i] = word(1 + rng.Intn(30))
			want[items[i]] = true
		}
		s := newStringSet(items)
		for _, it := range items {
			if !s.has(it) {
				t.Fatalf("size %d: member %q rejected", size, it)
			}
		}
		for range 5000 {
			probe := word(rng.Intn(32))
			if s.has(probe) != want[probe] {
				t.Fatalf("size %d: has(%q) = %v", size, probe, !want[probe])
			}
		}
		if s.has("") != want[""] {
			t.Fatalf("size %d: empty string", size)
		}
	}
}

func TestPrefixSetFilterKeepsMembers(t *testing.T) {
	var dirs []string
	for i := range 300 {
		dirs = append(dirs, fmt.Sprintf("/srv/app%d/data", i))
	}
	dirs = append(dirs, "/etc/", "/usr/local/bin")
	ps := newPrefixSet(dirs)
	for _, d := range dirs {
		d = strings.TrimSuffix(d, "/")
		for _, p := range []string{d, d + "/x", d + "/x/y.conf"} {
			if !ps.match(p) {
				t.Errorf("%q not under the set", p)
			}
		}
	}
	for _, p := range []string{"/srv/app1", "/srv/app1/dat", "/srv/app1/datax", "/etcx/passwd", "/usr/local", "/", "", "etc/passwd"} {
		if ps.match(p) {
			t.Errorf("%q matched", p)
		}
	}
}
