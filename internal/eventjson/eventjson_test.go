package eventjson

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// ts is the kernel timestamp of the events below.
const ts = 5_000_000_123

// execEvent is a successful exec of argv by pid, child of ppid, at t.
func execEvent(pid, ppid uint32, t uint64, exe string, argv ...string) *event.Event {
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.PPID, ev.Timestamp = event.KindExec, -1, pid, pid, ppid, t
	ev.Comm = exe[strings.LastIndexByte(exe, '/')+1:]
	ev.Exec = event.Exec{Filename: exe, Exe: exe, Args: strings.Join(argv, "\x00"), Cwd: "/root", LoginUID: 1000}
	return ev
}

// family is a table holding systemd (1) > sshd (100) > bash (200) >
// curl (300), which bash forked at 4000 (its start time) and exec'd.
func family() *proc.Table {
	tab := proc.New()
	fork := event.New()
	fork.Kind, fork.Syscall, fork.PID, fork.TID, fork.PPID, fork.Timestamp = event.KindFork, -1, 200, 200, 100, 4000
	fork.Fork = event.Fork{ChildPID: 300, ChildTID: 300}
	for _, ev := range []*event.Event{
		execEvent(1, 0, 1000, "/usr/lib/systemd/systemd", "/sbin/init"),
		execEvent(100, 1, 2000, "/usr/sbin/sshd", "sshd: alice [priv]"),
		execEvent(200, 100, 3000, "/usr/bin/bash", "-bash"),
		fork,
		execEvent(300, 200, ts, "/usr/bin/curl", "curl", "-s", "http://example.com/x.sh"),
	} {
		tab.Apply(ev)
		ev.Release()
	}
	return tab
}

func nr(t *testing.T, name string) int32 {
	n, ok := syscalls.Number(name)
	if !ok {
		t.Fatalf("no syscall %s", name)
	}
	return n
}

// base fills what every event carries: curl (300, thread 301) in cgroup 77.
func base(kind event.Kind, syscall int32) *event.Event {
	ev := event.New()
	ev.Kind, ev.Syscall, ev.Timestamp, ev.CgroupID = kind, syscall, ts, 77
	ev.PID, ev.TID, ev.PPID, ev.Comm = 300, 301, 200, "curl"
	return ev
}

// The JSON of the process block that curl's events carry with the table.
const curlProcess = `"process":{"exe":"/usr/bin/curl","args":["curl","-s","http://example.com/x.sh"],"cwd":"/root","uid":0,"start_ts":4000,` +
	`"ancestors":[{"pid":200,"comm":"bash","exe":"/usr/bin/bash"},{"pid":100,"comm":"sshd","exe":"/usr/sbin/sshd"},{"pid":1,"comm":"systemd","exe":"/usr/lib/systemd/systemd"}]}`

