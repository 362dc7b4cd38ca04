package fanguard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Decider decides one request. It runs on a worker goroutine and may block,
// but only Config.Timeout is waited for: a later answer is discarded.
type Decider func(*Request) Verdict

// Verdict is a Decider's answer. Cacheable lets the guard reuse it for the
// same file (same device, inode, mtime and ctime) in the same scope until
// the cache's TTL or ResetCache.
type Verdict struct {
	Allow     bool
	Cacheable bool
}

// Config configures a Guard. Only Decide is required.
type Config struct {
	// Decide decides every event the cache and protection do not answer.
	Decide Decider
	// Timeout bounds each decision, counted from reading the event
	// (default 200ms).
	Timeout time.Duration
	// FailClosed denies on failure (timeout, panic, full queue); the
	// default allows, so a broken agent never stops the machine.
	FailClosed bool
	// Workers run the Decider (default 4); QueueLen bounds the events
	// waiting for them (default 1024).
	Workers  int
	QueueLen int
	// Scope, if set, keys the cache by more than the file, e.g. the
	// container's cgroup id, so a verdict for one container is not reused
	// for another. It runs on the reader for every cacheable event, with
	// the thread-group id: it must be fast and must not block.
	Scope func(pid uint32) uint64
	// CacheSize bounds the verdict cache (default 8192 entries; negative
	// turns the cache off); CacheTTL bounds an entry's life (default 30s).
	CacheSize int
	CacheTTL  time.Duration
	// OnFailure, if set, hears about each failed decision. It runs on its
	// own goroutine behind a bounded queue; reports that do not fit are
	// counted in Stats.FailureDrops.
	OnFailure func(Failure)
}

// Defaults for the zero Config fields.
const (
	DefaultTimeout   = 200 * time.Millisecond
	DefaultWorkers   = 4
	DefaultQueueLen  = 1024
	DefaultCacheSize = 8192
	DefaultCacheTTL  = 30 * time.Second
)

// readBufSize bounds one read: each record costs the kernel an open fd, so a
// small buffer also bounds the fds a burst hands us at once (170 records).
const readBufSize = 4096

// Guard is a fanotify permission listener. Create it with New, add marks,
// and call Run; Close stops it.
type Guard struct {
	cfg       Config
	file      *os.File // the fanotify group; closing it allows all pending
	reportTID bool
	self      uint32
	protected atomic.Pointer[map[uint32]struct{}]
	protectMu sync.Mutex
	cache     *verdictCache // nil when off
	queue     chan *pending
	failures  chan Failure
	stats     counters

	// inflight holds the events handed to workers and not yet answered,
	// so that Close can answer them.
	inflightMu sync.Mutex
	inflight   map[*pending]struct{}

	closing    atomic.Bool
	done       chan struct{} // closed when reading stops: workers exit
	stopOnce   sync.Once
	stopErr    error // set in stopOnce
	finishOnce sync.Once
	finishErr  error // set in finishOnce
	runMu      sync.Mutex
	started    bool
	runDone    chan struct{}
}

