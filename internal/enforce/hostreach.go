package enforce

import (
	"slices"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// hostReachKind says whether a rule's condition can match processes
// outside containers, which exec blocking covers only with
// enforcement.host_exec.
type hostReachKind uint8

const (
	hostNever hostReachKind = iota // every alternative requires a container
	hostToo                        // host processes and container ones
	hostOnly                       // every alternative requires the host
)

// hostReach reads the condition's container.id tests, alternative by
// alternative. A test it cannot read (or a condition too large to expand)
// counts as not restricting the rule to containers: the warning it leads
// to is better given once too often than missed.
func hostReach(e lang.Expr) hostReachKind {
	dnf, err := toDNF(e, false)
	if err != nil || len(dnf) == 0 {
		return hostToo
	}
	reaches, only := false, true
	for _, conj := range dnf {
		inContainer, onHost := false, false
		for _, l := range conj {
			vals, ok := values(l.cmp)
			op := l.cmp.Op
			if fieldName(l.cmp) != "container.id" || !ok || (op != lang.OpEq && op != lang.OpNe && op != lang.OpIn) {
				continue
			}
			isHost := slices.Contains(vals, "host")
			switch eq := !negated(l); {
			case eq && !isHost: // container.id = <id>, in (<ids>)
				inContainer = true
			case eq && len(vals) == 1: // container.id = host
				onHost = true
			case !eq && isHost && len(vals) == 1: // container.id != host
				inContainer = true
			}
		}
		if !inContainer {
			reaches = true
		}
		if !onHost {
			only = false
		}
	}
	switch {
	case !reaches:
		return hostNever
	case only:
		return hostOnly
	}
	return hostToo
}

// hostExecNote explains what an exec block rule does to the host
// processes it matches while enforcement.host_exec is off.
func hostExecNote(reach hostReachKind) string {
	who := "host processes (those outside containers) are not protected before the exec"
	if reach == hostOnly {
		who = "the rule matches only host processes (container.id = host), and none of them is protected before the exec"
	}
	return who + ": exec blocking marks only containers' mounts unless enforcement.host_exec is true, " +
		"so a matching host program starts and is killed after detection (pidfd) if it still runs; " +
		"one that exits first is only reported, with outcome failed. " +
		"Set enforcement.host_exec: true to refuse host execs too, or add container.id != host to the condition"
}
