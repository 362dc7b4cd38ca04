package enforce

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/testutil"
)

// TestCgroupLearnedFromAnEventCanBeMarked: a container that starts after
// Vigil is learned from its first exec, not from a cgroup scan, so its
// subscribers (the fanotify marks) must be able to reach a process of it
// when they are told. They were told before the pid was recorded, found
// none, and the container's mounts were never marked.
func TestCgroupLearnedFromAnEventCanBeMarked(t *testing.T) {
	cc := newContainerCgroups(t.TempDir())
	pid := uint32(os.Getpid()) // a process that exists
	var got []uint32
	cc.subscribe(func(cg uint64, id string, added bool) {
		if added {
			got = append(got, cc.firstPID(cg))
		}
	})
	cc.observe(4242, pid, &container.Info{ID: "0123456789abcdef"})
	cc.observe(4242, pid, &container.Info{ID: "0123456789abcdef"}) // known: no second announcement
	cc.observe(4343, pid, container.Host)                          // a host cgroup: none
	if len(got) != 1 || got[0] != pid {
		t.Fatalf("subscribers found pids %v, want [%d]", got, pid)
	}
	if ids := cc.cgroupsOf("0123456789ab"); len(ids) != 1 || ids[0] != 4242 {
		t.Errorf("cgroups of the container: %v", ids)
	}
}

// TestMarkOnlyThroughAContainerMountNamespace: marks go through a process
// in a mount namespace of its own, never one in the host's or Vigil's,
// which a runtime's init process still is when it joins the container's
// cgroup.
func TestMarkOnlyThroughAContainerMountNamespace(t *testing.T) {
	if inOwnMountNS(uint32(os.Getpid())) || inOwnMountNS(1) {
		t.Error("the host's or our own mount namespace counted as a container's")
	}
	testutil.RequireRoot(t, "to start a process in a new mount namespace")
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.KillAndWait(cmd) })
	if !inOwnMountNS(uint32(cmd.Process.Pid)) {
		t.Error("a process in a new mount namespace did not count")
	}
	if inOwnMountNS(1 << 30) {
		t.Error("a pid that does not exist counted")
	}
}