// New creates the fanotify group (FAN_CLASS_CONTENT, with FAN_REPORT_TID
// when the kernel takes it) and starts the workers. It needs
// CAP_SYS_ADMIN.
func New(cfg Config) (*Guard, error) {
	if cfg.Decide == nil {
		return nil, errors.New("fanguard: Config.Decide is nil")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	fd, reportTID, err := initGroup()
	if err != nil {
		return nil, err
	}
	g := &Guard{
		cfg:       cfg,
		file:      os.NewFile(uintptr(fd), "fanotify"),
		reportTID: reportTID,
		self:      uint32(os.Getpid()),
		queue:     make(chan *pending, cfg.QueueLen),
		inflight:  make(map[*pending]struct{}),
		done:      make(chan struct{}),
		runDone:   make(chan struct{}),
	}
	g.protected.Store(&map[uint32]struct{}{})
	if cfg.CacheSize > 0 {
		g.cache = newVerdictCache(cfg.CacheSize, cfg.CacheTTL)
	}
	if cfg.OnFailure != nil {
		g.failures = make(chan Failure, failureQueueLen)
		go g.runFailureCallback()
	}
	for range cfg.Workers {
		go g.work()
	}
	return g, nil
}

// initGroup opens a content-class group, asking for thread ids first.
// FAN_REPORT_TID (5.13+) is accepted with permission events; older kernels
// refuse the flag with EINVAL and report thread-group ids instead.
func initGroup() (fd int, reportTID bool, err error) {
	const flags = unix.FAN_CLASS_CONTENT | unix.FAN_CLOEXEC | unix.FAN_NONBLOCK
	const eventFlags = unix.O_RDONLY | unix.O_LARGEFILE | unix.O_CLOEXEC
	fd, err = unix.FanotifyInit(flags|unix.FAN_REPORT_TID, eventFlags)
	if err == nil {
		return fd, true, nil
	}
	if err != unix.EINVAL {
		return -1, false, fmt.Errorf("fanguard: fanotify_init: %w", err)
	}
	fd, err = unix.FanotifyInit(flags, eventFlags)
	if err != nil {
		return -1, false, fmt.Errorf("fanguard: fanotify_init: %w", err)
	}
	return fd, false, nil
}

// ReportsTID says whether events carry thread ids (FAN_REPORT_TID) or only
// thread-group ids.
func (g *Guard) ReportsTID() bool { return g.reportTID }

// WatchExecMount asks about every exec of a file on the mount that holds
// path. For a container, pass /proc/<pid>/root: the path resolves to the
// container's root mount, so its overlay is marked.
func (g *Guard) WatchExecMount(path string) error {
	return g.mark(unix.FAN_MARK_ADD|unix.FAN_MARK_MOUNT, unix.FAN_OPEN_EXEC_PERM, path, "WatchExecMount")
}

// UnwatchExecMount removes a WatchExecMount mark. A mount that is gone
// (a stopped container) took its mark with it.
func (g *Guard) UnwatchExecMount(path string) error {
	return g.mark(unix.FAN_MARK_REMOVE|unix.FAN_MARK_MOUNT, unix.FAN_OPEN_EXEC_PERM, path, "UnwatchExecMount")
}

// WatchOpen asks about every open of the file at path. A directory covers
// the files directly inside it (FAN_EVENT_ON_CHILD), not deeper ones.
func (g *Guard) WatchOpen(path string) error {
	mask, err := openMask(path)
	if err != nil {
		return fmt.Errorf("fanguard: WatchOpen %s: %w", path, err)
	}
	return g.mark(unix.FAN_MARK_ADD, mask, path, "WatchOpen")
}

// UnwatchOpen removes a WatchOpen mark.
func (g *Guard) UnwatchOpen(path string) error {
	mask, err := openMask(path)
	if err != nil {
		return fmt.Errorf("fanguard: UnwatchOpen %s: %w", path, err)
	}
	return g.mark(unix.FAN_MARK_REMOVE, mask, path, "UnwatchOpen")
}

func openMask(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.FAN_OPEN_PERM | unix.FAN_EVENT_ON_CHILD, nil
	}
	return unix.FAN_OPEN_PERM, nil
}

func (g *Guard) mark(flags uint, mask uint64, path, op string) error {
	if g.closing.Load() {
		return fmt.Errorf("fanguard: %s %s: guard closed", op, path)
	}
	err := g.withFd(func(fd int) error {
		return unix.FanotifyMark(fd, flags, mask, unix.AT_FDCWD, path)
	})
	if err != nil {
		return fmt.Errorf("fanguard: %s %s: %w", op, path, err)
	}
	return nil
}

