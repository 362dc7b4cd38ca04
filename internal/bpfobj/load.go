package bpfobj

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// Load loads spec into the kernel and assigns its programs and maps to
// objs, a pointer to the Objects struct bpf2go generated for the spec (as
// [ebpf.CollectionSpec.LoadAndAssign] takes it). CO-RE relocations are
// resolved against the running kernel's BTF. name says whose programs
// these are in errors, e.g. "sensor".
//
// Load first lifts the memlock limit, which kernels before 5.11 charge BPF
// maps against. When the verifier rejects a program, the error holds the
// verifier's whole log, not only its last lines, since the instruction it
// refused is usually further up.
func Load(spec *ebpf.CollectionSpec, objs any, name string) error {
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("raise memlock limit: %w", err)
	}
	if err := spec.LoadAndAssign(objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return fmt.Errorf("kernel verifier rejected the %s programs: %+v", name, verr)
		}
		return fmt.Errorf("load the %s programs: %w", name, err)
	}
	return nil
}
