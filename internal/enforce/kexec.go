package enforce

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/enforce/execguard"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/hostfs"
	"github.com/vigilsec/vigil/internal/ktime"
)

// startKernelExec opens the exec guard: its argv capture serves pre-exec
// decisions, and its deny set kills at exec the programs that kill rules
// name.
func (e *Enforcer) startKernelExec(ctx context.Context) error {
	var needArgv, needKill bool
	for _, p := range e.cfg.Plans {
		needArgv = needArgv || p.Pre == MechFanotifyExec
		needKill = needKill || p.Pre == MechKernelKill
	}
	if !needArgv && !needKill {
		return nil
	}
	g, err := execguard.Open(execguard.Config{SkipArgv: !needArgv, SkipKill: !needKill})
	if err != nil {
		return fmt.Errorf("in-kernel exec guard: %w", err)
	}
	// An unprotected Vigil could be killed by its own rules: no guard
	// rather than that.
	for _, pid := range e.cfg.Protected {
		if err := g.Protect(pid); err != nil {
			return errors.Join(fmt.Errorf("in-kernel exec guard: %w", err), g.Close())
		}
	}
	e.kexec, e.kexecKill = g, needKill
	if needKill {
		e.cgroups.subscribe(func(cg uint64, _ string, added bool) {
			if err := g.SetContainer(cg, added); err != nil {
				e.logf("enforce: in-kernel exec guard: %v", err)
			}
			if err := e.applyKill(); err != nil {
				e.logf("enforce: in-kernel exec guard: container %d: %v", cg, err)
			}
		})
		if err := e.applyKill(); err != nil {
			return err
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			if err := g.Run(ctx, e.onKillRecord); err != nil {
				e.logf("enforce: in-kernel exec guard stopped reading kill records: %v", err)
			}
		}()
	}
	return nil
}

// killRules compiles the kernel-kill plans. Paths become the file's
// device and inode, on the host and inside each known container (through
// one of its processes' root), so a renamed or relinked copy is still the
// same program.
func (e *Enforcer) killRules() []execguard.KillRule {
	var out []execguard.KillRule
	for i, p := range e.cfg.Plans {
		if p.Pre != MechKernelKill {
			continue
		}
		for _, x := range p.Exec {
			base := execguard.KillRule{ID: uint32(i), Audit: !p.Enforced()}
			var scopes []execguard.Scope
			var roots []string // where to resolve paths, per scope
			switch x.Scope.Kind {
			case ScopeHost:
				scopes, roots = []execguard.Scope{{Kind: execguard.ScopeHost}}, []string{""}
			case ScopeAllContainers:
				if x.Path == "" {
					scopes, roots = []execguard.Scope{{Kind: execguard.ScopeContainers}}, []string{""}
					break
				}
				for _, cg := range e.cgroups.all() {
					scopes = append(scopes, execguard.Scope{Kind: execguard.ScopeCgroup, CgroupID: cg})
					roots = append(roots, e.rootOf(cg))
				}
			case ScopeContainer:
				for _, cg := range e.cgroups.cgroupsOf(x.Scope.ContainerID) {
					scopes = append(scopes, execguard.Scope{Kind: execguard.ScopeCgroup, CgroupID: cg})
					roots = append(roots, e.rootOf(cg))
				}
			}
			for j, s := range scopes {
				r := base
				r.Scope = s
				if x.Comm != "" || x.Memfd {
					r.Comm, r.Memfd = x.Comm, x.Memfd
					out = append(out, r)
					continue
				}
				if roots[j] == "" && s.Kind == execguard.ScopeCgroup {
					continue // no process to resolve the path through yet
				}
				dev, ino, err := execguard.InodeOf(roots[j] + x.Path)
				if err != nil {
					continue // not installed there: nothing to kill
				}
				r.Dev, r.Ino = dev, ino
				out = append(out, r)
			}
		}
	}
	return out
}

// rootOf returns /proc/<pid>/root for a process of cgroup cg, or "".
func (e *Enforcer) rootOf(cg uint64) string {
	if pid := e.cgroups.firstPID(cg); pid != 0 {
		return hostfs.ProcPID(int(pid)) + "/root"
	}
	return ""
}

func (e *Enforcer) applyKill() error {
	if e.kexec == nil || !e.kexecKill {
		return nil
	}
	e.killMu.Lock()
	defer e.killMu.Unlock()
	if err := e.kexec.SetKillRules(e.killRules()); err != nil {
		return fmt.Errorf("in-kernel kill rules: %w", err)
	}
	return nil
}

var execveNR = uint32(execNR)

// holdKillFor is how long a kernel kill record's alert waits for the
// detector's view of the same exec, whose alert carries the full argv.
const holdKillFor = 1e9

