// Package eventjson renders kernel events as the JSON lines `vigil events`
// prints (documented in docs/events.md): kernel timestamps as wall time, the
// process-table view of the process and its ancestry, and the container.
// Alerts have their own shape, in package alert.
package eventjson

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/workload"
)

// Event is the JSON shape of one event in `vigil events`, documented in
// docs/events.md.
type Event struct {
	Time      time.Time  `json:"time"`
	TS        uint64     `json:"ts"`
	Type      string     `json:"type"`
	Kind      string     `json:"kind"`
	PID       uint32     `json:"pid"`
	TID       uint32     `json:"tid"`
	PPID      uint32     `json:"ppid"`
	Comm      string     `json:"comm"`
	CgroupID  uint64     `json:"cgroup_id"`
	Ret       int64      `json:"ret"`
	Fork      *Fork      `json:"fork,omitempty"`
	Exec      *Exec      `json:"exec,omitempty"`
	Exit      *Exit      `json:"exit,omitempty"`
	Open      *Open      `json:"open,omitempty"`
	Socket    *Socket    `json:"socket,omitempty"`
	Syscall   *Syscall   `json:"syscall,omitempty"`
	Process   *Process   `json:"process,omitempty"`
	Container *Container `json:"container,omitempty"`
	Workload  *Workload  `json:"workload,omitempty"`
}

// Workload names the workload of the event's process, the identity
// learned baselines are kept under: replicas and restarts share it.
type Workload struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// WorkloadResolver names the workload of a process
// (*workload.Resolver implements it).
type WorkloadResolver interface {
	Resolve(cgroupID uint64, pid uint32) (*workload.Workload, bool)
}

func workloadJSON(ev *event.Event, r WorkloadResolver) *Workload {
	w, ok := r.Resolve(ev.CgroupID, ev.PID)
	if !ok {
		return nil
	}
	return &Workload{ID: w.ID, Name: w.Name}
}

// Container names the workload of a process in a container: the id and
// runtime come from the cgroup at once, the rest when the runtime answered.
type Container struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Runtime   string `json:"runtime"`
	Image     string `json:"image,omitempty"`
	Pod       string `json:"k8s_pod,omitempty"`
	Namespace string `json:"k8s_ns,omitempty"`
}

func containerJSON(ev *event.Event, containers container.Lookuper) *Container {
	info, st := containers.Lookup(ev.CgroupID)
	if st == container.StateHost || info == nil || info == container.Host {
		return nil
	}
	j := &Container{ID: info.ShortID(), Name: info.Name, Runtime: info.Type(), Image: info.Image.Name}
	if info.Pod != nil {
		j.Pod, j.Namespace = info.Pod.Name, info.Pod.Namespace
	}
	return j
}

// Fork is the fork body.
type Fork struct {
	ChildPID uint32 `json:"child_pid"`
	ChildTID uint32 `json:"child_tid"`
	Thread   bool   `json:"thread"`
}

// Exec is the exec body.
type Exec struct {
	Filename      string   `json:"filename"`
	Exe           string   `json:"exe"`
	Args          []string `json:"args"`
	ArgsTruncated bool     `json:"args_truncated,omitempty"`
	Cwd           string   `json:"cwd"`
	UID           uint32   `json:"uid"`
	GID           uint32   `json:"gid"`
	EUID          uint32   `json:"euid"`
	EGID          uint32   `json:"egid"`
	LoginUID      uint32   `json:"loginuid"`
	TTY           uint32   `json:"tty"`
	SID           uint32   `json:"sid"`
	PGID          uint32   `json:"pgid"`
	CapEffective  uint64   `json:"cap_effective"`
	CapPermitted  uint64   `json:"cap_permitted"`
	MntNS         uint32   `json:"mnt_ns"`
	FromMemfd     bool     `json:"exe_from_memfd"`
	UpperLayer    bool     `json:"exe_upper_layer"`
	Secure        bool     `json:"secure,omitempty"`
	LoaderEnv     []string `json:"loader_env,omitempty"`
	EnvTruncated  bool     `json:"loader_env_truncated,omitempty"`
}

// Exit is the exit body.
type Exit struct {
	Code       uint32 `json:"code"`
	Signal     uint32 `json:"signal"`
	CoreDumped bool   `json:"core_dumped,omitempty"`
}

// Open is the open body.
type Open struct {
	Path    string `json:"path"`
	RawPath string `json:"raw_path"`
	DirFD   int32  `json:"dirfd"`
	Flags   uint32 `json:"flags"`
	Mode    uint32 `json:"mode"`
	Resolve uint64 `json:"resolve,omitempty"`
}

// Socket is the socket body.
type Socket struct {
	Op         string `json:"op"`
	FD         int32  `json:"fd"`
	Family     uint16 `json:"family"`
	Type       uint16 `json:"type"`
	Protocol   uint16 `json:"protocol"`
	Local      string `json:"local,omitempty"`
	Remote     string `json:"remote,omitempty"`
	LocalPath  string `json:"local_path,omitempty"`
	RemotePath string `json:"remote_path,omitempty"`
	Backlog    int32  `json:"backlog,omitempty"`
}

// Syscall is the body of a generic syscall: every argument by its
// Falco name, raw, and the decoded slots.
type Syscall struct {
	Args  map[string]uint64 `json:"args"`
	Slots []Slot            `json:"slots,omitempty"`
}

// Slot is one decoded argument.
type Slot struct {
	Arg   string `json:"arg"`
	Value string `json:"value,omitempty"`
	Path  string `json:"path,omitempty"`
}

