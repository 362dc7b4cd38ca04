package enforce

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// Mechanism is a way Vigil carries out an action.
type Mechanism uint8

// Mechanisms, in the order an action prefers them.
const (
	MechFanotifyExec Mechanism = iota + 1 // deny an exec before it happens
	MechFanotifyOpen                      // deny an open before it happens
	MechCgroupSock                        // deny a connect in the kernel
	MechKernelKill                        // SIGKILL at exec, from the kernel
	MechPidfdKill                         // SIGKILL from user space after detection
	MechRuntimeKill                       // stop the container through its runtime
)

var mechNames = [...]string{"", "fanotify-exec", "fanotify-open", "cgroup-sock-addr", "bpf-send-signal", "pidfd", "runtime-api"}

// String names the mechanism in alerts and status output.
func (m Mechanism) String() string {
	if int(m) < len(mechNames) {
		return mechNames[m]
	}
	return "unknown"
}

// Options configure planning.
type Options struct {
	// Mode is the global mode for rules that set none: enforce or audit.
	// ModeDefault means enforce.
	Mode loader.Mode
	// NetFallbackAlert makes a block rule on connect whose condition
	// cannot be compiled for the kernel only alert, instead of killing the
	// process after detection.
	NetFallbackAlert bool
	// HostExec says exec blocking also covers the host's mounts
	// (enforcement.host_exec). Without it, an exec block rule that can
	// match a host process is told that those execs are not refused.
	HostExec bool
}

// RulePlan is how one rule's action is carried out.
type RulePlan struct {
	Rule   *detect.Rule
	Action loader.Action
	Mode   loader.Mode // enforce or audit, after the global default
	// Pre is the mechanism that acts before the operation (0 if none).
	Pre Mechanism
	// Post is the mechanism that acts when the detector matches the
	// event afterwards: the action itself for kill rules, and for block
	// rules a safety net for what the pre-operation mechanism missed (an
	// exec from a file system fanotify does not watch, a fail-open). 0
	// means alert only.
	Post Mechanism
	// Compiled forms, for the kernel mechanisms.
	Net       []NetRule
	Exec      []ExecRule
	OpenPaths []string
	// Notes explain choices that differ from the rule's intent, such as a
	// condition the kernel cannot evaluate.
	Notes lang.Diagnostics
}

// Enforced reports whether the plan's actions are carried out rather than
// only reported.
func (p *RulePlan) Enforced() bool { return p.Mode == loader.ModeEnforce }

// Plan decides, for every enabled rule with an action, which mechanisms
// carry it out. The diagnostics are warnings about rules whose action is
// weakened (for example a connect block that falls back to a kill); they
// name the rule's action key or the part of the condition at fault.
func Plan(p *detect.Program, opts Options) ([]*RulePlan, lang.Diagnostics) {
	var plans []*RulePlan
	var diags lang.Diagnostics
	for _, r := range p.Rules() {
		if !r.Enabled || r.Action == loader.ActionAlert {
			continue
		}
		rp := planRule(r, opts)
		diags = append(diags, rp.Notes...)
		plans = append(plans, rp)
	}
	return plans, diags
}

func planRule(r *detect.Rule, opts Options) *RulePlan {
	rp := &RulePlan{Rule: r, Action: r.Action, Mode: r.Mode}
	if rp.Mode == loader.ModeDefault {
		rp.Mode = opts.Mode
	}
	if rp.Mode == loader.ModeDefault {
		rp.Mode = loader.ModeEnforce
	}
	note := func(pos lang.Pos, format string, args ...any) {
		if pos.Line == 0 {
			pos = r.ActionPos
		}
		rp.Notes = append(rp.Notes, lang.Diagnostic{Pos: pos, Severity: lang.SeverityWarning,
			Message: fmt.Sprintf("rule %q: ", r.Name) + fmt.Sprintf(format, args...)})
	}
	types := r.Types
	switch r.Action {
	case loader.ActionKillContainer:
		rp.Post = MechRuntimeKill
	case loader.ActionKill:
		rp.Post = MechPidfdKill
		if only(types, execTypes) {
			if ex, err := compileExec(r.Expr); err == nil {
				rp.Pre, rp.Exec = MechKernelKill, ex
			} else {
				note(posOf(err), "killed after detection, not in the kernel: %v", reason(err))
			}
		}
	case loader.ActionBlock:
		rp.Post = MechPidfdKill
		switch {
		case only(types, execTypes):
			if f := postExecField(r); f != nil {
				note(f.NamePos, "%s is known only once the exec has happened, so the exec cannot be refused; the process is killed after detection instead", f.Name)
				break
			}
			if ex, err := compileExec(r.Expr); err == nil && allMemfd(ex) {
				// fanotify never sees a memfd exec: no mount to mark.
				// The kernel kills it before its first instruction.
				rp.Pre, rp.Exec = MechKernelKill, ex
				break
			}
			rp.Pre = MechFanotifyExec
			if !opts.HostExec {
				if reach := hostReach(r.Expr); reach != hostNever {
					note(lang.Pos{}, "%s", hostExecNote(reach))
				}
			}
		case only(types, openTypes):
			paths, err := openPaths(r.Expr)
			if err != nil {
				note(posOf(err), "cannot block before the open (%v); the process is killed after detection instead", reason(err))
				break
			}
			rp.Pre, rp.OpenPaths = MechFanotifyOpen, paths
		case only(types, connectTypes):
			net, err := compileNet(r.Expr)
			if err == nil {
				rp.Pre, rp.Net = MechCgroupSock, net
				break
			}
			if opts.NetFallbackAlert {
				rp.Post = 0
				note(posOf(err), "cannot block in the kernel (%v); it only alerts (net_fallback: alert)", reason(err))
			} else {
				note(posOf(err), "cannot block in the kernel (%v); the process is killed after detection instead", reason(err))
			}
		default:
			note(lang.Pos{}, "block applies to exec, open and connect rules; this rule matches %s, so the process is killed after detection instead",
				typeList(types))
		}
	}
	return rp
}

func allMemfd(rules []ExecRule) bool {
	for _, x := range rules {
		if !x.Memfd {
			return false
		}
	}
	return len(rules) > 0
}

// postExecFields describe what the kernel decides while it carries an exec
// out: a fanotify permission event comes before, so they have no value then.
var postExecFields = map[string]bool{"proc.is_secure_exec": true, "proc.loader_env": true, "proc.is_loader_env_truncated": true}

// postExecField returns the first such field the rule reads, or nil.
func postExecField(r *detect.Rule) *lang.FieldRef {
	for _, f := range fieldRefsOf(r) {
		if postExecFields[f.Name] {
			return f
		}
	}
	return nil
}

// openTypes are the event types a pre-open decision covers.
var openTypes = map[string]bool{"open": true, "openat": true, "openat2": true, "creat": true}

// only reports whether a rule matches nothing but types in set.
func only(ts compile.TypeSet, set map[string]bool) bool {
	if ts.Neg || ts.Empty() {
		return false
	}
	for _, n := range ts.Names() {
		if !set[n] {
			return false
		}
	}
	return true
}

func posOf(err error) lang.Pos {
	var nk *notKernel
	if errors.As(err, &nk) {
		return nk.pos
	}
	return lang.Pos{}
}

func reason(err error) string {
	var nk *notKernel
	if errors.As(err, &nk) {
		return nk.why
	}
	return err.Error()
}

func typeList(ts compile.TypeSet) string {
	if ts.Neg {
		return "every event type"
	}
	n := ts.Names()
	sort.Strings(n)
	return strings.Join(n, ", ")
}
