package enforce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/enforce/fanguard"
	"github.com/vigilsec/vigil/internal/hostfs"
	"github.com/vigilsec/vigil/internal/ktime"
)

// pseudoFS are file systems nobody executes programs from; marking them
// would only add permission events.
var pseudoFS = map[string]bool{"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "devpts": true,
	"mqueue": true, "bpf": true, "tracefs": true, "debugfs": true, "securityfs": true, "pstore": true,
	"configfs": true, "fusectl": true, "binfmt_misc": true, "autofs": true, "hugetlbfs": true, "rpc_pipefs": true,
	"nsfs": true}

// startFanotify opens the permission listener when a plan blocks execs or
// opens, and marks the host (when allowed) and every container.
func (e *Enforcer) startFanotify(ctx context.Context) error {
	var needExec, needOpen bool
	for _, p := range e.cfg.Plans {
		needExec = needExec || p.Pre == MechFanotifyExec
		needOpen = needOpen || p.Pre == MechFanotifyOpen
	}
	if !needExec && !needOpen {
		return nil
	}
	g, err := fanguard.New(fanguard.Config{
		Decide:     e.decideFan,
		Timeout:    e.cfg.DecisionTimeout,
		FailClosed: e.cfg.FailClosed,
		Scope:      e.scopeOf,
		OnFailure:  e.onFanFailure,
	})
	if err != nil {
		return fmt.Errorf("exec and open blocking (fanotify permission events): %w", err)
	}
	for _, pid := range e.cfg.Protected {
		g.Protect(pid)
	}
	e.fan, e.fanExec, e.fanOpen = g, needExec, needOpen
	if needExec && e.cfg.HostExec {
		mountinfo, under := hostMounts()
		for _, m := range execMounts(mountinfo) {
			if err := g.WatchExecMount(under + m); err != nil {
				e.noteMarkError(m, err)
			}
		}
	}
	if needOpen {
		for _, p := range e.openPaths() {
			if err := g.WatchOpen(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				e.noteMarkError(p, err)
			}
		}
	}
	e.cgroups.subscribe(func(cg uint64, id string, added bool) {
		switch {
		case !added:
			e.unmarked.Delete(cg)
		case !e.markContainer(cg, 0):
			e.unmarked.Store(cg, struct{}{})
		}
	})
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := g.Run(ctx); err != nil {
			e.logf("enforce: fanotify decisions stopped: %v", err)
		}
	}()
	return nil
}

// markContainer marks a container's mounts for exec decisions and its
// protected files for open decisions, through one of its processes (pid,
// or any known one when pid is 0) and its view of its own mount
// namespace. It reports false, for a later attempt, when there is no such
// process yet: a runtime's init process joins the container's cgroup
// before it enters the container's mount namespace, and marking through
// it would mark the host's mounts, so that every host exec would wait for
// Vigil, which cannot safely start a program from a mount it watches.
func (e *Enforcer) markContainer(cg uint64, pid uint32) bool {
	exec, open := e.fanExec, e.fanOpen
	if pid == 0 {
		pid = e.cgroups.firstPID(cg)
	}
	if pid == 0 || !inOwnMountNS(pid) {
		return false
	}
	root := hostfs.ProcPID(int(pid)) + "/root"
	if exec {
		for _, m := range execMounts(hostfs.ProcPID(int(pid)) + "/mountinfo") {
			if err := e.fan.WatchExecMount(path.Join(root, m)); err != nil {
				e.noteMarkError(root+m, err)
			}
		}
	}
	if open {
		for _, p := range e.openPaths() {
			if err := e.fan.WatchOpen(root + p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				e.noteMarkError(root+p, err)
			}
		}
	}
	e.stats.markedContainers.Add(1)
	return true
}

// inOwnMountNS reports whether pid runs in a mount namespace other than
// Vigil's own and the host's (pid 1's, where it can be read: some
// sandboxes deny even root that), as a container's processes do.
func inOwnMountNS(pid uint32) bool {
	ns, err := os.Readlink(hostfs.ProcPID(int(pid)) + "/ns/mnt")
	if err != nil {
		return false
	}
	if self, err := os.Readlink("/proc/self/ns/mnt"); err != nil || self == ns {
		return false
	}
	host, err := os.Readlink(hostfs.ProcPID(1) + "/ns/mnt")
	return err != nil || host != ns
}

func (e *Enforcer) noteMarkError(what string, err error) {
	e.stats.markErrors.Add(1)
	e.logf("enforce: cannot watch %s: %v", what, err)
}

