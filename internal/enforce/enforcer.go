package enforce

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/enforce/execguard"
	"github.com/vigilsec/vigil/internal/enforce/fanguard"
	"github.com/vigilsec/vigil/internal/enforce/sockguard"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/hostfs"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// ContainerKiller stops a container through its runtime.
type ContainerKiller func(ctx context.Context, runtime container.Runtime, id string) error

// Config configures an Enforcer.
type Config struct {
	// Plans are the rules with actions, from Plan.
	Plans []*RulePlan
	// Detector builds alerts for decisions taken outside the event path
	// and provides the shared environment (process table, containers).
	Detector *detect.Detector
	// Emit sends those alerts; it must not block.
	Emit func(*alert.Alert) bool
	// ProcRoot is where /proc is mounted; "" means /proc.
	ProcRoot string
	// KillContainer stops containers for kill-container rules; nil makes
	// those actions fail with a reason in the alert.
	KillContainer ContainerKiller
	// ContainerKillTimeout bounds one runtime call; 0 means 10 s.
	ContainerKillTimeout time.Duration
	// Protected are process ids no action may touch (Vigil's own is
	// always protected).
	Protected []uint32
	// CgroupRoot is the cgroup v2 mount the kernel mechanisms attach to;
	// "" finds it.
	CgroupRoot string
	// RescanInterval is how often the cgroup tree is walked for new
	// containers, besides learning them from events; 0 means 500 ms.
	RescanInterval time.Duration
	// DecisionTimeout bounds a pre-operation decision; 0 means 200 ms.
	DecisionTimeout time.Duration
	// FailClosed denies an exec or open whose decision failed; the
	// default allows it (and reports the failure).
	FailClosed bool
	// HostExec also marks the host's mounts for pre-exec decisions.
	// Containers are always marked. It is off by default because every
	// exec on the host then waits for Vigil, Vigil's own children
	// included (see docs/enforcement.md).
	HostExec bool
	// Logf receives operational messages; nil discards them.
	Logf func(format string, args ...any)
}

// Enforcer carries out rule actions: it hooks the detector's matches (for
// actions taken after detection) and answers the pre-operation mechanisms
// (fanotify decisions, kernel policy records).
type Enforcer struct {
	cfg   Config
	plans map[*detect.Rule]*RulePlan
	// preExec and preOpen are the plans fanotify decisions evaluate.
	preExec, preOpen []*RulePlan
	decisions        *decisions
	stats            counters

	containerQ chan containerKill
	wg         sync.WaitGroup
	closeOnce  sync.Once
	cancel     context.CancelFunc

	cgroups   *containerCgroups
	sock      *sockguard.Guard
	fan       *fanguard.Guard
	kexec     *execguard.Guard
	kexecKill bool
	killMu    sync.Mutex // serializes kill-rule updates
	heldMu    sync.Mutex
	held      map[decisionKey]heldKill // see onKillRecord

	// fanExec and fanOpen say what container marks are for; unmarked
	// holds the container cgroups not marked yet (see markContainer).
	fanExec, fanOpen bool
	unmarked         sync.Map // cgroup id -> struct{}

	// failDecisions makes every fanotify decision fail, for tests of the
	// fail-open path.
	failDecisions atomic.Bool
}

func (e *Enforcer) logf(format string, args ...any) {
	if e.cfg.Logf != nil {
		e.cfg.Logf(format, args...)
	}
}

// containerKill is a queued kill-container action with its alert, which
// is emitted once the runtime has answered.
type containerKill struct {
	runtime container.Runtime
	id      string
	alert   *alert.Alert
	ts      uint64
}

// containerQueueLen bounds the kill-container actions waiting for the
// runtime; beyond it an action fails at once (and says so in its alert).
const containerQueueLen = 256

