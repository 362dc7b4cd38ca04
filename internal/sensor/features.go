package sensor

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
)

// Feature is one kernel capability and whether this kernel offers it.
type Feature struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	// Required features stop the sensor when missing; the others only turn
	// off what depends on them.
	Required bool   `json:"required"`
	Detail   string `json:"detail,omitempty"`
}

// ProbeFeatures asks the kernel what it supports. It loads tiny probe
// programs, so it needs the same privileges as the sensor; without them the
// probes report the permission error as their detail.
func ProbeFeatures() []Feature {
	var out []Feature
	add := func(name string, required bool, err error) {
		f := Feature{Name: name, Required: required, Available: err == nil}
		if err != nil {
			f.Detail = err.Error()
		}
		out = append(out, f)
	}
	_, err := btf.LoadKernelSpec()
	add("btf", true, err)
	add("raw_tracepoint", true, features.HaveProgramType(ebpf.RawTracepoint))
	add("ringbuf", true, features.HaveMapType(ebpf.RingBuf))
	add("bpf_loop", true, features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnLoop))
	add("tracepoint", false, features.HaveProgramType(ebpf.TracePoint))
	add("tp_btf", false, tpBTF())
	add("bpf_send_signal", false, features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnSendSignal))
	add("cgroup_sock_addr", false, features.HaveProgramType(ebpf.CGroupSockAddr))
	add("kprobe", false, fileExists("/sys/bus/event_source/devices/kprobe", "kprobes (CONFIG_KPROBES)"))
	add("bpf_lsm", false, bpfLSM())
	return out
}

// MissingRequired returns an error naming every required feature the kernel
// lacks, or nil.
func MissingRequired(fs []Feature) error {
	var errs []error
	for _, f := range fs {
		if f.Required && !f.Available {
			errs = append(errs, fmt.Errorf("%s: %s", f.Name, f.Detail))
		}
	}
	return errors.Join(errs...)
}

func fileExists(path, what string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s not available: %s missing", what, path)
	}
	return nil
}

// tpBTF loads a BTF-typed raw tracepoint program on sys_enter, which is
// what a tp_btf program is. The generic probe for the Tracing program type
// loads an fentry-style program instead, which kernels that refuse fentry
// (lockdown, or no trampolines) reject with EPERM while they accept
// tp_btf, so it cannot answer this question.
func tpBTF() error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "vigil_probe_tp",
		Type:         ebpf.Tracing,
		AttachType:   ebpf.AttachTraceRawTp,
		AttachTo:     "sys_enter",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		License:      "GPL",
	})
	if err != nil {
		return fmt.Errorf("load a tp_btf program on sys_enter: %w", err)
	}
	return prog.Close()
}

// bpfLSM reports whether "bpf" is among the active LSMs. The program type
// can exist while the LSM is not enabled, so the type alone says little.
func bpfLSM() error {
	if err := features.HaveProgramType(ebpf.LSM); err != nil {
		return err
	}
	lsm, err := os.ReadFile("/sys/kernel/security/lsm")
	if err != nil {
		return fmt.Errorf("cannot read the active LSM list (is securityfs mounted?): %w", err)
	}
	for _, name := range bytes.Split(bytes.TrimSpace(lsm), []byte(",")) {
		if string(name) == "bpf" {
			return nil
		}
	}
	return fmt.Errorf("bpf is not in the active LSM list %q", bytes.TrimSpace(lsm))
}