func (e *Enforcer) openPaths() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range e.cfg.Plans {
		for _, f := range p.OpenPaths {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// execMounts lists the mount points of a mountinfo file whose file system
// can hold programs.
func execMounts(mountinfo string) []string {
	b, err := os.ReadFile(mountinfo)
	if err != nil {
		return nil
	}
	return parseExecMounts(b)
}

// parseExecMounts reads mountinfo lines ("id parent major:minor root
// mountpoint options [optional...] - fstype source superoptions") and
// returns the mount points that are not pseudo file systems or noexec.
// Malformed lines are skipped.
func parseExecMounts(b []byte) []string {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 6 || sep < 6 || sep+1 >= len(fields) {
			continue
		}
		mp, fstype := unescapeMount(fields[4]), fields[sep+1]
		if pseudoFS[fstype] || hasOption(fields[5], "noexec") || seen[mp] || !strings.HasPrefix(mp, "/") {
			continue
		}
		seen[mp] = true
		out = append(out, mp)
	}
	return out
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decideFan answers a fanotify permission event.
func (e *Enforcer) decideFan(r *fanguard.Request) fanguard.Verdict {
	if e.failDecisions.Load() {
		panic("enforce: decision failure injected by a test")
	}
	now := ktime.Now()
	switch r.Kind {
	case fanguard.Exec:
		x := PendingExec{PID: r.PID, TID: r.TID, Exe: r.Path, Timestamp: now}
		if e.kexec != nil {
			if p, ok := e.kexec.Pending(r.TID); ok {
				x.Argv = p.Argv
				if strings.HasPrefix(p.Filename, "/") {
					x.Filename = p.Filename
				} else if p.Filename != "" {
					x.Filename = p.Filename // relative: only its base name matters
				}
			}
		}
		v := e.DecideExec(x)
		return fanguard.Verdict{Allow: v.Allow, Cacheable: v.Cacheable}
	case fanguard.Open:
		v := e.DecideOpen(PendingOpen{PID: r.PID, TID: r.TID, Path: r.Path, Timestamp: now})
		return fanguard.Verdict{Allow: v.Allow, Cacheable: v.Cacheable}
	}
	return fanguard.Verdict{Allow: true}
}

// scopeOf keys cached verdicts by the process's cgroup: a verdict for a
// program in one container is not reused in another.
func (e *Enforcer) scopeOf(pid uint32) uint64 {
	env := e.cfg.Detector.Env()
	if env.Table != nil {
		if p, ok := env.Table.Get(pid); ok {
			return p.CgroupID
		}
	}
	return 0
}

// onFanFailure reports a decision that could not be made: the operation
// was allowed (fail-open) or denied (fail-closed) without the rules.
func (e *Enforcer) onFanFailure(f fanguard.Failure) {
	outcome := "fail-open"
	if f.Allowed {
		e.stats.failOpen.Add(1)
	} else {
		outcome = "fail-closed"
		e.stats.failClosed.Add(1)
	}
	var what, file string
	var pid uint32
	if f.Request != nil {
		what, file, pid = f.Request.Kind.String(), f.Request.Path, f.Request.PID
		if f.Allowed {
			// The operation goes ahead unjudged. If a rule matches it, the
			// detector says so, marked fail-open, without acting: failing
			// open means the operation is allowed.
			e.decisions.record(decisionKey{tid: f.Request.TID}, ktime.Now())
		}
	}
	msg := fmt.Sprintf("enforcement decision failed (%s): %s of %s by pid %d was %s without evaluating the rules",
		f.Reason, what, file, pid, map[bool]string{true: "allowed", false: "denied"}[f.Allowed])
	if f.Err != nil {
		msg += ": " + f.Err.Error()
	}
	e.emitSystemAlert("Vigil enforcement decision failed", "Error", msg,
		&alert.Enforcement{Action: "block", Mode: "enforce", Outcome: outcome, Mechanism: "fanotify", Error: f.Reason.String()},
		map[string]any{"vigil.reason": f.Reason.String(), "proc.pid": pid, "fd.name": file})
}

// emitSystemAlert sends an alert about Vigil itself.
func (e *Enforcer) emitSystemAlert(rule, priority, output string, en *alert.Enforcement, fields map[string]any) {
	if e.cfg.Emit == nil {
		return
	}
	host := ""
	if env := e.cfg.Detector.Env(); env != nil {
		host = env.Hostname
	}
	e.cfg.Emit(&alert.Alert{Time: time.Now().UTC(), Rule: rule, Priority: priority, Source: alert.InternalSource, Hostname: host,
		Output: output, Tags: []string{"vigil", "enforcement"}, OutputFields: fields, Enforcement: en})
}

// hostMounts returns the mount table that lists the host's mounts and the
// prefix under which they are reached: the agent's own on the host; in a
// container, init's, through its root, since the agent's mount namespace
// is the container's.
func hostMounts() (mountinfo, under string) {
	if hostfs.OnHost() {
		return "/proc/self/mountinfo", ""
	}
	return hostfs.ProcPID(1) + "/mountinfo", hostfs.ProcPID(1) + "/root"
}
