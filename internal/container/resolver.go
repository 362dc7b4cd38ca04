package container

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/hostfs"
)

// Config configures a Resolver. Zero values pick the defaults noted.
type Config struct {
	// Sources are the runtime APIs to ask for metadata. None is valid:
	// lookups then give container ids and runtimes from cgroup paths only.
	Sources []Source
	// Pods adds Kubernetes API metadata to pods; nil uses kubelet's
	// container labels alone.
	Pods PodSource
	// CgroupRoot is where cgroup hierarchies are mounted ("/sys/fs/cgroup").
	CgroupRoot string
	// ProcRoot is where /proc is mounted ("/proc").
	ProcRoot string
	// MaxContainers bounds the container cache (4096); MaxCgroups the
	// cgroup-id cache (16384).
	MaxContainers int
	MaxCgroups    int
	// QueueLen bounds the queue of pending runtime inspections (1024).
	QueueLen int
	// Workers is the number of goroutines inspecting containers (2).
	Workers int
	// RequestTimeout bounds each runtime API call (2s).
	RequestTimeout time.Duration
	// StartTimeout bounds the initial listing in Start (5s).
	StartTimeout time.Duration
	// RetryAfter is how long a container whose metadata could not be had
	// waits before a lookup asks again (10s).
	RetryAfter time.Duration
	// DeadGrace is how long a dead container stays cached, so that events
	// still in flight when it died are attributed (30s).
	DeadGrace time.Duration
	// Logger receives failures; nil means slog.Default().
	Logger *slog.Logger
}

func (c *Config) defaults() {
	setDefault(&c.CgroupRoot, hostfs.Path("/sys/fs/cgroup"))
	setDefault(&c.ProcRoot, hostfs.Proc())
	setDefault(&c.MaxContainers, 4096)
	setDefault(&c.MaxCgroups, 16384)
	setDefault(&c.QueueLen, 1024)
	setDefault(&c.Workers, 2)
	setDefault(&c.RequestTimeout, 2*time.Second)
	setDefault(&c.StartTimeout, 5*time.Second)
	setDefault(&c.RetryAfter, 10*time.Second)
	setDefault(&c.DeadGrace, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Resolver maps cgroup ids to container identity. Lookup and WaitFor are
// safe for concurrent use; Start and Close are called once each.
type Resolver struct {
	cfg Config
	log *slog.Logger
	fs  *cgroupFS

	mu      sync.RWMutex
	cgroups map[uint64]*cgEntry
	ctrs    map[string]*ctrEntry

	chMu    sync.Mutex
	changed chan struct{} // closed and replaced whenever an entry is published

	queue   chan *ctrEntry
	walkReq chan struct{}
	n       counters

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a resolver. It does not talk to any runtime until Start.
func New(cfg Config) *Resolver {
	cfg.defaults()
	return &Resolver{
		cfg: cfg, log: cfg.Logger,
		fs:      openCgroupFS(cfg.CgroupRoot, cfg.MaxCgroups),
		cgroups: make(map[uint64]*cgEntry),
		ctrs:    make(map[string]*ctrEntry),
		changed: make(chan struct{}),
		queue:   make(chan *ctrEntry, cfg.QueueLen),
		walkReq: make(chan struct{}, 1),
	}
}

// HasCgroupV2 reports whether a unified hierarchy is mounted, which is what
// Lookup by cgroup id needs. Without it (v1-only hosts) every event carries
// the same cgroup id, and identity must come from LookupPID.
func (r *Resolver) HasCgroupV2() bool { return r.fs.available() }

// Start lists the running containers of every source and inspects them,
// waiting at most StartTimeout, then follows the runtimes' event streams
// until Close. A source that fails is logged and counted, never fatal: its
// containers are still identified by id.
func (r *Resolver) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	lctx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout)
	var wg sync.WaitGroup
	for _, s := range r.cfg.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.resync(lctx, s, true)
		}()
	}
	wg.Wait()
	cancel()
	if r.cfg.Pods != nil {
		r.cfg.Pods.Subscribe(r.podChanged)
	}
	for range r.cfg.Workers {
		r.spawn(func() { r.fetchLoop(ctx) })
	}
	for _, s := range r.cfg.Sources {
		r.spawn(func() { r.watchLoop(ctx, s) })
	}
	r.spawn(func() { r.walkLoop(ctx) })
	r.spawn(func() { r.janitor(ctx) })
	return nil
}

