package config

import "time"

// Enforcement configures rule actions (block, kill, kill-container); see
// docs/enforcement.md.
type Enforcement struct {
	// Mode is the default for rules that set none: enforce or audit.
	Mode string `yaml:"mode"`
	// FailClosed denies an exec or open whose decision failed.
	FailClosed bool `yaml:"fail_closed"`
	// DecisionTimeout bounds a pre-operation decision.
	DecisionTimeout Duration `yaml:"decision_timeout"`
	// HostExec also decides on execs from the host's mounts.
	HostExec bool `yaml:"host_exec"`
	// NetFallback is kill or alert, for connect rules the kernel cannot
	// enforce.
	NetFallback string `yaml:"net_fallback"`
	// ProtectedPIDs are never blocked or killed, besides Vigil itself.
	ProtectedPIDs []uint32 `yaml:"protected_pids,omitempty"`
}

func defaultEnforcement() Enforcement {
	return Enforcement{Mode: "enforce", DecisionTimeout: Duration(200 * time.Millisecond), NetFallback: "kill"}
}

func (e Enforcement) validate(bad func(key, format string, args ...any)) {
	switch e.Mode {
	case "enforce", "audit":
	default:
		bad("enforcement.mode", "%q: want enforce or audit", e.Mode)
	}
	switch e.NetFallback {
	case "kill", "alert":
	default:
		bad("enforcement.net_fallback", "%q: want kill or alert", e.NetFallback)
	}
	if e.DecisionTimeout <= 0 {
		bad("enforcement.decision_timeout", "must be positive")
	}
}