// heldKill is a kernel kill record's alert waiting for the detector.
type heldKill struct {
	alert *alert.Alert
	at    uint64
}

// onKillRecord turns an in-kernel kill into an alert. The sensor sees the
// same exec with its whole argv, so the record's alert is held briefly:
// if the detector reports the exec, its alert goes out with the kernel's
// outcome; if not (the rule's condition is the program only, but the
// sensor lost the event), the record's own alert goes out.
func (e *Enforcer) onKillRecord(r execguard.KillRecord) {
	if int(r.RuleID) >= len(e.cfg.Plans) {
		e.stats.failed.Add(1)
		return
	}
	p := e.cfg.Plans[r.RuleID]
	key := decisionKey{r.PID, p.Rule}
	if e.decisions.take(key, r.KtimeNS) {
		return // the detector saw the exec first and reported the kill
	}
	ev := new(event.Event)
	ev.Kind, ev.Syscall, ev.Timestamp = event.KindExec, int32(execveNR), r.KtimeNS
	ev.PID, ev.TID, ev.PPID, ev.Comm, ev.CgroupID = r.TGID, r.PID, r.PPID, r.Comm, r.CgroupID
	ev.Exec.Filename, ev.Exec.Args, ev.Exec.UID, ev.Exec.EUID = r.Filename, r.Comm, r.UID, r.EUID
	ev.Exec.Exe = r.Filename
	if r.Memfd {
		ev.Exec.Flags |= event.ExecFromMemfd
	}
	c := ctxPool.Get().(*fields.Context)
	defer ctxPool.Put(c)
	// The table may already hold the new image (the sensor saw the exec)
	// or still the old one; the record is what the kernel saw, so the
	// context is built as for a pending exec of that file.
	c.ResetPreExec(e.cfg.Detector.Env(), ev, 0)
	a := e.cfg.Detector.BuildAlert(c, p.Rule)
	switch {
	case r.Audit:
		annotate(a, p, "would-kill", MechKernelKill.String(), 0, "")
		e.stats.audited.Add(1)
	case r.SignalFailed:
		annotate(a, p, "failed", MechKernelKill.String(), 0, "bpf_send_signal refused")
		e.stats.failed.Add(1)
	default:
		// Killed at the exec itself: no reaction time to speak of.
		annotate(a, p, "killed", MechKernelKill.String(), 0, "")
		e.stats.killed.Add(1)
	}
	e.heldMu.Lock()
	if len(e.held) >= maxDecisions {
		e.heldMu.Unlock()
		e.emit(a) // no room to wait: report what the kernel saw
		return
	}
	e.held[key] = heldKill{alert: a, at: ktime.Now()}
	e.heldMu.Unlock()
}

// claimHeld takes the held kernel-kill alert for key, if any.
func (e *Enforcer) claimHeld(key decisionKey) (*alert.Alert, bool) {
	e.heldMu.Lock()
	defer e.heldMu.Unlock()
	h, ok := e.held[key]
	if ok {
		delete(e.held, key)
	}
	return h.alert, ok
}

// flushHeld emits the held alerts the detector did not claim in time;
// all of them when final.
func (e *Enforcer) flushHeld(final bool) {
	now := ktime.Now()
	var out []*alert.Alert
	e.heldMu.Lock()
	for k, h := range e.held {
		if final || h.at+holdKillFor <= now {
			out = append(out, h.alert)
			delete(e.held, k)
		}
	}
	e.heldMu.Unlock()
	for _, a := range out {
		e.emit(a)
	}
}

// onKernelKillMatch handles the detector's match of a kernel-kill rule,
// and reports whether it settled it (and whether to emit the alert).
func (e *Enforcer) onKernelKillMatch(c *fields.Context, p *RulePlan, a *alert.Alert) (settled, emit bool) {
	ev := c.Event
	key := decisionKey{ev.TID, p.Rule}
	if held, ok := e.claimHeld(key); ok {
		// The kernel acted and reported first; this alert has the argv.
		en := *held.Enforcement
		a.Enforcement = &en
		a.Output = "[" + en.Outcome + "] " + a.Output
		return true, true
	}
	switch {
	case !p.Enforced():
		annotate(a, p, "would-kill", MechKernelKill.String(), 0, "")
	case processGone(e.cfg.ProcRoot, ev.PID):
		annotate(a, p, "killed", MechKernelKill.String(), 0, "")
	default:
		return false, false // alive: the kernel missed it (a scope it did not know yet)
	}
	// The record, when it arrives, must not report the exec again.
	e.decisions.record(key, ktime.Now())
	if p.Enforced() {
		e.stats.killed.Add(1)
	} else {
		e.stats.audited.Add(1)
	}
	return true, true
}

func (e *Enforcer) emit(a *alert.Alert) {
	if e.cfg.Emit != nil {
		e.cfg.Emit(a)
	}
}