func syscallJSON(ev *event.Event) *Syscall {
	spec, _ := syscalls.SpecFor(syscalls.Name(ev.Syscall))
	j := &Syscall{Args: make(map[string]uint64, len(spec.Args))}
	for i, a := range spec.Args {
		j.Args[a.Name] = ev.Sys.Args[i]
	}
	for _, s := range ev.Sys.Slots {
		if s.Type == 0 {
			continue
		}
		name := fmt.Sprintf("arg%d", s.Index)
		if int(s.Index) < len(spec.Args) {
			name = spec.Args[s.Index].Name
		}
		j.Slots = append(j.Slots, Slot{Arg: name, Value: s.Value, Path: s.Path})
	}
	return j
}

// Process is the process-table view of the event's process.
type Process struct {
	Exe       string     `json:"exe"`
	Args      []string   `json:"args"`
	Cwd       string     `json:"cwd"`
	UID       uint32     `json:"uid"`
	StartTime uint64     `json:"start_ts,omitempty"`
	Seeded    bool       `json:"from_procfs,omitempty"`
	Ancestors []Ancestor `json:"ancestors"`
}

// Ancestor names one ancestor, nearest first. Arguments are left out:
// an ancestor's command line is one lookup away (its pid) and would
// multiply the size of every event.
type Ancestor struct {
	PID  uint32 `json:"pid"`
	Comm string `json:"comm"`
	Exe  string `json:"exe"`
}

func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// New builds the JSON view of ev, enriched from the process table
// when table is not nil. It copies every string, so it outlives ev.
func New(ev *event.Event, table *proc.Table, clock ktime.Clock) *Event {
	j := &Event{
		Time: clock.Wall(ev.Timestamp), TS: ev.Timestamp, Type: ev.TypeName(), Kind: ev.Kind.String(),
		PID: ev.PID, TID: ev.TID, PPID: ev.PPID, Comm: ev.Comm, CgroupID: ev.CgroupID, Ret: ev.Ret,
	}
	switch ev.Kind {
	case event.KindFork:
		j.Fork = &Fork{ChildPID: ev.Fork.ChildPID, ChildTID: ev.Fork.ChildTID, Thread: ev.Fork.IsThread}
	case event.KindExec:
		x := &ev.Exec
		j.Exec = &Exec{
			Filename: x.Filename, Exe: x.Exe, Args: x.Argv(), Cwd: x.Cwd,
			ArgsTruncated: x.Flags&event.ExecArgsTruncated != 0,
			UID:           x.UID, GID: x.GID, EUID: x.EUID, EGID: x.EGID, LoginUID: x.LoginUID, TTY: x.TTY,
			SID: x.SID, PGID: x.PGID, CapEffective: x.CapEffective, CapPermitted: x.CapPermitted, MntNS: x.MntNS,
			FromMemfd: x.Flags&event.ExecFromMemfd != 0, UpperLayer: x.Flags&event.ExecUpperLayer != 0,
			Secure: x.Flags&event.ExecSecure != 0, EnvTruncated: x.Flags&event.ExecEnvTruncated != 0,
		}
		if x.LoaderEnv != "" {
			j.Exec.LoaderEnv = strings.Split(x.LoaderEnv, "\x00")
		}
	case event.KindExit:
		j.Exit = &Exit{Code: ev.Exit.Code, Signal: ev.Exit.Signal, CoreDumped: ev.Exit.CoreDumped}
	case event.KindOpen:
		o := &ev.Open
		j.Open = &Open{Path: o.Path, RawPath: o.RawPath, DirFD: o.DirFD, Flags: o.Flags, Mode: o.Mode, Resolve: o.Resolve}
	case event.KindSocket:
		s := &ev.Socket
		j.Socket = &Socket{
			Op: s.Op.String(), FD: s.FD, Family: s.Family, Type: s.Type, Protocol: s.Protocol,
			Local: addrString(s.Local), Remote: addrString(s.Remote),
			LocalPath: s.LocalPath, RemotePath: s.RemotePath, Backlog: s.Backlog,
		}
	}
	if ev.Kind == event.KindSyscall {
		j.Syscall = syscallJSON(ev)
	}
	if table != nil {
		j.Process = processJSON(ev.PID, table)
	}
	return j
}

func processJSON(pid uint32, table *proc.Table) *Process {
	p, ok := table.Get(pid)
	if !ok {
		// An exit has already been applied when handlers run.
		if p, ok = table.Exited(pid); !ok {
			return nil
		}
	}
	pj := &Process{Exe: p.Exe, Args: p.Argv(), Cwd: p.Cwd, UID: p.UID, StartTime: p.StartTime, Seeded: p.Seeded,
		Ancestors: []Ancestor{}}
	table.Ancestors(pid, 0, func(a proc.Process) bool {
		pj.Ancestors = append(pj.Ancestors, Ancestor{PID: a.PID, Comm: a.Comm, Exe: a.Exe})
		return true
	})
	return pj
}

// Writer writes events as JSON lines.
type Writer struct {
	enc   *json.Encoder
	table *proc.Table
	clock ktime.Clock
	// Containers, when set, adds the container block to events of
	// processes in containers.
	Containers container.Lookuper
	// Workloads, when set, adds the workload block.
	Workloads WorkloadResolver
}

// NewWriter returns a writer that enriches events from table (which
// may be nil).
func NewWriter(w io.Writer, table *proc.Table) *Writer {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &Writer{enc: enc, table: table, clock: ktime.NewClock()}
}

// Write renders one event as a line of JSON.
func (w *Writer) Write(ev *event.Event) error {
	j := New(ev, w.table, w.clock)
	if w.Containers != nil {
		j.Container = containerJSON(ev, w.Containers)
	}
	if w.Workloads != nil {
		j.Workload = workloadJSON(ev, w.Workloads)
	}
	return w.enc.Encode(j)
}
