package enforce

import (
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/loader"
	"golang.org/x/sys/unix"
)

// RuleStatus describes how one rule's action is carried out.
type RuleStatus struct {
	Name   string   `json:"name"`
	Action string   `json:"action"`
	Mode   string   `json:"mode"`
	Pre    string   `json:"before_operation,omitempty"` // mechanism acting before the operation
	Post   string   `json:"after_detection,omitempty"`  // mechanism acting after detection
	Policy []string `json:"kernel_policy,omitempty"`    // compiled kernel entries or watched paths
	Notes  []string `json:"notes,omitempty"`
}

// MechanismStatus is one kernel mechanism and whether it is in use.
type MechanismStatus struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Active    bool   `json:"active"`
	Detail    string `json:"detail,omitempty"`
}

// Status is the enforcement state for `vigil enforce status`.
type Status struct {
	Rules      []RuleStatus      `json:"rules"`
	Mechanisms []MechanismStatus `json:"mechanisms"`
	Stats      *Stats            `json:"stats,omitempty"`
}

// Describe lists the plans for people.
func Describe(plans []*RulePlan) []RuleStatus {
	out := make([]RuleStatus, 0, len(plans))
	for _, p := range plans {
		rs := RuleStatus{Name: p.Rule.Name, Action: p.Action.String(), Mode: auditOrEnforce(p.Mode)}
		if p.Pre != 0 {
			rs.Pre = p.Pre.String()
		}
		if p.Post != 0 {
			rs.Post = p.Post.String()
		}
		for _, n := range p.Net {
			rs.Policy = append(rs.Policy, describeNet(n, p.Mode))
		}
		for _, x := range p.Exec {
			what := "comm " + x.Comm
			switch {
			case x.Path != "":
				what = "file " + x.Path
			case x.Memfd:
				what = "any memfd program"
			}
			rs.Policy = append(rs.Policy, fmt.Sprintf("kill %s in %s", what, x.Scope))
		}
		for _, f := range p.OpenPaths {
			rs.Policy = append(rs.Policy, "watch opens of "+f)
		}
		for _, d := range p.Notes {
			rs.Notes = append(rs.Notes, d.String())
		}
		out = append(out, rs)
	}
	return out
}

func describeNet(n NetRule, m loader.Mode) string {
	verdict := "block"
	switch {
	case n.Allow:
		verdict = "allow"
	case m == loader.ModeAudit:
		verdict = "audit"
	}
	proto := map[uint8]string{0: "tcp+udp", 6: "tcp", 17: "udp"}[n.Proto]
	dst := "any address"
	if n.Prefix.IsValid() {
		dst = n.Prefix.String()
	}
	port := "any port"
	if n.Port != 0 {
		port = fmt.Sprintf("port %d", n.Port)
	}
	return fmt.Sprintf("%s %s to %s %s from %s", verdict, proto, dst, port, n.Scope)
}

// ProbeMechanisms reports which enforcement mechanisms this kernel and
// host offer, without attaching anything.
func ProbeMechanisms(bpfSendSignal, cgroupSockAddr bool) []MechanismStatus {
	out := []MechanismStatus{}
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_CONTENT|unix.FAN_CLOEXEC, unix.O_RDONLY)
	fan := MechanismStatus{Name: "fanotify permission events (exec and open blocking)", Available: err == nil}
	if err != nil {
		fan.Detail = err.Error()
	} else {
		unix.Close(fd)
	}
	out = append(out, fan)
	out = append(out, MechanismStatus{Name: "cgroup sock_addr programs (connect blocking)", Available: cgroupSockAddr})
	out = append(out, MechanismStatus{Name: "bpf_send_signal (in-kernel kill)", Available: bpfSendSignal})
	var pidfd MechanismStatus
	pidfd.Name = "pidfd_send_signal (kill after detection)"
	if fd, err := unix.PidfdOpen(unix.Getpid(), 0); err == nil {
		unix.Close(fd)
		pidfd.Available = true
	} else {
		pidfd.Detail = err.Error()
	}
	out = append(out, pidfd)
	return out
}

// Status returns the live enforcement state.
func (e *Enforcer) Status() Status {
	st := e.Stats()
	s := Status{Rules: Describe(e.cfg.Plans), Stats: &st}
	add := func(name string, active bool, detail string) {
		s.Mechanisms = append(s.Mechanisms, MechanismStatus{Name: name, Available: true, Active: active, Detail: detail})
	}
	if e.fan != nil {
		fs := e.fan.Stats()
		add("fanotify", true, fmt.Sprintf("host exec marks %v, %d containers marked, decisions p50 %s p99 %s",
			e.cfg.HostExec, e.stats.markedContainers.Load(), fs.Latency.P50(), fs.Latency.P99()))
	}
	if e.sock != nil {
		add("cgroup-sock-addr", true, e.sock.Status().String())
	}
	if e.kexec != nil {
		add("execguard", true, strings.TrimSpace(fmt.Sprintf("argv capture, in-kernel kill %v", e.kexecKill)))
	}
	add("pidfd", true, "kills after detection")
	if e.cgroups != nil {
		add("container cgroups", true, fmt.Sprintf("%d known under %s", e.cgroups.count(), e.cgroups.root))
	}
	return s
}