// New returns an Enforcer for cfg.Plans. Close it to stop its workers.
func New(cfg Config) *Enforcer {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = hostfs.Proc()
	}
	if cfg.ContainerKillTimeout <= 0 {
		cfg.ContainerKillTimeout = 10 * time.Second
	}
	if cfg.RescanInterval <= 0 {
		cfg.RescanInterval = 500 * time.Millisecond
	}
	cfg.Protected = append(cfg.Protected, uint32(os.Getpid()))
	e := &Enforcer{cfg: cfg, plans: map[*detect.Rule]*RulePlan{}, decisions: newDecisions(),
		containerQ: make(chan containerKill, containerQueueLen), cancel: func() {},
		held: map[decisionKey]heldKill{}}
	for _, p := range cfg.Plans {
		e.plans[p.Rule] = p
		switch p.Pre {
		case MechFanotifyExec:
			e.preExec = append(e.preExec, p)
		case MechFanotifyOpen:
			e.preOpen = append(e.preOpen, p)
		}
	}
	e.wg.Add(1)
	go e.containerWorker()
	return e
}

// Start attaches the kernel mechanisms the plans need and starts
// following container cgroups. An error names the mechanism that failed;
// the caller decides whether to run without it.
func (e *Enforcer) Start(ctx context.Context) error {
	root := e.cfg.CgroupRoot
	if root == "" {
		r, err := sockguard.FindCgroupRoot()
		if err != nil {
			return fmt.Errorf("enforcement needs cgroup v2: %w", err)
		}
		root = r
	}
	e.cgroups = newContainerCgroups(root)
	e.cgroups.scan()
	ctx, e.cancel = context.WithCancel(ctx)
	for _, start := range []func(context.Context) error{e.startNet, e.startKernelExec, e.startFanotify} {
		if err := start(ctx); err != nil {
			e.Close()
			return err
		}
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		t := time.NewTicker(e.cfg.RescanInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.cgroups.scan()
				e.flushHeld(false)
			}
		}
	}()
	return nil
}

// Close detaches the kernel mechanisms and stops the workers after the
// queued container kills are done.
func (e *Enforcer) Close() {
	e.closeOnce.Do(func() {
		e.cancel()
		if e.cgroups != nil {
			e.cgroups.stop() // no more container updates into the guards
		}
		var errs []error
		if e.fan != nil {
			errs = append(errs, e.fan.Close())
		}
		if e.kexec != nil {
			errs = append(errs, e.kexec.Close())
		}
		if e.sock != nil {
			errs = append(errs, e.sock.Close())
		}
		if err := errors.Join(errs...); err != nil {
			e.logf("enforce: close the kernel mechanisms: %v", err)
		}
		e.flushHeld(true)
		close(e.containerQ)
	})
	e.wg.Wait()
}

// OnMatch is the detector's hook for a match of rule r on the event in c,
// with its alert a. It carries out the rule's post-detection action,
// records the outcome in a, and reports whether the detector should emit
// a. It runs on the event path: kills are a few syscalls, and runtime
// calls are queued.
func (e *Enforcer) OnMatch(c *fields.Context, r *detect.Rule, a *alert.Alert) bool {
	p := e.plans[r]
	if p == nil {
		return true
	}
	ev := c.Event
	if p.Pre == MechKernelKill && e.kexecKill {
		if settled, emit := e.onKernelKillMatch(c, p, a); settled {
			return emit
		}
	}
	if p.Pre != 0 && p.Pre != MechKernelKill && e.decisions.take(decisionKey{ev.TID, r}, ev.Timestamp) {
		// The pre-operation mechanism decided and reported already.
		e.stats.echoes.Add(1)
		return false
	}
	if p.Pre == MechFanotifyExec || p.Pre == MechFanotifyOpen {
		if e.decisions.take(decisionKey{tid: ev.TID}, ev.Timestamp) {
			annotate(a, p, "fail-open", p.Pre.String(), 0, "the decision failed before the operation; it was allowed")
			return true
		}
	}
	if p.Pre == MechCgroupSock && e.sock != nil {
		// The kernel saw this connect first: it refused it, or in audit
		// mode reported it; either way its record made the alert. A
		// connect that got through in enforce mode slipped past the
		// kernel (a container not registered yet) and gets the
		// fallback below.
		if failed(ev) || !p.Enforced() {
			e.stats.echoes.Add(1)
			return false
		}
	}
	if p.Action == loader.ActionBlock && failed(ev) {
		// The operation failed anyway: nothing to stop.
		annotate(a, p, "not-needed", "", 0, "the operation failed by itself")
		return true
	}
	switch p.Post {
	case MechPidfdKill:
		return e.killProcess(c, p, a)
	case MechRuntimeKill:
		return e.queueContainerKill(c, p, a)
	}
	return true
}

