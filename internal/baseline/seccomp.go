package baseline

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/vigilsec/vigil/internal/syscalls"
)

// SeccompProfile is an OCI / Docker / Kubernetes seccomp profile (the
// JSON `docker run --security-opt seccomp=FILE` and a Kubernetes
// Localhost profile read).
type SeccompProfile struct {
	DefaultAction   string        `json:"defaultAction"`
	DefaultErrnoRet uint          `json:"defaultErrnoRet"`
	Architectures   []string      `json:"architectures"`
	Syscalls        []SeccompRule `json:"syscalls"`
}

// SeccompRule allows a set of syscalls.
type SeccompRule struct {
	Names  []string `json:"names"`
	Action string   `json:"action"`
}

// RuntimeSyscalls are allowed in every exported profile: the container
// runtime installs the filter before it executes the workload's first
// program, so the runtime's own last steps (a Go program's scheduler and
// signal handling, then execve) run under it, whether or not the
// baseline saw them.
var RuntimeSyscalls = []string{
	"execve", "execveat", "exit", "exit_group", "futex", "nanosleep", "sched_yield", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "sigaltstack", "getpid", "gettid", "tgkill", "mmap", "munmap", "madvise",
	"read", "write", "close", "fstat", "newfstatat", "epoll_pwait", "fcntl", "capget", "capset", "prctl",
}

// eperm is the errno a denied syscall returns.
const eperm = 1

// Seccomp writes the baseline's syscalls as a seccomp profile: anything
// else fails with EPERM (defaultAction SCMP_ACT_ERRNO). Only the native
// x86-64 ABI is listed, so 32-bit syscalls (int 0x80) are denied too.
// withRuntime adds RuntimeSyscalls.
func (d *Document) Seccomp(withRuntime bool) ([]byte, error) {
	names := slices.Clone(d.Syscalls)
	if withRuntime {
		for _, n := range RuntimeSyscalls {
			if _, ok := syscalls.Number(n); ok {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	p := SeccompProfile{
		DefaultAction:   "SCMP_ACT_ERRNO",
		DefaultErrnoRet: eperm,
		Architectures:   []string{"SCMP_ARCH_X86_64"},
		Syscalls:        []SeccompRule{{Names: names, Action: "SCMP_ACT_ALLOW"}},
	}
	if len(names) == 0 {
		p.Syscalls = []SeccompRule{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