func (r *Resolver) spawn(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}

// Close stops the resolver's goroutines. Lookups keep answering from the
// cache afterwards.
func (r *Resolver) Close() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	r.fs.close()
}

// Lookup returns the identity of the container whose cgroup has this id,
// and how much of it is known. It never blocks on a runtime: a cgroup seen
// for the first time costs one open_by_handle_at, and metadata not cached
// yet is fetched in the background (StatePending) while the id and
// runtime, read from the cgroup path, are returned at once. On a cache hit
// it does not allocate. The Info is never nil and must not be modified.
func (r *Resolver) Lookup(cgroupID uint64) (*Info, State) {
	return r.lookup(cgroupID, true)
}

func (r *Resolver) lookup(cgroupID uint64, count bool) (*Info, State) {
	r.mu.RLock()
	e := r.cgroups[cgroupID]
	r.mu.RUnlock()
	if e != nil && e.resolved {
		if e.ctr == nil {
			return Host, StateHost
		}
		return r.current(e.ctr, count)
	}
	return r.miss(cgroupID, e, count)
}

// current reads a container's published identity and, when it is
// incomplete, counts that and schedules a retry if one is due.
func (r *Resolver) current(c *ctrEntry, count bool) (*Info, State) {
	p := c.pub.Load()
	if p.state == StateComplete {
		return p.info, p.state
	}
	if count {
		r.n.notYetKnown.Add(1)
	}
	if p.state == StateIDOnly && c.retryDue(time.Now().UnixNano(), r.cfg.RetryAfter) {
		r.enqueue(c)
	}
	return p.info, p.state
}

// miss resolves a cgroup id not cached yet (or cached as unresolved and due
// for another try).
func (r *Resolver) miss(cgroupID uint64, e *cgEntry, count bool) (*Info, State) {
	now := time.Now().UnixNano()
	if cgroupID == 0 || (e != nil && now < e.retryAt) {
		if count {
			r.n.unresolved.Add(1)
		}
		return unresolved, StateUnknown
	}
	r.n.cgroupMisses.Add(1)
	path, err := r.fs.byHandle(cgroupID)
	if err == nil {
		r.n.handleResolves.Add(1)
		c := r.attach(cgroupID, path)
		if c == nil {
			return Host, StateHost
		}
		return r.current(c, count)
	}
	if errors.Is(err, errors.ErrUnsupported) {
		r.requestWalk()
	}
	// Remember the failure briefly so a burst of events from a vanished
	// cgroup does not repeat the system call for each.
	r.mu.Lock()
	if cur := r.cgroups[cgroupID]; cur == nil || !cur.resolved { // a walk may have just resolved it
		r.putCgroup(cgroupID, &cgEntry{retryAt: now + int64(time.Second)})
	}
	r.mu.Unlock()
	if count {
		r.n.unresolved.Add(1)
	}
	return unresolved, StateUnknown
}

// LookupPID identifies a process's container from /proc/<pid>/cgroup, for
// hosts without a unified hierarchy (see HasCgroupV2), where cgroup v1
// paths are the only source. It reads a file and allocates: call it once
// per process (at exec, say) and keep the answer, not once per event.
func (r *Resolver) LookupPID(pid uint32) (*Info, State) {
	r.n.procFallbacks.Add(1)
	b, err := os.ReadFile(filepath.Join(r.cfg.ProcRoot, strconv.FormatUint(uint64(pid), 10), "cgroup"))
	if err != nil {
		r.n.unresolved.Add(1)
		return unresolved, StateUnknown
	}
	m, ok := ParseProcCgroup(string(b))
	if !ok {
		return Host, StateHost
	}
	return r.current(r.ensure(m.ID, m.Runtime, m.PodUID), true)
}