// failed reports an operation that did not happen: a negative result,
// except a non-blocking connect that the kernel started.
func failed(ev *event.Event) bool {
	return ev.Ret < 0 && (ev.Kind != event.KindSocket || ev.Ret != -int64(unix.EINPROGRESS))
}

// killProcess kills the event's process after detection and reports
// whether to emit the alert.
func (e *Enforcer) killProcess(c *fields.Context, p *RulePlan, a *alert.Alert) bool {
	ev := c.Event
	if !p.Enforced() {
		annotate(a, p, "would-kill", MechPidfdKill.String(), 0, "")
		e.stats.audited.Add(1)
		return true
	}
	comm := c.Proc.Comm
	if comm == "" {
		comm = ev.Comm
	}
	err := killPID(e.cfg.ProcRoot, ev.PID, comm)
	reaction := int64(ktime.Now() - ev.Timestamp)
	if err != nil {
		annotate(a, p, "failed", MechPidfdKill.String(), reaction, err.Error())
		e.stats.failed.Add(1)
		return true
	}
	annotate(a, p, "killed", MechPidfdKill.String(), reaction, "")
	e.stats.killed.Add(1)
	e.stats.reactionNS.Add(uint64(reaction))
	return true
}

func (e *Enforcer) queueContainerKill(c *fields.Context, p *RulePlan, a *alert.Alert) bool {
	id := a.Context.Identity.ContainerID
	if id == "" || id == "host" {
		annotate(a, p, "failed", MechRuntimeKill.String(), 0, "the process is not in a container")
		e.stats.failed.Add(1)
		return true
	}
	if !p.Enforced() {
		annotate(a, p, "would-kill-container", MechRuntimeKill.String(), 0, "")
		e.stats.audited.Add(1)
		return true
	}
	var rt container.Runtime
	if info, _ := e.containerOf(c); info != nil {
		rt = info.Runtime
	}
	select {
	case e.containerQ <- containerKill{runtime: rt, id: id, alert: a, ts: c.Event.Timestamp}:
		return false // emitted by the worker with the runtime's answer
	default:
		annotate(a, p, "failed", MechRuntimeKill.String(), 0, "too many container kills pending")
		e.stats.failed.Add(1)
		e.stats.queueDrops.Add(1)
		return true
	}
}

func (e *Enforcer) containerOf(c *fields.Context) (*container.Info, bool) {
	env := c.Env
	if env == nil || env.Containers == nil {
		return nil, false
	}
	info, _ := env.Containers.Lookup(c.Proc.CgroupID)
	return info, info != nil
}

func (e *Enforcer) containerWorker() {
	defer e.wg.Done()
	for k := range e.containerQ {
		p := &RulePlan{Action: loader.ActionKillContainer, Mode: loader.ModeEnforce}
		var err error
		if e.cfg.KillContainer == nil {
			err = errNoRuntime
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), e.cfg.ContainerKillTimeout)
			err = e.cfg.KillContainer(ctx, k.runtime, k.id)
			cancel()
		}
		reaction := int64(ktime.Now() - k.ts)
		if err != nil {
			annotate(k.alert, p, "failed", MechRuntimeKill.String(), reaction, err.Error())
			e.stats.failed.Add(1)
		} else {
			annotate(k.alert, p, "container-killed", MechRuntimeKill.String(), reaction, "")
			e.stats.containersKilled.Add(1)
		}
		if e.cfg.Emit != nil {
			e.cfg.Emit(k.alert)
		}
	}
}

