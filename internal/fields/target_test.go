package fields

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

// TestTargetFields checks that signals, ptrace and pidfd_open name the
// process they act on, from the table, and that other events and process
// groups name none.
func TestTargetFields(t *testing.T) {
	tab := family(t)
	for _, tc := range []struct {
		name string
		args []uint64
		want string
	}{
		{"kill", []uint64{100, 9}, "100 sshd /usr/sbin/sshd"},
		{"tgkill", []uint64{200, 200, 15}, "200 bash /usr/bin/bash"},
		{"ptrace", []uint64{16, 1}, "1 systemd /usr/lib/systemd/systemd"},
		{"pidfd_open", []uint64{300, 0}, "300 curl /usr/bin/curl"},
		{"kill", []uint64{4242, 9}, "4242 <NA> <NA>"},               // not in the table
		{"kill", []uint64{uint64(0xffffffff), 9}, "<NA> <NA> <NA>"}, // kill(-1): every process
		{"setuid", []uint64{0}, "<NA> <NA> <NA>"},
	} {
		ev := sysEv(t, tc.name, 0, tc.args...)
		var c Context
		c.Reset(env(t, tab), ev, 1)
		if got := render(t, &c, "%evt.target.pid %evt.target.name %evt.target.exepath"); got != tc.want {
			t.Errorf("%s%v: %q, want %q", tc.name, tc.args, got, tc.want)
		}
		ev.Release()
	}
	// A SIGKILL is often handled after its target's exit.
	exit := event.New()
	exit.Kind, exit.Syscall, exit.PID, exit.TID = event.KindExit, -1, 300, 300
	tab.Apply(exit)
	exit.Release()
	if _, alive := tab.Get(300); alive {
		t.Fatal("curl is still in the table")
	}
	killed := sysEv(t, "kill", 0, 300, 9)
	var kc Context
	kc.Reset(env(t, tab), killed, 1)
	if got := render(t, &kc, "%evt.target.name %evt.target.exepath"); got != "curl /usr/bin/curl" {
		t.Errorf("kill of an exited process: %q", got)
	}
	killed.Release()

	ev := sysEv(t, "kill", 0, 100, 9)
	defer ev.Release()
	var c Context
	c.Reset(env(t, tab), ev, 1)
	if !holds(t, &c, "evt.type = kill and evt.target.name in (sshd, vigil) and evt.arg.sig = SIGKILL") {
		t.Error("kill of sshd does not match")
	}
}
