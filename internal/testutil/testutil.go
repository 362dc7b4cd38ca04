// Package testutil holds helpers shared by Vigil's kernel-facing tests.
package testutil

import (
	"os"
	"testing"
)

// InCI reports whether the tests run in CI, where a missing prerequisite is a
// failure rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require skips the test when ok is false, or fails it in CI.
func Require(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("prerequisite missing in CI: %s", what)
	}
	t.Skipf("prerequisite missing: %s", what)
}

// RequireBPF checks the prerequisites for loading Vigil's eBPF programs:
// root and kernel BTF.
func RequireBPF(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "root (loading eBPF needs CAP_BPF and CAP_PERFMON)")
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	Require(t, err == nil, "kernel BTF at /sys/kernel/btf/vmlinux")
}