var errNoRuntime = errorString("no container runtime API is available to stop the container")

type errorString string

func (e errorString) Error() string { return string(e) }

// annotate records an action's outcome in the alert, and says it at the
// front of the output so that people and Falco-format consumers see it.
func annotate(a *alert.Alert, p *RulePlan, outcome, mech string, reactionNS int64, errText string) {
	a.Enforcement = &alert.Enforcement{Action: p.Action.String(), Mode: p.Mode.String(), Outcome: outcome,
		Mechanism: mech, ReactionNS: reactionNS, Error: errText}
	a.Output = "[" + outcome + "] " + a.Output
}

// counters are the enforcer's own statistics.
type counters struct {
	blocked, audited, killed, containersKilled, failed atomic.Uint64
	echoes, queueDrops                                 atomic.Uint64
	reactionNS                                         atomic.Uint64
	failOpen, failClosed                               atomic.Uint64
	markedContainers, markErrors                       atomic.Uint64
}

// Stats are an Enforcer's counters.
type Stats struct {
	Blocked          uint64 // operations denied before they happened
	Audited          uint64 // actions reported but not taken (audit mode)
	Killed           uint64 // processes killed (in the kernel or via pidfd)
	ContainersKilled uint64
	Failed           uint64 // actions that could not be carried out
	// Echoes counts detector matches on operations a pre-operation
	// mechanism had already decided, which were not reported twice.
	Echoes uint64
	// QueueDrops counts container kills refused because the queue was full.
	QueueDrops uint64
	// ReactionNSTotal sums the reaction times of user-space kills.
	ReactionNSTotal uint64
	// FailOpen and FailClosed count pre-operation decisions that failed
	// (timeout, internal error) and were allowed or denied by policy.
	FailOpen, FailClosed uint64
	// Decisions is the fanotify listener's latency, from reading a
	// permission event to answering it (nil without a listener).
	Decisions *fanguard.Histogram `json:",omitempty"`
}

// Stats returns the counters.
func (e *Enforcer) Stats() Stats {
	s := &e.stats
	st := Stats{Blocked: s.blocked.Load(), Audited: s.audited.Load(), Killed: s.killed.Load(),
		ContainersKilled: s.containersKilled.Load(), Failed: s.failed.Load(), Echoes: s.echoes.Load(),
		QueueDrops: s.queueDrops.Load(), ReactionNSTotal: s.reactionNS.Load(),
		FailOpen: s.failOpen.Load(), FailClosed: s.failClosed.Load()}
	if e.fan != nil {
		h := e.fan.Stats().Latency
		st.Decisions = &h
	}
	return st
}

// Observe lets the enforcer learn container cgroups from the event
// stream, so that kernel policies cover a new container as soon as its
// first program runs, before the next cgroup scan. It runs on the event
// path for every event and costs a comparison for all but execs.
func (e *Enforcer) Observe(ev *event.Event, containers container.Lookuper) {
	if ev.Kind != event.KindExec || ev.Ret != 0 || e.cgroups == nil || ev.CgroupID <= 1 {
		return
	}
	var info *container.Info
	if containers != nil {
		info, _ = containers.Lookup(ev.CgroupID)
	}
	e.cgroups.observe(ev.CgroupID, ev.PID, info)
	e.cgroups.setPID(ev.CgroupID, ev.PID)
	// A container whose mounts could not be marked yet is retried through
	// the process that just ran a program in it.
	if _, pending := e.unmarked.LoadAndDelete(ev.CgroupID); pending && !e.markContainer(ev.CgroupID, ev.PID) {
		e.unmarked.Store(ev.CgroupID, struct{}{})
	}
}
