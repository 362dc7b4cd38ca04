package enforce

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/enforce/sockguard"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// netPolicy compiles the connect plans into a sockguard policy. Rule ids
// index plans, so a kernel decision names the rule that caused it. Entries
// several rules produce alike are merged, the strongest verdict winning
// (block over audit over allow), because the kernel keeps one verdict per
// destination.
func netPolicy(plans []*RulePlan, cgroupsOf func(containerID string) []uint64) []sockguard.Rule {
	type key struct {
		scope  sockguard.Scope
		prefix string
		port   uint16
		proto  sockguard.Proto
	}
	merged := map[key]sockguard.Rule{}
	var order []key
	strength := map[sockguard.Verdict]int{sockguard.Allow: 1, sockguard.Audit: 2, sockguard.Block: 3}
	for i, p := range plans {
		if p.Pre != MechCgroupSock {
			continue
		}
		verdict := sockguard.Block
		if !p.Enforced() {
			verdict = sockguard.Audit
		}
		for _, nr := range p.Net {
			var scopes []sockguard.Scope
			switch nr.Scope.Kind {
			case ScopeHost:
				scopes = []sockguard.Scope{sockguard.Host()}
			case ScopeAllContainers:
				scopes = []sockguard.Scope{sockguard.AllContainers()}
			case ScopeContainer:
				for _, cg := range cgroupsOf(nr.Scope.ContainerID) {
					scopes = append(scopes, sockguard.Cgroup(cg))
				}
			}
			v := verdict
			if nr.Allow {
				v = sockguard.Allow
			}
			for _, s := range scopes {
				r := sockguard.Rule{ID: uint32(i), Scope: s, Prefix: nr.Prefix, Port: nr.Port, Proto: sockguard.Proto(nr.Proto), Verdict: v}
				k := key{s, nr.Prefix.String(), nr.Port, r.Proto}
				old, seen := merged[k]
				if !seen {
					order = append(order, k)
				}
				if !seen || strength[v] > strength[old.Verdict] {
					merged[k] = r
				}
			}
		}
	}
	out := make([]sockguard.Rule, 0, len(order))
	for _, k := range order {
		out = append(out, merged[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

var connectNR, _ = syscalls.Number("connect")
var sendtoNR, _ = syscalls.Number("sendto")

// onNetDecision turns a kernel connect decision into an alert.
func (e *Enforcer) onNetDecision(d sockguard.Decision) {
	if int(d.RuleID) >= len(e.cfg.Plans) {
		e.stats.failed.Add(1)
		return
	}
	p := e.cfg.Plans[d.RuleID]
	ev := new(event.Event)
	ev.Kind, ev.Timestamp = event.KindSocket, d.Time
	ev.Syscall = connectNR
	if d.Hook == sockguard.HookSendmsg4 || d.Hook == sockguard.HookSendmsg6 {
		ev.Syscall = sendtoNR
	}
	ev.PID, ev.TID, ev.Comm, ev.CgroupID = d.TGID, d.PID, d.Comm, d.CgroupID
	if d.Verdict == sockguard.Block {
		ev.Ret = -int64(unix.EPERM)
	}
	s := &ev.Socket
	s.Op, s.Remote, s.Protocol = event.OpConnect, d.Dst, uint16(d.Proto)
	s.Family = unix.AF_INET
	if d.Dst.Addr().Is6() {
		s.Family = unix.AF_INET6
	}
	s.Type = unix.SOCK_STREAM
	if d.Proto == sockguard.ProtoUDP {
		s.Type = unix.SOCK_DGRAM
	}
	env := e.cfg.Detector.Env()
	if env.Table != nil {
		if proc, ok := env.Table.Get(d.TGID); ok {
			ev.PPID = proc.PPID
		}
	}
	c := ctxPool.Get().(*fields.Context)
	defer ctxPool.Put(c)
	c.Reset(env, ev, 0)
	a := e.cfg.Detector.BuildAlert(c, p.Rule)
	e.decisions.record(decisionKey{d.PID, p.Rule}, ktime.Now())
	if d.Verdict == sockguard.Block {
		annotate(a, p, "blocked", MechCgroupSock.String(), 0, "")
		e.stats.blocked.Add(1)
	} else {
		annotate(a, p, "would-block", MechCgroupSock.String(), 0, "")
		e.stats.audited.Add(1)
	}
	if e.cfg.Emit != nil {
		e.cfg.Emit(a)
	}
}

// startNet opens the connect guard, applies the policy and follows
// container cgroups. It returns nil when no plan needs it.
func (e *Enforcer) startNet(ctx context.Context) error {
	need := false
	for _, p := range e.cfg.Plans {
		need = need || p.Pre == MechCgroupSock
	}
	if !need {
		return nil
	}
	g, err := sockguard.Open(sockguard.Config{CgroupRoot: e.cgroups.root})
	if err != nil {
		return fmt.Errorf("connect blocking (cgroup sock_addr programs): %w", err)
	}
	// An unprotected Vigil could lose its own connections (outputs,
	// runtime APIs) to its rules: no guard rather than that.
	for _, pid := range e.cfg.Protected {
		if err := g.Protect(pid); err != nil {
			return errors.Join(fmt.Errorf("connect blocking: %w", err), g.Close())
		}
	}
	e.sock = g
	e.cgroups.subscribe(func(cg uint64, id string, added bool) {
		if err := g.SetContainer(cg, added); err != nil {
			e.logf("enforce: connect blocking: %v", err)
		}
		if e.hasContainerScoped(MechCgroupSock) {
			if err := e.applyNet(); err != nil {
				e.logf("enforce: connect blocking: container %s: %v", id, err)
			}
		}
	})
	if err := e.applyNet(); err != nil {
		e.sock = nil
		return errors.Join(err, g.Close())
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := g.Run(ctx, e.onNetDecision); err != nil {
			e.logf("enforce: connect blocking stopped reading decisions: %v", err)
		}
	}()
	return nil
}

func (e *Enforcer) applyNet() error {
	if e.sock == nil {
		return nil
	}
	if err := e.sock.Apply(netPolicy(e.cfg.Plans, e.cgroups.cgroupsOf)); err != nil {
		return fmt.Errorf("connect policy: %w", err)
	}
	return nil
}

// hasContainerScoped reports whether a plan of mechanism m names one
// container, whose cgroups must then follow the container's life.
func (e *Enforcer) hasContainerScoped(m Mechanism) bool {
	for _, p := range e.cfg.Plans {
		if p.Pre != m {
			continue
		}
		for _, n := range p.Net {
			if n.Scope.Kind == ScopeContainer {
				return true
			}
		}
		for _, x := range p.Exec {
			if x.Scope.Kind == ScopeContainer {
				return true
			}
		}
	}
	return false
}
