// Package bpfobj holds what Vigil's three eBPF objects do the same way: the
// sensor ([github.com/vigilsec/vigil/internal/sensor]), the exec guard
// ([github.com/vigilsec/vigil/internal/enforce/execguard]) and the socket
// guard ([github.com/vigilsec/vigil/internal/enforce/sockguard]).
//
// Each of them loads a bpf2go collection spec into the kernel ([Load]),
// attaches its programs to raw tracepoints or cgroups ([Links]) and reads
// one ring buffer of records on one goroutine until it is closed ([Ring]).
// Written three times, these parts drifted: one reader waited for its loop
// on close and another did not, and each rounded ring-buffer sizes its own
// way ([RingSize]). Here they are written once, so the next eBPF object
// starts from the same lifecycle.
//
// The package knows nothing of what the objects capture: which maps to
// size, which variables to set, how to decode a record and what to count
// stay with each object. Byte layouts are checked by the layout tests of
// the decoders, against Go types that bpf2go generates from the C headers
// in bpf/.
package bpfobj
