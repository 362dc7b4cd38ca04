package ocispec

import "slices"

// AllCapabilities are the capabilities every kernel since 3.16 knows, up
// to CAP_AUDIT_READ. A spec whose bounding set holds all of them is
// treated as privileged: that is what --privileged gives and what "ALL"
// means to Docker 20.10. Later capabilities (PERFMON, BPF,
// CHECKPOINT_RESTORE) depend on the kernel and the runtime's age, so they
// are not required.
var AllCapabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
}

// DefaultCapabilities is the set Docker, containerd and CRI-O give a
// container unless told otherwise (they have agreed on it for years).
var DefaultCapabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
	"SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
}

// compareCaps judges a bounding set: privileged when it holds every
// capability, and otherwise what was added to or dropped from the default.
func compareCaps(bounding []string) (privileged bool, add, drop []string) {
	have := make(map[string]bool, len(bounding))
	for _, c := range bounding {
		have[capName(c)] = true
	}
	privileged = true
	for _, c := range AllCapabilities {
		if !have[c] {
			privileged = false
			break
		}
	}
	if privileged {
		return true, []string{"ALL"}, nil
	}
	for _, c := range bounding {
		if n := capName(c); !slices.Contains(DefaultCapabilities, n) && !slices.Contains(add, n) {
			add = append(add, n)
		}
	}
	for _, c := range DefaultCapabilities {
		if !have[c] {
			drop = append(drop, c)
		}
	}
	return false, add, drop
}