// withFd runs fn on the group's fd while the file is open, so fn never sees
// a closed or reused descriptor.
func (g *Guard) withFd(fn func(fd int) error) error {
	rc, err := g.file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// Protect exempts a thread group from enforcement: its events are allowed
// without asking the Decider. The guard's own process is always exempt.
func (g *Guard) Protect(tgid uint32) { g.updateProtected(tgid, true) }

// Unprotect ends a Protect.
func (g *Guard) Unprotect(tgid uint32) { g.updateProtected(tgid, false) }

// updateProtected copies the set on write: the reader checks it on every
// event without a lock.
func (g *Guard) updateProtected(tgid uint32, add bool) {
	g.protectMu.Lock()
	defer g.protectMu.Unlock()
	old := *g.protected.Load()
	next := make(map[uint32]struct{}, len(old)+1)
	for k := range old {
		next[k] = struct{}{}
	}
	if add {
		next[tgid] = struct{}{}
	} else {
		delete(next, tgid)
	}
	g.protected.Store(&next)
}

func (g *Guard) isProtected(tgid uint32) bool {
	if tgid == g.self {
		return true
	}
	_, ok := (*g.protected.Load())[tgid]
	return ok
}

// ResetCache forgets every cached verdict; decisions already running when
// it is called are not cached either. Call it when the rules change.
func (g *Guard) ResetCache() {
	if g.cache != nil {
		g.cache.reset()
	}
}

// Stats returns a snapshot of the counters.
func (g *Guard) Stats() Stats { return g.stats.snapshot() }

// Run reads events until ctx ends or Close is called, answering each one
// exactly once. When Run returns the guard is closed: a group nobody reads
// would leave every watched exec waiting. It returns ctx's error when ctx
// ended it, nil after Close, or the error that stopped reading.
func (g *Guard) Run(ctx context.Context) error {
	g.runMu.Lock()
	if g.started {
		g.runMu.Unlock()
		return errors.New("fanguard: Run called twice or after Close")
	}
	g.started = true
	g.runMu.Unlock()
	defer close(g.runDone)
	stop := context.AfterFunc(ctx, g.stopReading)
	defer stop()

	err := g.readLoop(ctx)
	g.stopReading()
	g.finish()
	return err
}

func (g *Guard) readLoop(ctx context.Context) error {
	buf := make([]byte, readBufSize)
	for {
		n, err := g.file.Read(buf)
		received := time.Now()
		if err != nil {
			if g.closing.Load() {
				return ctx.Err()
			}
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue
			}
			// The kernel denied the event it failed to open (EMFILE,
			// ENFILE...) and kept the rest queued: go on reading.
			g.stats.readErrors.Add(1)
			g.reportFailure(Failure{Reason: ReadError, Err: err})
			continue
		}
		if err := g.handleBuffer(buf[:n], received); err != nil {
			return err
		}
	}
}

// handleBuffer answers every record in buf. A record it cannot walk past is
// fatal: whatever follows it holds fds and events we cannot name, so the
// guard shuts down and the kernel allows them.
func (g *Guard) handleBuffer(buf []byte, received time.Time) error {
	off := 0
	for len(buf) > 0 {
		ev, rest, err := nextEvent(buf, off)
		if err != nil {
			return err
		}
		off += len(buf) - len(rest)
		buf = rest
		g.handle(ev, received)
	}
	return nil
}

// Close removes the marks and answers every pending event with allow: those
// waiting for a worker or a Decider, and those still queued in the kernel.
// It does not rely on the kernel allowing them when the group closes: a
// child forked by this process and blocked in its exec holds a copy of the
// group's fd, which keeps the group open. Deciders still running are not
// waited for; their results are discarded. It returns what failed in
// removing the marks, waking the reader or closing the group.
func (g *Guard) Close() error {
	g.runMu.Lock()
	running := g.started
	g.started = true // no Run after Close
	g.runMu.Unlock()
	g.stopReading()
	if running {
		<-g.runDone
	} else {
		g.finish()
	}
	// Both onces have run: stopReading above, finish here or in Run.
	return errors.Join(g.stopErr, g.finishErr)
}

// stopReading flushes the marks, so no new event is generated, stops the
// workers and wakes the reader.
func (g *Guard) stopReading() {
	g.stopOnce.Do(func() {
		g.closing.Store(true)
		// Marks left in place keep events coming until the group
		// closes; finish answers those it still reads.
		err := g.withFd(func(fd int) error {
			return errors.Join(
				unix.FanotifyMark(fd, unix.FAN_MARK_FLUSH|unix.FAN_MARK_MOUNT, 0, unix.AT_FDCWD, "/"),
				unix.FanotifyMark(fd, unix.FAN_MARK_FLUSH, 0, unix.AT_FDCWD, "/"))
		})
		close(g.done)
		err = errors.Join(err, g.file.SetReadDeadline(time.Unix(1, 0)))
		if err != nil {
			g.stopErr = fmt.Errorf("fanguard: stop reading: %w", err)
		}
	})
}

// finish runs once the reader has stopped: it answers what the kernel still
// queues and what the workers hold, then closes the group.
func (g *Guard) finish() {
	g.finishOnce.Do(func() {
		buf := make([]byte, readBufSize)
		for {
			var n int
			err := g.withFd(func(fd int) (err error) {
				n, err = unix.Read(fd, buf) // non-blocking: ends with EAGAIN
				return err
			})
			if err != nil || n <= 0 {
				break
			}
			if g.handleBuffer(buf[:n], time.Now()) != nil {
				break
			}
		}
		for _, p := range g.takeInflight() {
			p.stopTimer()
			g.respond(p.fd, true, p.req.Received, answerClosing)
		}
		if err := g.file.Close(); err != nil {
			g.finishErr = fmt.Errorf("fanguard: close the group: %w", err)
		}
	})
}