// TestEveryKindRendersExactly pins the JSON of each event kind, with the
// process and its ancestors from the table, as docs/events.md documents
// it: field names, which fields are left out when empty, and wall time
// from the clock.
func TestEveryKindRendersExactly(t *testing.T) {
	clock := ktime.NewClock()
	wall := clock.Wall(ts).Format(time.RFC3339Nano)
	head := func(typ, kind string, ret int64) string {
		return `{"time":"` + wall + `","ts":5000000123,"type":"` + typ + `","kind":"` + kind +
			`","pid":300,"tid":301,"ppid":200,"comm":"curl","cgroup_id":77,"ret":` + itoa(ret) + `,`
	}
	tests := []struct {
		name string
		ev   func() *event.Event
		want string
	}{{
		name: "fork",
		ev: func() *event.Event {
			ev := base(event.KindFork, -1)
			ev.Fork = event.Fork{ChildPID: 302, ChildTID: 302}
			return ev
		},
		want: head("procfork", "fork", 0) + `"fork":{"child_pid":302,"child_tid":302,"thread":false},` + curlProcess + "}",
	}, {
		name: "thread",
		ev: func() *event.Event {
			ev := base(event.KindFork, -1)
			ev.Fork = event.Fork{ChildPID: 300, ChildTID: 303, IsThread: true}
			return ev
		},
		want: head("procfork", "fork", 0) + `"fork":{"child_pid":300,"child_tid":303,"thread":true},` + curlProcess + "}",
	}, {
		name: "exec",
		ev: func() *event.Event {
			ev := base(event.KindExec, -1)
			ev.Exec = event.Exec{
				Filename: "./curl", Exe: "/usr/bin/curl", Cwd: "/root", Args: "curl\x00-s\x00http://example.com/x.sh",
				UID: 1000, GID: 1000, EUID: 0, EGID: 1000, LoginUID: 1000, TTY: 34816, SID: 200, PGID: 300,
				CapEffective: 1 << 21, CapPermitted: 1<<21 | 1, MntNS: 4026531841,
				Flags:     event.ExecSecure | event.ExecArgsTruncated | event.ExecFromMemfd | event.ExecUpperLayer | event.ExecEnvTruncated,
				LoaderEnv: "LD_PRELOAD=/tmp/x.so\x00LD_LIBRARY_PATH=.",
			}
			return ev
		},
		want: head("execve", "exec", 0) + `"exec":{"filename":"./curl","exe":"/usr/bin/curl","args":["curl","-s","http://example.com/x.sh"],` +
			`"args_truncated":true,"cwd":"/root","uid":1000,"gid":1000,"euid":0,"egid":1000,"loginuid":1000,"tty":34816,"sid":200,"pgid":300,` +
			`"cap_effective":2097152,"cap_permitted":2097153,"mnt_ns":4026531841,"exe_from_memfd":true,"exe_upper_layer":true,"secure":true,` +
			`"loader_env":["LD_PRELOAD=/tmp/x.so","LD_LIBRARY_PATH=."],"loader_env_truncated":true},` + curlProcess + "}",
	}, {
		name: "failed execve",
		ev: func() *event.Event {
			ev := base(event.KindExec, nr(t, "execve"))
			ev.Ret = -2
			ev.Exec = event.Exec{Filename: "/nonexistent", Cwd: "/root"}
			return ev
		},
		want: head("execve", "exec", -2) + `"exec":{"filename":"/nonexistent","exe":"","args":null,"cwd":"/root","uid":0,"gid":0,"euid":0,"egid":0,` +
			`"loginuid":0,"tty":0,"sid":0,"pgid":0,"cap_effective":0,"cap_permitted":0,"mnt_ns":0,"exe_from_memfd":false,"exe_upper_layer":false},` + curlProcess + "}",
	}, {
		name: "exit",
		ev: func() *event.Event {
			ev := base(event.KindExit, -1)
			ev.Exit = event.Exit{Code: 0, Signal: 11, CoreDumped: true}
			return ev
		},
		want: head("procexit", "exit", 0) + `"exit":{"code":0,"signal":11,"core_dumped":true},` + curlProcess + "}",
	}, {
		name: "open",
		ev: func() *event.Event {
			ev := base(event.KindOpen, nr(t, "openat2"))
			ev.Ret = 3
			ev.Open = event.Open{Path: "/etc/shadow", RawPath: "../etc/shadow", DirFD: 5, Flags: 0x80000, Mode: 0, Resolve: 0x8}
			return ev
		},
		want: head("openat2", "open", 3) + `"open":{"path":"/etc/shadow","raw_path":"../etc/shadow","dirfd":5,"flags":524288,"mode":0,"resolve":8},` + curlProcess + "}",
	}, {
		name: "connect",
		ev: func() *event.Event {
			ev := base(event.KindSocket, nr(t, "connect"))
			ev.Ret = -115
			ev.Socket = event.Socket{Op: event.OpConnect, FD: 4, Family: 10, Type: 1, Protocol: 6,
				Local: netip.MustParseAddrPort("[::1]:40000"), Remote: netip.MustParseAddrPort("[2001:db8::1]:443")}
			return ev
		},
		want: head("connect", "socket", -115) + `"socket":{"op":"connect","fd":4,"family":10,"type":1,"protocol":6,"local":"[::1]:40000","remote":"[2001:db8::1]:443"},` + curlProcess + "}",
	}, {
		name: "listen on a unix socket",
		ev: func() *event.Event {
			ev := base(event.KindSocket, nr(t, "listen"))
			ev.Socket = event.Socket{Op: event.OpListen, FD: 3, Family: 1, Type: 1, LocalPath: "/run/x.sock", Backlog: 128}
			return ev
		},
		want: head("listen", "socket", 0) + `"socket":{"op":"listen","fd":3,"family":1,"type":1,"protocol":0,"local_path":"/run/x.sock","backlog":128},` + curlProcess + "}",
	}, {
		name: "syscall",
		ev: func() *event.Event {
			ev := base(event.KindSyscall, nr(t, "mount"))
			ev.Sys.Args = [6]uint64{0x1000, 0x2000, 0x3000, 4096, 0}
			ev.Sys.Slots[0] = event.Slot{Index: 0, Type: event.SlotType(syscalls.SlotStr), Value: "/dev/sda1"}
			ev.Sys.Slots[1] = event.Slot{Index: 1, Type: event.SlotType(syscalls.SlotPath), Value: "mnt", Path: "/root/mnt"}
			return ev
		},
		want: head("mount", "syscall", 0) + `"syscall":{"args":{"data":0,"dev":4096,"dir":8192,"flags":4096,"type":12288},` +
			`"slots":[{"arg":"dev","value":"/dev/sda1"},{"arg":"dir","value":"mnt","path":"/root/mnt"}]},` + curlProcess + "}",
	}}
	tab := family()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, tab)
			w.clock = clock
			ev := tt.ev()
			defer ev.Release()
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want+"\n" {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func itoa(n int64) string {
	var b []byte
	if n < 0 {
		return "-" + itoa(-n)
	}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestWithoutTableOrUnknownProcess: without a table there is no process
// block, and a pid the table does not know gets none either.
func TestWithoutTableOrUnknownProcess(t *testing.T) {
	ev := base(event.KindExit, -1)
	defer ev.Release()
	if j := New(ev, nil, ktime.NewClock()); j.Process != nil {
		t.Errorf("process %+v without a table", j.Process)
	}
	ev.PID = 999
	if j := New(ev, family(), ktime.NewClock()); j.Process != nil {
		t.Errorf("process %+v for an unknown pid", j.Process)
	}
}

// TestExitedProcessKeepsItsIdentity: handlers run after the table applied
// the exit, so the process block comes from the table's recently exited.
func TestExitedProcessKeepsItsIdentity(t *testing.T) {
	tab := family()
	exit := base(event.KindExit, -1)
	defer exit.Release()
	tab.Apply(exit)
	j := New(exit, tab, ktime.NewClock())
	if j.Process == nil || j.Process.Exe != "/usr/bin/curl" || len(j.Process.Ancestors) != 3 {
		t.Fatalf("process %+v", j.Process)
	}
}

// TestWallTimeFromTheClock: the time field is the clock's reading of the
// kernel timestamp, in UTC.
func TestWallTimeFromTheClock(t *testing.T) {
	clock := ktime.NewClock()
	ev := base(event.KindExit, -1)
	defer ev.Release()
	for _, mono := range []uint64{0, ts, ktime.Now()} {
		ev.Timestamp = mono
		j := New(ev, nil, clock)
		if !j.Time.Equal(clock.Wall(mono)) || j.Time.Location() != time.UTC || j.TS != mono {
			t.Errorf("ts %d: time %v, want %v", mono, j.Time, clock.Wall(mono))
		}
	}
	if now := New(ev, nil, clock).Time; time.Since(now).Abs() > time.Minute {
		t.Errorf("an event stamped now reads as %v", now)
	}
}

// lookuper answers container lookups from a map by cgroup id.
type lookuper map[uint64]*container.Info

func (l lookuper) Lookup(cgroup uint64) (*container.Info, container.State) {
	if info, ok := l[cgroup]; ok {
		return info, container.StateComplete
	}
	return container.Host, container.StateHost
}

// TestContainerBlock: the container block names the container, its
// runtime, image and pod; host processes have none.
func TestContainerBlock(t *testing.T) {
	id := strings.Repeat("ab", 32)
	containers := lookuper{
		77: {ID: id, Name: "web", Runtime: container.RuntimeContainerd, Image: container.Image{Name: "nginx:1.27"},
			Pod: &container.Pod{Name: "web-0", Namespace: "shop"}},
		78: {ID: id, Runtime: container.RuntimeDocker},
	}
	for _, tc := range []struct {
		cgroup uint64
		want   string
	}{
		{77, `"container":{"id":"abababababab","name":"web","runtime":"containerd","image":"nginx:1.27","k8s_pod":"web-0","k8s_ns":"shop"}}`},
		{78, `"container":{"id":"abababababab","runtime":"docker"}}`},
		{1, `"ret":0}`},
	} {
		var out bytes.Buffer
		w := NewWriter(&out, nil)
		w.Containers = containers
		ev := base(event.KindExit, -1)
		ev.Kind = event.KindInvalid // no body: the line ends with the container block
		ev.CgroupID = tc.cgroup
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
		ev.Release()
		if got := strings.TrimSuffix(out.String(), "\n"); !strings.HasSuffix(got, tc.want) {
			t.Errorf("cgroup %d: %s\nwant it to end with %s", tc.cgroup, got, tc.want)
		}
	}
}
