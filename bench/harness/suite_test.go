package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// A configuration run drives the real workload binary and carries its
// ground truth and CPU time into the measurements.
func TestRunConfigWithRealWorkload(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vigil-workload")
	if out, err := exec.Command("go", "build", "-o", bin, "../workload").CombinedOutput(); err != nil {
		t.Fatalf("build workload: %v\n%s", err, out)
	}
	env := &suiteEnv{opts: suiteOptions{workload: bin, quick: true, logf: t.Logf}, tmp: t.TempDir()}
	ms, err := runConfig(env, noAgent{}, microWorkloads(env), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int{
		"getpid":         {"exec": 0, "open": 0, "connect": 0},
		"open_close":     {"exec": 0, "open": 12501, "connect": 0},
		"fork_exec":      {"exec": 25, "open": 0, "connect": 0},
		"connect_accept": {"exec": 0, "open": 0, "connect": 2500},
	}
	if len(ms) != len(want) {
		t.Fatalf("%d measurements, want %d", len(ms), len(want))
	}
	for _, m := range ms {
		w := want[m.Workload]
		for kind, n := range w {
			if m.Result.Truth[kind] != n {
				t.Errorf("%s: %s truth %d, want %d", m.Workload, kind, m.Result.Truth[kind], n)
			}
		}
		if m.Config != "none" || m.Rep != 1 || m.Result.Ops <= 0 || m.Result.Throughput <= 0 || m.Result.CPUNs <= 0 {
			t.Errorf("%s: %+v", m.Workload, m)
		}
		if m.Agent.CPU != 0 || m.Agent.PeakRSSKiB != 0 {
			t.Errorf("%s: no agent, yet agent usage %+v", m.Workload, m.Agent)
		}
	}
}
