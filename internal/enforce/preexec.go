package enforce

import (
	"path"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/rules/loader"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// PendingExec is an exec the kernel is about to carry out, as a
// pre-exec mechanism sees it.
type PendingExec struct {
	PID, TID uint32
	// Exe is the executable's absolute path as the process will see it.
	Exe string
	// Filename is the path passed to exec, when known (it names the task:
	// a symlink such as /bin/sh -> busybox runs as "sh").
	Filename string
	// Argv is the new program's argument vector; nil when it could not be
	// captured, in which case rules see argv[0] only.
	Argv []string
	// Timestamp is the monotonic time of the attempt, in nanoseconds.
	Timestamp uint64
}

// Verdict is a pre-operation decision.
type Verdict struct {
	Allow bool
	// Cacheable says the verdict depends only on the program and the
	// process's container, so it can be reused for the same file there.
	Cacheable bool
}

var ctxPool = sync.Pool{New: func() any { return new(fields.Context) }}

// execNR is the syscall number pre-exec events carry, so that rules on
// evt.type = execve match them.
var execNR, _ = syscalls.Number("execve")

// DecideExec evaluates the block rules on exec against x with the
// process's full context (ancestry, container, the new program's path and
// argv), reports each match, and denies the exec if an enforced rule
// matched. It is safe for concurrent use.
func (e *Enforcer) DecideExec(x PendingExec) Verdict {
	rules := e.preExec
	if len(rules) == 0 {
		return Verdict{Allow: true, Cacheable: true}
	}
	ev := new(event.Event)
	ev.Kind, ev.Syscall, ev.Timestamp = event.KindExec, execNR, x.Timestamp
	ev.PID, ev.TID = x.PID, x.TID
	name := x.Filename
	if name == "" {
		name = x.Exe
	}
	ev.Comm = taskName(name)
	argv := x.Argv
	if len(argv) == 0 {
		argv = []string{name}
	}
	ev.Exec.Filename, ev.Exec.Exe, ev.Exec.Args = name, x.Exe, strings.Join(argv, "\x00")
	env := e.cfg.Detector.Env()
	ev.PPID, ev.CgroupID, _ = e.lineage(x.PID)
	c := ctxPool.Get().(*fields.Context)
	defer ctxPool.Put(c)
	c.ResetPreExec(env, ev, 0)
	// Argv-dependent rules make a verdict specific to this exec; the
	// others depend on the program and its container only.
	v := Verdict{Allow: true, Cacheable: x.Argv != nil}
	for _, p := range rules {
		if dependsOnArgsOrAncestry(p.Rule) {
			v.Cacheable = false
		}
		if !p.Rule.Eval(c) {
			continue
		}
		v.Cacheable = false
		if e.decideMatch(c, p, MechFanotifyExec) {
			v.Allow = false
		}
	}
	return v
}

// decideMatch reports a pre-operation match of plan p and records it so
// the detector's view of the same operation is not reported again. It
// returns whether the operation must be denied.
func (e *Enforcer) decideMatch(c *fields.Context, p *RulePlan, m Mechanism) bool {
	a := e.cfg.Detector.BuildAlert(c, p.Rule)
	e.decisions.record(decisionKey{c.Event.TID, p.Rule}, ktime.Now())
	deny := p.Enforced()
	if deny {
		annotate(a, p, "blocked", m.String(), 0, "")
		e.stats.blocked.Add(1)
	} else {
		annotate(a, p, "would-block", m.String(), 0, "")
		e.stats.audited.Add(1)
	}
	if e.cfg.Emit != nil {
		e.cfg.Emit(a)
	}
	return deny
}

// dependsOnArgsOrAncestry reports whether a rule's verdict can differ
// between two execs of the same program in the same container. It is
// conservative: any field other than the program's identity and the
// container's counts.
func dependsOnArgsOrAncestry(r *detect.Rule) bool {
	for _, f := range fieldsOf(r) {
		switch {
		case f == "evt.type" || f == "proc.name" || f == "proc.exepath" || f == "proc.exe",
			strings.HasPrefix(f, "container."), strings.HasPrefix(f, "k8s."),
			resultFields[f]:
		default:
			return true
		}
	}
	return false
}

// taskName is the name the kernel gives a task that execs path: its base
// name, cut to 15 bytes.
func taskName(p string) string {
	n := path.Base(p)
	if len(n) > 15 {
		n = n[:15]
	}
	return n
}

// auditOrEnforce is the mode name used in status output.
func auditOrEnforce(m loader.Mode) string {
	if m == loader.ModeAudit {
		return "audit"
	}
	return "enforce"
}
