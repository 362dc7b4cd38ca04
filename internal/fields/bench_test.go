package fields

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

// typicalConditions resemble what rule files test on exec and open events:
// ancestry, command lines, paths, flags, identity.
var typicalConditions = []string{
	"evt.type in (execve, execveat) and proc.name in (bash, sh, zsh) and proc.pname in (nginx, httpd, java)",
	"evt.type in (execve, execveat) and proc.aname in (sshd, cron) and proc.cmdline contains 'curl'",
	"evt.type in (execve, execveat) and proc.exepath pmatch (/tmp, /dev/shm) and not user.name = root",
	"evt.type in (open, openat) and evt.is_open_write = true and fd.name startswith /etc/",
	"evt.type in (open, openat) and fd.name in (/etc/shadow, /etc/sudoers) and not proc.name in (sudo, login)",
	"evt.type in (open, openat) and evt.arg.flags contains O_TRUNC and fd.filename endswith _history",
	"evt.type = connect and fd.sip != 127.0.0.1 and proc.name in (bash, sh) and fd.sport in (4444, 1337)",
	"thread.cap_effective contains CAP_SYS_ADMIN and proc.acmdline[2] contains 'sshd:' and proc.sname = bash",
}

// TestContextDoesNotAllocate checks the design goal: once a context's
// arena has grown, building it and evaluating typical conditions (and
// rendering derived strings) costs no allocation.
func TestContextDoesNotAllocate(t *testing.T) {
	tab := family(t)
	e := env(t, tab)
	conds := make([]func(*Context) bool, len(typicalConditions))
	for i, s := range typicalConditions {
		conds[i] = condition(t, s)
	}
	exec, open := curl(), openEv(t, "/home/alice/.bash_history", 0x241, 0o600, 3)
	defer exec.Release()
	defer open.Release()
	c := new(Context)
	for _, ev := range []*event.Event{exec, open} {
		run := func() {
			c.Reset(e, ev, 1)
			for _, f := range conds {
				f(c)
			}
		}
		run() // grow the arena
		if n := testing.AllocsPerRun(200, run); n != 0 {
			t.Errorf("%s: %.1f allocations per event", ev.Kind, n)
		}
	}
}

func BenchmarkContextReset(b *testing.B) {
	tab := family(b)
	e := env(b, tab)
	ev := curl()
	defer ev.Release()
	c := new(Context)
	b.ReportAllocs()
	for b.Loop() {
		c.Reset(e, ev, 1)
	}
}

func BenchmarkTypicalConditions(b *testing.B) {
	tab := family(b)
	e := env(b, tab)
	conds := make([]func(*Context) bool, len(typicalConditions))
	for i, s := range typicalConditions {
		conds[i] = condition(b, s)
	}
	exec := curl()
	defer exec.Release()
	c := new(Context)
	b.ReportAllocs()
	for b.Loop() {
		c.Reset(e, exec, 1)
		for _, f := range conds {
			f(c)
		}
	}
}
