package execguard

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"

	"github.com/vigilsec/vigil/internal/bpfobj"
)

// Config selects what the guard attaches and sizes its maps. The zero value
// attaches everything with default sizes.
type Config struct {
	// SkipArgv leaves the sys_enter/sys_exit argv capture detached.
	SkipArgv bool
	// SkipKill leaves the deny-set check detached. The sched_process_exec
	// program is still attached when argv capture is on, to clean up after
	// execs from non-leader threads.
	SkipKill bool
	// IgnorePID is Vigil's own process: never captured, never killed.
	// Default: this process.
	IgnorePID int
	// PendingEntries bounds the execs in flight whose argv is kept (each
	// costs about 8 KiB of kernel memory). Default 1024.
	PendingEntries int
	// MaxRules bounds SetKillRules. Default 4096.
	MaxRules int
	// MaxContainers bounds SetContainer. Default 16384.
	MaxContainers int
	// RingBufferBytes sizes the kill-record ring buffer (a power of two of
	// at least a page). Default 256 KiB.
	RingBufferBytes int
}

func (c *Config) setDefaults() {
	if c.IgnorePID == 0 {
		c.IgnorePID = os.Getpid()
	}
	if c.PendingEntries <= 0 {
		c.PendingEntries = 1024
	}
	if c.MaxRules <= 0 {
		c.MaxRules = 4096
	}
	if c.MaxContainers <= 0 {
		c.MaxContainers = 16384
	}
	if c.RingBufferBytes <= 0 {
		c.RingBufferBytes = 256 << 10
	}
	c.RingBufferBytes = bpfobj.RingSize(c.RingBufferBytes)
}

// Guard owns the loaded object, its attachments and the kill-record reader.
type Guard struct {
	cfg   Config
	objs  execguardObjects
	links bpfobj.Links
	ring  *bpfobj.Ring

	mu         sync.Mutex // serialises deny-set swaps
	rules      int
	generation uint64

	received     atomic.Uint64
	decodeErrors atomic.Uint64
	closeOnce    sync.Once
	closeErr     error
}

// Open loads the object and attaches the parts cfg asks for. It needs root
// (CAP_BPF, CAP_PERFMON) and a kernel with BTF and bpf_loop.
func Open(cfg Config) (*Guard, error) {
	cfg.setDefaults()
	if cfg.SkipArgv && cfg.SkipKill {
		return nil, errors.New("execguard: config skips both argv capture and kill: nothing to attach")
	}
	spec, err := loadExecguard()
	if err != nil {
		return nil, fmt.Errorf("execguard: load embedded eBPF object: %w", err)
	}
	spec.Maps["pending"].MaxEntries = uint32(cfg.PendingEntries)
	spec.Maps["containers"].MaxEntries = uint32(cfg.MaxContainers)
	spec.Maps["kill_events"].MaxEntries = uint32(cfg.RingBufferBytes)
	if err := spec.Variables["agent_tgid"].Set(uint32(cfg.IgnorePID)); err != nil {
		return nil, fmt.Errorf("execguard: set agent_tgid: %w", err)
	}
	g := &Guard{cfg: cfg}
	if err := bpfobj.Load(spec, &g.objs, "exec guard"); err != nil {
		return nil, fmt.Errorf("execguard: %w", err)
	}
	type attachment struct {
		tracepoint string
		prog       *ebpf.Program
	}
	var attach []attachment
	if !cfg.SkipArgv {
		attach = append(attach,
			attachment{"sys_enter", g.objs.ExecguardSysEnter},
			attachment{"sys_exit", g.objs.ExecguardSysExit})
	}
	attach = append(attach, attachment{"sched_process_exec", g.objs.ExecguardExec})
	for _, a := range attach {
		if err := g.links.AttachRawTracepoint(a.tracepoint, a.prog); err != nil {
			return nil, errors.Join(fmt.Errorf("execguard: %w", err), g.Close())
		}
	}
	// The programs wake the reader for every record: no poll ticker.
	g.ring, err = bpfobj.NewRing(g.objs.KillEvents, 0)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("execguard: kill records: %w", err), g.Close())
	}
	return g, nil
}

// Close detaches every program, stops Run (waiting for it to return) and
// frees the maps. It is safe to call more than once, but not from inside
// Run's fn.
func (g *Guard) Close() error {
	g.closeOnce.Do(func() {
		errs := []error{g.links.Close()}
		if g.ring != nil {
			errs = append(errs, g.ring.Close())
		}
		errs = append(errs, g.objs.Close())
		g.closeErr = errors.Join(errs...)
	})
	return g.closeErr
}
