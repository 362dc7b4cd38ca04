package syscalls

import (
	"slices"
	"testing"
)

func TestForKind(t *testing.T) {
	for _, c := range []struct {
		kind string
		want []string
	}{
		{"exec", []string{"execve", "execveat"}},
		{"open", []string{"creat", "open", "openat", "openat2"}},
		{"socket", []string{"accept", "accept4", "bind", "connect", "listen"}},
		{"fork", nil},
		{"exit", nil},
	} {
		got, ok := ForKind(c.kind)
		if !ok || !slices.Equal(got, c.want) {
			t.Errorf("ForKind(%q) = %v, %v; want %v", c.kind, got, ok, c.want)
		}
	}
	if got, ok := ForKind("syscall"); !ok || !slices.Equal(got, Default()) {
		t.Errorf("ForKind(syscall) = %d names, %v; want Default()", len(got), ok)
	}
	if _, ok := ForKind("openat"); ok {
		t.Error("a syscall name is not an event kind")
	}
}
