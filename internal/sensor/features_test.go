package sensor

import (
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestProbeFeatures checks the probes against what the machines Vigil is
// tested on offer (../shared/docs/machine.md): every required feature, and
// tp_btf, which a generic probe for tracing programs reports missing on
// kernels that refuse fentry.
func TestProbeFeatures(t *testing.T) {
	testutil.RequireBPF(t)
	got := map[string]Feature{}
	for _, f := range ProbeFeatures() {
		got[f.Name] = f
	}
	if err := MissingRequired(ProbeFeatures()); err != nil {
		t.Fatalf("required features missing: %v", err)
	}
	for _, name := range []string{"btf", "raw_tracepoint", "ringbuf", "bpf_loop", "tracepoint", "tp_btf", "bpf_send_signal", "cgroup_sock_addr"} {
		f, ok := got[name]
		if !ok {
			t.Errorf("%s is not probed", name)
			continue
		}
		if !f.Available {
			t.Errorf("%s reported missing: %s", name, f.Detail)
		}
	}
	for _, name := range []string{"kprobe", "bpf_lsm"} {
		if got[name].Required {
			t.Errorf("%s is required; the sensor must run on kernels without it", name)
		}
	}
}
