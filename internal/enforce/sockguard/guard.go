package sockguard

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"

	"github.com/vigilsec/vigil/internal/bpfobj"
)

// Config tunes a Guard. The zero value is usable: every field has a default.
type Config struct {
	// CgroupRoot is the cgroup v2 directory the programs attach to; every
	// cgroup below inherits them. Default: FindCgroupRoot.
	CgroupRoot string
	// MaxEntries bounds the policy trie. A rule takes one entry, or two
	// when it matches every address. Default 65536.
	MaxEntries int
	// MaxContainers bounds the registered container cgroups. Default 65536.
	MaxContainers int
	// MaxProtected bounds the protected thread groups. Default 1024.
	MaxProtected int
	// RingBufferBytes is the size of the decision ring buffer, rounded up
	// to a power of two of at least one page. Default 256 KiB (3,600
	// decisions).
	RingBufferBytes int
	// AgentPID is the thread group never blocked besides those passed to
	// Protect. Default: this process.
	AgentPID int
}

func (c *Config) setDefaults() error {
	if c.CgroupRoot == "" {
		root, err := FindCgroupRoot()
		if err != nil {
			return err
		}
		c.CgroupRoot = root
	} else if err := isCgroup2(c.CgroupRoot); err != nil {
		return fmt.Errorf("cgroup root: %w", err)
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 65536
	}
	if c.MaxContainers <= 0 {
		c.MaxContainers = 65536
	}
	if c.MaxProtected <= 0 {
		c.MaxProtected = 1024
	}
	if c.RingBufferBytes <= 0 {
		c.RingBufferBytes = 256 << 10
	}
	c.RingBufferBytes = bpfobj.RingSize(c.RingBufferBytes)
	if c.AgentPID <= 0 {
		c.AgentPID = os.Getpid()
	}
	return nil
}

// Guard owns the loaded programs, their cgroup attachments, the policy and
// the decision reader. Its methods are safe for concurrent use.
type Guard struct {
	cfg   Config
	objs  sockguardObjects
	inner *ebpf.MapSpec // template for each new policy trie
	hooks []string
	links bpfobj.Links

	mu         sync.Mutex // serialises policy, container and protection changes
	trie       *ebpf.Map  // the policy currently installed
	rules      int
	entries    int
	containers map[uint64]struct{}
	protected  map[uint32]struct{}

	ring         *bpfobj.Ring
	received     atomic.Uint64
	decodeErrors atomic.Uint64

	closeOnce  sync.Once
	closeErr   error // what Close returns
	closing    atomic.Bool
	finalStats Stats
}

var errClosed = errors.New("sockguard: closed")

type hookSpec struct {
	name   string
	attach ebpf.AttachType
	prog   func(*sockguardObjects) *ebpf.Program
}

var hookSpecs = []hookSpec{
	{"cgroup/connect4", ebpf.AttachCGroupInet4Connect, func(o *sockguardObjects) *ebpf.Program { return o.SgConnect4 }},
	{"cgroup/connect6", ebpf.AttachCGroupInet6Connect, func(o *sockguardObjects) *ebpf.Program { return o.SgConnect6 }},
	{"cgroup/sendmsg4", ebpf.AttachCGroupUDP4Sendmsg, func(o *sockguardObjects) *ebpf.Program { return o.SgSendmsg4 }},
	{"cgroup/sendmsg6", ebpf.AttachCGroupUDP6Sendmsg, func(o *sockguardObjects) *ebpf.Program { return o.SgSendmsg6 }},
}

// Open loads the programs with an empty policy (everything allowed),
// protects the agent's process and attaches to the cgroup v2 root. It needs
// root (CAP_BPF and CAP_NET_ADMIN).
func Open(cfg Config) (*Guard, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	spec, err := loadSockguard()
	if err != nil {
		return nil, fmt.Errorf("load embedded eBPF object: %w", err)
	}
	policy := spec.Maps["policy"]
	policy.InnerMap.MaxEntries = uint32(cfg.MaxEntries)
	spec.Maps["containers"].MaxEntries = uint32(cfg.MaxContainers)
	spec.Maps["protected"].MaxEntries = uint32(cfg.MaxProtected)
	spec.Maps["decisions"].MaxEntries = uint32(cfg.RingBufferBytes)

	g := &Guard{
		cfg:        cfg,
		inner:      policy.InnerMap.Copy(),
		containers: make(map[uint64]struct{}),
		protected:  make(map[uint32]struct{}),
	}
	if err := bpfobj.Load(spec, &g.objs, "sockguard"); err != nil {
		return nil, err
	}
	fail := func(err error) (*Guard, error) {
		return nil, errors.Join(err, g.Close())
	}
	if err := g.Protect(uint32(cfg.AgentPID)); err != nil {
		return fail(err)
	}
	if err := g.Apply(nil); err != nil {
		return fail(err)
	}
	// The programs wake the reader for every decision: no poll ticker.
	if g.ring, err = bpfobj.NewRing(g.objs.Decisions, 0); err != nil {
		return fail(fmt.Errorf("decisions: %w", err))
	}
	for _, h := range hookSpecs {
		if err := g.links.AttachCgroup(cfg.CgroupRoot, h.attach, h.prog(&g.objs)); err != nil {
			return fail(fmt.Errorf("%s: %w", h.name, err))
		}
		g.hooks = append(g.hooks, h.name)
	}
	return g, nil
}

