package execguard

// The eBPF object and its Go bindings are generated and committed, so a
// plain `go build` needs no clang. Regenerate with `make generate`.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86" -target amd64 execguard ../../../bpf/execguard.bpf.c -- -I../../../bpf
