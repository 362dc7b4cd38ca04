package workload

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/proc"
)

// Processes is the part of the process table a Resolver reads: session
// ids and the session leader's executable. *proc.Table implements it.
type Processes interface {
	Get(pid uint32) (proc.Process, bool)
}

var _ Processes = (*proc.Table)(nil)

// Config configures a Resolver. Zero values pick the defaults noted.
type Config struct {
	// Containers identifies containers by cgroup id; nil treats every
	// process as a host process.
	Containers container.Lookuper
	// Processes gives session ids and leaders. Nil reads them from
	// ProcRoot on every call, which is for tools and tests only.
	Processes Processes
	// ProcRoot is where /proc is mounted ("/proc").
	ProcRoot string
	// MaxEntries bounds each cache: cgroups, sessions and host programs
	// (16384 each).
	MaxEntries int
	// Refined, if set, is called when the workload of a cgroup changes
	// from an inferred Kubernetes identity to a different one, typically
	// because the API server's description of the pod arrived: the
	// baseline engine merges what it learned under the guess. It runs on
	// the caller of Resolve, outside the resolver's locks, and must not
	// block.
	Refined func(from, to *Workload)
}

const numShards = 64

// Resolver maps processes to workloads. It is safe for concurrent use.
type Resolver struct {
	cfg      Config
	cgroups  [numShards]cache[uint64, cgEntry]
	sessions [numShards]cache[uint32, sessEntry]
	exes     cache[string, *Workload]
	n        struct{ misses, procReads, unresolved atomic.Uint64 }
}

// cgEntry is what a cgroup resolved to, and from what: when the container
// resolver publishes a new Info for the cgroup, the pointer differs and
// the entry is recomputed.
type cgEntry struct {
	info  *container.Info
	state container.State
	w     *Workload // nil with !perSession: no workload can be named (yet)
	// perSession: a host cgroup without a stable unit (or a host whose
	// unified hierarchy says nothing): the workload depends on the
	// process's session, not on the cgroup.
	perSession bool
}

// sessEntry is the workload of a session, valid while the leader is the
// same process (Serial survives exec and is never reused).
type sessEntry struct {
	serial uint64
	w      *Workload
}

// NewResolver returns a resolver.
func NewResolver(cfg Config) *Resolver {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 16384
	}
	r := &Resolver{cfg: cfg}
	per := max(cfg.MaxEntries/numShards, 16)
	for i := range r.cgroups {
		r.cgroups[i].max = per
		r.sessions[i].max = per
	}
	r.exes.max = cfg.MaxEntries
	return r
}

// Resolve returns the workload of process pid whose event carried
// cgroupID. It is false when no workload can be named yet: a container the
// runtime has not described, or a kernel thread. On a cache hit it does
// not allocate.
func (r *Resolver) Resolve(cgroupID uint64, pid uint32) (*Workload, bool) {
	info, st := container.Host, container.StateHost
	if r.cfg.Containers != nil {
		info, st = r.cfg.Containers.Lookup(cgroupID)
	}
	return r.ResolveInfo(info, st, cgroupID, pid)
}

// ResolveInfo is Resolve for a caller that has already looked the
// container up.
func (r *Resolver) ResolveInfo(info *container.Info, st container.State, cgroupID uint64, pid uint32) (*Workload, bool) {
	sh := &r.cgroups[cgroupID%numShards]
	e, ok := sh.get(cgroupID)
	if !ok || e.info != info || e.state != st {
		r.n.misses.Add(1)
		e = r.refresh(sh, e, ok, info, st, cgroupID, pid)
	}
	if e.perSession {
		return r.session(pid)
	}
	if e.w == nil {
		r.n.unresolved.Add(1)
	}
	return e.w, e.w != nil
}

func (r *Resolver) refresh(sh *cache[uint64, cgEntry], old cgEntry, had bool, info *container.Info, st container.State, cgroupID uint64, pid uint32) cgEntry {
	e := cgEntry{info: info, state: st}
	cacheable := cgroupID != 0
	switch {
	case st == container.StateHost || info == container.Host:
		// A unit read from the unified path belongs to the cgroup. Any
		// other answer (no stable unit, or no unified path, in which case
		// the cgroup id says nothing about the process) is decided per
		// session, so that this one process's answer does not stand for
		// the cgroup.
		unit, v2, ok, read := r.procUnit(pid)
		if v2 && ok {
			e.w = NewUnit(unit)
		} else {
			e.perSession = true
		}
		// A process that is gone says nothing about its cgroup.
		cacheable = cacheable && read
	case st == container.StateComplete:
		e.w, _ = FromContainer(info, st)
	}
	if cacheable {
		sh.put(cgroupID, e)
	}
	if had && old.w != nil && old.w.Inferred && e.w != nil && e.w.ID != old.w.ID && r.cfg.Refined != nil {
		r.cfg.Refined(old.w, e.w)
	}
	return e
}

// session names a host process without a stable unit by its session
// leader's unit (on hosts without a unified hierarchy) or executable, or
// its own executable when the leader is gone.
func (r *Resolver) session(pid uint32) (*Workload, bool) {
	sid, exe, leaderSerial, leaderExe, ok := r.lineage(pid)
	if !ok {
		r.n.unresolved.Add(1)
		return nil, false
	}
	if leaderSerial == 0 {
		return r.exe(exe)
	}
	sh := &r.sessions[sid%numShards]
	if e, ok := sh.get(sid); ok && e.serial == leaderSerial {
		return e.w, true
	}
	var w *Workload
	if unit, _, ok, _ := r.procUnit(sid); ok {
		w = NewUnit(unit)
	} else if leaderExe != "" {
		w, _ = r.exe(leaderExe)
	} else {
		return r.exe(exe)
	}
	sh.put(sid, sessEntry{serial: leaderSerial, w: w})
	return w, true
}

