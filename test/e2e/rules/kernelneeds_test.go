package rules_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// kernelNeedsMark introduces, in docs/rules.md, the fenced block that
// states what the stable rules need from the kernel.
const kernelNeedsMark = "<!-- kernel-needs: checked by TestStableKernelNeeds in test/e2e/rules -->"

// kernelNeeds is that block.
type kernelNeeds struct {
	Syscalls []string `yaml:"syscalls"`
	FDTables *bool    `yaml:"fd_tables"`
}

// TestStableKernelNeeds starts `vigil run` with the stable rules and its
// default configuration and checks that what it captures (the syscalls
// of its kernel filter, and whether it tracks per-process fd tables, as
// its start-up line reports them) is what docs/rules.md states.
func TestStableKernelNeeds(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := parseKernelNeeds(doc)
	if err != nil {
		t.Fatalf("docs/rules.md: %v", err)
	}
	ag := startAgent(t, false)
	got := strings.Split(ag.running.Syscalls, ",")
	slices.Sort(got)
	if !slices.Equal(got, want.Syscalls) {
		t.Errorf("vigil run captures %d syscalls:\n  %s\ndocs/rules.md states %d:\n  %s",
			len(got), strings.Join(got, " "), len(want.Syscalls), strings.Join(want.Syscalls, " "))
	}
	if ag.running.FDTables != *want.FDTables {
		t.Errorf("vigil run tracks fd tables: %v; docs/rules.md states fd_tables: %v", ag.running.FDTables, *want.FDTables)
	}
	if ag.running.RingBufferSize != 8<<20 {
		t.Errorf("ring buffer %d bytes, want the documented default of 8 MiB", ag.running.RingBufferSize)
	}
}

// parseKernelNeeds finds the block after kernelNeedsMark and decodes it.
func parseKernelNeeds(doc []byte) (*kernelNeeds, error) {
	_, after, ok := bytes.Cut(doc, []byte(kernelNeedsMark))
	if !ok {
		return nil, fmt.Errorf("no %q", kernelNeedsMark)
	}
	lines := strings.Split(string(after), "\n")
	start := -1
	for i, l := range lines {
		switch {
		case start < 0 && strings.HasPrefix(l, "```"):
			start = i + 1
		case start >= 0 && strings.HasPrefix(l, "```"):
			var k kernelNeeds
			dec := yaml.NewDecoder(strings.NewReader(strings.Join(lines[start:i], "\n")))
			dec.KnownFields(true)
			if err := dec.Decode(&k); err != nil {
				return nil, err
			}
			if len(k.Syscalls) == 0 || k.FDTables == nil {
				return nil, fmt.Errorf("the block needs syscalls and fd_tables")
			}
			if !slices.IsSorted(k.Syscalls) {
				return nil, fmt.Errorf("list the syscalls in order")
			}
			return &k, nil
		case start < 0 && strings.TrimSpace(l) != "":
			return nil, fmt.Errorf("no fenced block right after %q", kernelNeedsMark)
		}
	}
	return nil, fmt.Errorf("unterminated block after %q", kernelNeedsMark)
}

// TestKernelNeedsBlockParses checks, without a kernel, that docs/rules.md
// states the stable rules' kernel needs in the form TestStableKernelNeeds
// reads.
func TestKernelNeedsBlockParses(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseKernelNeeds(doc); err != nil {
		t.Fatalf("docs/rules.md: %v", err)
	}
}
