package agent

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

// churnScript waits for the test to start the agent (which seeds the
// shell's fds from /proc), keeps /etc/hostname open on fd 3, forks 100
// subshells that
// each close the inherited fd 3 and then open and close a file 100 times
// (10,000 opens and closes in all), and then waits for the test before
// exiting, so that its own table can be compared with /proc. The
// subshells run one after the other: a hundred at once on a two-core
// machine starve the agent of CPU until its queues overflow, which is a
// test of the queues, not of the table.
const churnScript = `read start
exec 3</etc/hostname
i=0
while [ $i -lt 100 ]; do
  (exec 3<&-; j=0; while [ $j -lt 100 ]; do exec 4</etc/hostname; exec 4<&-; j=$((j+1)); done)
  i=$((i+1))
done
echo ready
read go`

// procFDs lists pid's fds from /proc with their link targets.
func procFDs(t *testing.T, pid int) map[int32]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]string{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		link, _ := os.Readlink(dir + "/" + e.Name())
		out[int32(n)] = link
	}
	return out
}

// TestFDTableUnderChurn runs churnScript under the agent and checks that
// the table has no stale entries afterwards: the shell's table matches
// /proc, its exited children are gone with their fds, and the live fd
// count is back where it started.
func TestFDTableUnderChurn(t *testing.T) {
	testutil.RequireBPF(t)
	// The shell starts before the agent, so that the table knows all its
	// fds from the seed: a child of the agent itself is first seen at its
	// exec, with fds nobody told the table about.
	cmd := exec.Command("/bin/sh", "-c", churnScript)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// EOF ends the script: its last read fails, so it exits 1. Only
		// that it ended matters.
		var exit *exec.ExitError
		if err := cmd.Wait(); err != nil && !errors.As(err, &exit) {
			t.Error(err)
		}
	}()
	defer stdin.Close()
	shell := uint32(cmd.Process.Pid)

	table := proc.New()
	var forks, exits atomic.Int64
	var mu sync.Mutex
	children := map[uint32]bool{}
	handler := func(_ int, ev *event.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ev.Kind == event.KindFork && !ev.Fork.IsThread && ev.PID == shell:
			children[ev.Fork.ChildPID] = true
			forks.Add(1)
		case ev.Kind == event.KindExit && children[ev.PID]:
			exits.Add(1)
		}
	}
	a, err := Start(Config{Sensor: sensor.Config{Syscalls: proc.FDSyscalls()}, TrackFDs: true, Table: table, Handler: handler, QueueLen: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Stop capturing first: see quietStop in internal/detect.
		if err := a.Sensor.SetSyscalls(nil); err != nil {
			t.Error(err)
		}
		time.Sleep(100 * time.Millisecond)
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	before := table.Stats()
	if _, err := fmt.Fprintln(stdin, "start"); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("the script said %q, %v", line, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for (forks.Load() < 100 || exits.Load() < 100) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	st := a.Stats()
	if forks.Load() != 100 || exits.Load() != 100 {
		t.Fatalf("saw %d forks and %d exits of 100 children; stats %+v", forks.Load(), exits.Load(), st)
	}
	if d := st.Sensor.TotalKernelDrops(); d != 0 || st.Pipeline.Dropped != 0 {
		t.Fatalf("events were dropped (kernel %d, pipeline %d): the table cannot be exact", d, st.Pipeline.Dropped)
	}

	// The shell's table is what /proc says, fd for fd.
	p, ok := table.Get(shell)
	if !ok {
		t.Fatal("the shell has no entry")
	}
	want := procFDs(t, int(shell))
	var got []string
	p.Files.Current().Each(func(fd int32, e *proc.FD, _ bool) bool {
		got = append(got, fmt.Sprintf("%d=%s", fd, e.Type))
		if link, ok := want[fd]; !ok || e.Type == proc.FDFile && e.Name != link {
			t.Errorf("fd %d in the table as %s %q, /proc has %q", fd, e.Type, e.Name, link)
		}
		return true
	})
	if len(got) != len(want) {
		var w []string
		for fd, link := range want {
			w = append(w, fmt.Sprintf("%d=%s", fd, link))
		}
		sort.Strings(w)
		t.Errorf("table has %v, /proc has %v", got, w)
	}
	if e, ok := p.Files.Current().Lookup(3); !ok || e.Name != "/etc/hostname" {
		t.Errorf("fd 3 of the shell: %+v", e)
	}

	// The children are gone, and so are their fds.
	mu.Lock()
	for pid := range children {
		if _, ok := table.Get(pid); ok {
			t.Errorf("child %d still in the table", pid)
		}
	}
	mu.Unlock()
	// The machine's other processes open and close fds meanwhile, so the
	// table's totals are only logged; what this test controls is checked
	// above, exactly.
	after := table.Stats()
	if after.FDsDropped != 0 {
		t.Errorf("%d fds dropped", after.FDsDropped)
	}
	t.Logf("fds before %d, after %d; entries %d -> %d; forks with a stale parent state: %d",
		before.FDs, after.FDs, before.Entries, after.Entries, after.FDForkStale)
	if !strings.Contains(strings.Join(got, " "), "3=file") {
		t.Errorf("fd 3 missing from %v", got)
	}
}