// Apply replaces the whole policy. The new rules go into a fresh trie that
// is swapped in with one map update, so the kernel sees either the old
// policy or the new one, never a mix. On error the old policy stays.
func (g *Guard) Apply(rules []Rule) error {
	entries, err := compile(rules)
	if err != nil {
		return err
	}
	// One more entry for the summary.
	if len(entries)+1 > g.cfg.MaxEntries {
		return fmt.Errorf("policy needs %d trie entries, more than the %d configured (Config.MaxEntries)",
			len(entries)+1, g.cfg.MaxEntries)
	}
	trie, err := ebpf.NewMap(g.inner)
	if err != nil {
		return fmt.Errorf("create policy trie: %w", err)
	}
	for _, e := range entries {
		if err := trie.Put(e.key[:], e.value[:]); err != nil {
			return errors.Join(fmt.Errorf("%s: store in policy trie: %w", e.rule, err), trie.Close())
		}
	}
	if len(entries) > 0 {
		sum := summaryEntry(entries)
		if err := trie.Put(sum.key[:], sum.value[:]); err != nil {
			return errors.Join(fmt.Errorf("store policy summary: %w", err), trie.Close())
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing.Load() {
		return errors.Join(errClosed, trie.Close())
	}
	if err := g.objs.Policy.Put(uint32(0), trie); err != nil {
		return errors.Join(fmt.Errorf("install policy trie: %w", err), trie.Close())
	}
	// Programs still running with the old trie keep it alive until they
	// return; closing our descriptor only drops our reference, and the
	// new policy is in place whatever close says.
	if g.trie != nil {
		_ = g.trie.Close()
	}
	g.trie, g.rules, g.entries = trie, len(rules), len(entries)
	return nil
}

// SetContainer registers (on) or forgets (off) a cgroup as a container, for
// the AllContainers scope. Forgetting an unknown cgroup is not an error.
func (g *Guard) SetContainer(cgroupID uint64, on bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing.Load() {
		return errClosed
	}
	if on {
		if err := g.objs.Containers.Put(cgroupID, uint8(1)); err != nil {
			return fmt.Errorf("register container cgroup %d: %w", cgroupID, err)
		}
		g.containers[cgroupID] = struct{}{}
		return nil
	}
	if err := g.objs.Containers.Delete(cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("forget container cgroup %d: %w", cgroupID, err)
	}
	delete(g.containers, cgroupID)
	return nil
}

// Protect exempts a thread group (a process id) from every rule: its
// connects and sends are neither blocked nor reported.
func (g *Guard) Protect(tgid uint32) error {
	if tgid == 0 {
		return errors.New("protect: process id 0")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing.Load() {
		return errClosed
	}
	if err := g.objs.Protected.Put(tgid, uint8(1)); err != nil {
		return fmt.Errorf("protect process %d: %w", tgid, err)
	}
	g.protected[tgid] = struct{}{}
	return nil
}

// Unprotect ends a Protect, e.g. when the process has exited and its id may
// be reused. The agent's own process stays protected.
func (g *Guard) Unprotect(tgid uint32) error {
	if tgid == uint32(g.cfg.AgentPID) {
		return fmt.Errorf("unprotect %d: the agent's own process is always protected", tgid)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing.Load() {
		return errClosed
	}
	if err := g.objs.Protected.Delete(tgid); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("unprotect process %d: %w", tgid, err)
	}
	delete(g.protected, tgid)
	return nil
}

// Close stops Run (waiting for it to return), detaches the programs and
// releases every kernel object, leaving nothing attached, and returns what
// failed to close (each call, the same). It is safe to call more than
// once, but not from inside Run's callback.
func (g *Guard) Close() error {
	g.closeOnce.Do(func() {
		errs := []error{g.links.Close()}
		g.mu.Lock()
		if g.objs.Counters != nil {
			g.finalStats = g.kernelStats()
		}
		g.closing.Store(true)
		g.mu.Unlock()
		if g.ring != nil {
			errs = append(errs, g.ring.Close())
		}
		if g.trie != nil {
			errs = append(errs, g.trie.Close())
		}
		g.closeErr = errors.Join(append(errs, g.objs.Close())...)
	})
	return g.closeErr
}
