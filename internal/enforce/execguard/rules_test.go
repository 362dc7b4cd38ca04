package execguard

import (
	"strings"
	"testing"
)

// Validation runs before the kernel is touched, so a bare Guard suffices.
func TestSetKillRulesRejects(t *testing.T) {
	g := &Guard{cfg: Config{MaxRules: 3}}
	cases := []struct {
		name  string
		rules []KillRule
		want  string
	}{
		{"neither", []KillRule{{ID: 1, Comm: "ok"}, {ID: 5}}, "kill rule 1 (id 5): sets neither comm, dev/ino nor memfd"},
		{"memfd and comm", []KillRule{{ID: 12, Comm: "a", Memfd: true}}, "sets memfd with a comm or dev/ino"},
		{"both", []KillRule{{ID: 2, Comm: "a", Dev: 1, Ino: 2}}, "kill rule 0 (id 2): sets both comm and dev/ino"},
		{"dev only", []KillRule{{ID: 3, Dev: 1}}, "sets dev without ino"},
		{"slash", []KillRule{{ID: 4, Comm: "a/b"}}, `comm "a/b" holds '/' or NUL`},
		{"cgroup without id", []KillRule{{ID: 6, Comm: "a", Scope: Scope{Kind: ScopeCgroup}}}, "cgroup scope without a cgroup id"},
		{"host with id", []KillRule{{ID: 7, Comm: "a", Scope: Scope{Kind: ScopeHost, CgroupID: 9}}}, "scope host with a cgroup id"},
		{"unknown scope", []KillRule{{ID: 8, Comm: "a", Scope: Scope{Kind: 9}}}, "unknown scope ScopeKind(9)"},
		{"duplicate after cut", []KillRule{{ID: 10, Comm: "0123456789abcdefX"}, {ID: 11, Comm: "0123456789abcdeY"}},
			"kill rules 0 (id 10) and 1 (id 11) match the same programs"},
		{"too many", make([]KillRule, 4), "4 kill rules, more than the 3 allowed"},
	}
	for _, c := range cases {
		err := g.SetKillRules(c.rules)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestKillKeyLayout(t *testing.T) {
	k, err := KillRule{Comm: "0123456789abcdefXYZ", Scope: Scope{Kind: ScopeCgroup, CgroupID: 0x0102}}.key()
	if err != nil {
		t.Fatal(err)
	}
	want := killKey{keyKindComm, 4, 0, 0, 0, 0, 0, 0, 0x02, 0x01}
	copy(want[16:], "0123456789abcde") // cut to 15 bytes, NUL kept
	if k != want {
		t.Errorf("comm key % x\nwant % x", k, want)
	}
	k, err = KillRule{Dev: 0x0801, Ino: 0x10, Scope: Scope{Kind: ScopeContainers}}.key()
	if err != nil {
		t.Fatal(err)
	}
	want = killKey{keyKindInode, 3}
	want[16], want[17], want[24] = 0x01, 0x08, 0x10
	if k != want {
		t.Errorf("inode key % x\nwant % x", k, want)
	}
	k, err = KillRule{Memfd: true, Scope: Scope{Kind: ScopeHost}}.key()
	if err != nil {
		t.Fatal(err)
	}
	if want := (killKey{keyKindMemfd, 2}); k != want {
		t.Errorf("memfd key % x\nwant % x", k, want)
	}
}
