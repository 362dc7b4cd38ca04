// Package sensor loads Vigil's eBPF programs, attaches them to the kernel's
// scheduler and syscall tracepoints, and streams decoded events from the
// ring buffer.
package sensor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"

	"github.com/vigilsec/vigil/internal/bpfobj"
	"github.com/vigilsec/vigil/internal/decode"
	"github.com/vigilsec/vigil/internal/event"
)

// Config tunes the sensor. The zero value is usable: every field has a
// default.
type Config struct {
	// RingBufferBytes is the size of the kernel-to-user ring buffer. It is
	// rounded up to a power of two of at least one page. Default 8 MiB.
	RingBufferBytes int
	// WakeupBytes is how much data must wait in the ring before the kernel
	// wakes the reader; smaller batches are picked up every PollInterval.
	// Default 64 KiB.
	WakeupBytes int
	// PollInterval bounds how long a small batch waits. Default 20 ms: at
	// low event rates every wake-up costs more than the events it collects,
	// and a busy ring wakes the reader through WakeupBytes long before.
	PollInterval time.Duration
	// Syscalls names the syscalls to capture at exit (see
	// syscalls.Supported). Process lifecycle events are always captured.
	Syscalls []string
	// IgnorePID is the process whose own activity is filtered in the
	// kernel. Default: this process.
	IgnorePID int
	// PayloadBytes is how much of the data of read, write, sendto and
	// recvfrom to copy into events (evt.buffer). 0, the default, copies
	// none; at most 4096.
	PayloadBytes int
}

func (c *Config) setDefaults() {
	if c.RingBufferBytes <= 0 {
		c.RingBufferBytes = 8 << 20
	}
	c.RingBufferBytes = bpfobj.RingSize(c.RingBufferBytes)
	if c.WakeupBytes <= 0 {
		c.WakeupBytes = 64 << 10
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 20 * time.Millisecond
	}
	if c.IgnorePID == 0 {
		c.IgnorePID = os.Getpid()
	}
}

// Stats counts what the sensor saw and lost.
type Stats struct {
	Received     uint64            // records read from the ring buffer
	DecodeErrors uint64            // records that failed to decode
	KernelDrops  map[string]uint64 // by event kind, plus "stash" for full argument stashes
}

// TotalKernelDrops sums KernelDrops.
func (s Stats) TotalKernelDrops() uint64 {
	var n uint64
	for _, v := range s.KernelDrops {
		n += v
	}
	return n
}

// Sensor owns the loaded eBPF objects, their attachments and the ring-buffer
// reader.
type Sensor struct {
	cfg    Config
	objs   vigilObjects
	links  bpfobj.Links
	ring   *bpfobj.Ring
	filter *filter

	received     atomic.Uint64
	decodeErrors atomic.Uint64

	closeOnce sync.Once
	done      chan struct{} // closed by Close
	// finalDrops holds the kernel's drop counters as read just before the
	// maps were closed, so Stats stays complete after Close.
	finalDrops map[string]uint64
	closeErr   error // what Close returns
}

// Open loads and attaches the programs. It needs root (CAP_BPF and
// CAP_PERFMON) and a kernel with BTF.
func Open(cfg Config) (*Sensor, error) {
	cfg.setDefaults()
	spec, err := loadVigil()
	if err != nil {
		return nil, fmt.Errorf("load embedded eBPF object: %w", err)
	}
	spec.Maps["events"].MaxEntries = uint32(cfg.RingBufferBytes)
	if err := spec.Variables["agent_tgid"].Set(uint32(cfg.IgnorePID)); err != nil {
		return nil, fmt.Errorf("set agent_tgid: %w", err)
	}
	if err := spec.Variables["wakeup_bytes"].Set(uint64(cfg.WakeupBytes)); err != nil {
		return nil, fmt.Errorf("set wakeup_bytes: %w", err)
	}
	if err := spec.Variables["buf_max"].Set(uint32(min(max(cfg.PayloadBytes, 0), 4096))); err != nil {
		return nil, fmt.Errorf("set buf_max: %w", err)
	}

	s := &Sensor{cfg: cfg, done: make(chan struct{})}
	if err := bpfobj.Load(spec, &s.objs, "sensor"); err != nil {
		return nil, err
	}
	s.filter = &filter{m: s.objs.SyscallFilter}
	if err := s.filter.set(cfg.Syscalls); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	attach := []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_fork", s.objs.VigilFork},
		{"sched_process_exec", s.objs.VigilExec},
		{"sched_process_exit", s.objs.VigilExit},
		{"sys_enter", s.objs.VigilSysEnter},
		{"sys_exit", s.objs.VigilSysExit},
	}
	for _, a := range attach {
		if err := s.links.AttachRawTracepoint(a.name, a.prog); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	// The kernel wakes the reader only for large batches (WakeupBytes);
	// the ring's ticker collects small ones.
	s.ring, err = bpfobj.NewRing(s.objs.Events, cfg.PollInterval)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// SetSyscalls replaces the set of syscalls captured at exit. Syscalls not
// listed cost only the bare tracepoint hook.
func (s *Sensor) SetSyscalls(names []string) error { return s.filter.set(names) }

// Syscalls returns the names currently captured.
func (s *Sensor) Syscalls() []string { return s.filter.names() }

// Run reads events until Close is called, handing each decoded event to
// sink. sink owns the event and must Release it. idle, if not nil, is called
// whenever the ring buffer has been drained, so a consumer can batch its own
// hand-offs. Run must not be called twice.
func (s *Sensor) Run(sink func(*event.Event), idle func()) error {
	err := s.ring.Run(context.Background(), func(rec []byte) {
		s.received.Add(1)
		ev := event.New()
		if err := decode.Decode(rec, ev); err != nil {
			s.decodeErrors.Add(1)
			ev.Release()
			return
		}
		sink(ev)
	}, idle)
	if err != nil {
		return fmt.Errorf("sensor: %w", err)
	}
	return nil
}

var dropNames = [...]string{"stash", "fork", "exec", "exit", "open", "socket", "syscall"}

// Stats returns the sensor's counters, reading the kernel's per-CPU drop
// counters.
func (s *Sensor) Stats() Stats {
	st := Stats{
		Received:     s.received.Load(),
		DecodeErrors: s.decodeErrors.Load(),
	}
	select {
	case <-s.done:
		st.KernelDrops = s.finalDrops
	default:
		st.KernelDrops = s.readDrops()
	}
	return st
}

func (s *Sensor) readDrops() map[string]uint64 {
	drops := make(map[string]uint64, len(dropNames))
	for i, name := range dropNames {
		var perCPU []uint64
		if err := s.objs.Drops.Lookup(uint32(i), &perCPU); err != nil {
			continue
		}
		var n uint64
		for _, v := range perCPU {
			n += v
		}
		drops[name] = n
	}
	return drops
}

// Close stops Run (waiting for it to return), detaches the programs and
// releases every kernel object, and returns what failed to close (each
// call, the same). It is safe to call more than once, but not from inside
// Run's sink.
func (s *Sensor) Close() error {
	s.closeOnce.Do(func() {
		if s.objs.Drops != nil {
			s.finalDrops = s.readDrops()
		}
		close(s.done)
		var ringErr error
		if s.ring != nil {
			ringErr = s.ring.Close()
		}
		s.closeErr = errors.Join(ringErr, s.links.Close(), s.objs.Close())
	})
	return s.closeErr
}