// lineage returns the process's session id and executable, and the
// session leader's serial (0 when the leader is unknown) and executable.
func (r *Resolver) lineage(pid uint32) (sid uint32, exe string, leaderSerial uint64, leaderExe string, ok bool) {
	if r.cfg.Processes == nil {
		return r.lineageFromProc(pid)
	}
	p, found := r.cfg.Processes.Get(pid)
	if !found || p.Exe == "" {
		return 0, "", 0, "", false
	}
	sid, exe = p.SID, p.Exe
	if sid == 0 {
		return sid, exe, 0, "", true
	}
	if l, found := r.cfg.Processes.Get(sid); found && l.Exe != "" {
		return sid, exe, l.Serial, l.Exe, true
	}
	return sid, exe, 0, "", true
}

// lineageFromProc is lineage without a process table. The leader's
// "serial" is its start time plus one, which is as good at telling a
// reused pid apart.
func (r *Resolver) lineageFromProc(pid uint32) (uint32, string, uint64, string, bool) {
	exe, err := os.Readlink(r.path(pid, "exe"))
	if err != nil {
		return 0, "", 0, "", false
	}
	data, err := os.ReadFile(r.path(pid, "stat"))
	if err != nil {
		return 0, "", 0, "", false
	}
	sid, _, ok := statSession(string(data))
	if !ok || sid == 0 {
		return 0, exe, 0, "", ok
	}
	lexe, err := os.Readlink(r.path(sid, "exe"))
	ldata, err2 := os.ReadFile(r.path(sid, "stat"))
	if err != nil || err2 != nil {
		return sid, exe, 0, "", true
	}
	_, start, ok := statSession(string(ldata))
	if !ok {
		return sid, exe, 0, "", true
	}
	return sid, exe, start + 1, lexe, true
}

// statSession reads the session id (field 6) and start time (field 22)
// of a /proc/<pid>/stat line. Fields are counted after the last ')',
// since the command name before it may contain anything.
func statSession(line string) (sid uint32, start uint64, ok bool) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(line[i+1:]) // fields 3, 4, ...
	if len(fields) < 20 {
		return 0, 0, false
	}
	s, err := strconv.ParseUint(fields[6-3], 10, 32)
	if err != nil {
		return 0, 0, false
	}
	st, err := strconv.ParseUint(fields[22-3], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return uint32(s), st, true
}

func (r *Resolver) exe(exe string) (*Workload, bool) {
	if exe == "" {
		r.n.unresolved.Add(1)
		return nil, false
	}
	if w, ok := r.exes.get(exe); ok {
		return w, true
	}
	w := NewExe(exe)
	r.exes.put(w.Exe, w)
	return w, true
}

// procUnit reads the process's systemd unit from /proc (see
// UnitFromProcCgroup); read is false when the file could not be read.
func (r *Resolver) procUnit(pid uint32) (unit string, v2, ok, read bool) {
	if pid == 0 {
		return "", false, false, false
	}
	r.n.procReads.Add(1)
	data, err := os.ReadFile(r.path(pid, "cgroup"))
	if err != nil {
		return "", false, false, false
	}
	unit, v2, ok = UnitFromProcCgroup(string(data))
	return unit, v2, ok, true
}

func (r *Resolver) path(pid uint32, name string) string {
	return r.cfg.ProcRoot + "/" + strconv.FormatUint(uint64(pid), 10) + "/" + name
}

// Cgroups returns the cgroup ids the resolver has seen for workload id,
// the scope a per-cgroup kernel policy (the connect allow-list of
// protect mode) applies to. It scans the cache; it is for the rare
// moments a policy is rebuilt, not for the event path. Host workloads
// decided per session have no cgroups of their own.
func (r *Resolver) Cgroups(id string) []uint64 {
	var out []uint64
	for i := range r.cgroups {
		c := &r.cgroups[i]
		c.mu.RLock()
		for cg, e := range c.m {
			if e.w != nil && e.w.ID == id {
				out = append(out, cg)
			}
		}
		c.mu.RUnlock()
	}
	slices.Sort(out)
	return out
}

// Stats are a resolver's counters.
type Stats struct {
	// Misses counts lookups that computed an identity; hits are not
	// counted, so the event path writes no shared counter.
	Misses     uint64
	ProcReads  uint64 // /proc/<pid>/cgroup reads
	Unresolved uint64 // lookups that could name no workload
}

// Stats returns the counters.
func (r *Resolver) Stats() Stats {
	return Stats{Misses: r.n.misses.Load(), ProcReads: r.n.procReads.Load(),
		Unresolved: r.n.unresolved.Load()}
}

// cache is a bounded map under a read-write lock. When full it is emptied
// rather than trimmed: every entry can be recomputed, and a full cache
// means churn that an LRU would not survive better.
type cache[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]V
	max int
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *cache[K, V]) put(k K, v V) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[K]V)
	}
	c.m[k] = v
	c.mu.Unlock()
}
