package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/testutil"
)

// TestRunLatencyAndFDMetrics opens 100 files under a rule that prints the
// process's stdout (so the agent keeps fd tables) and keeps them open:
// the latency histogram has one observation per alert, and the fd tables
// hold at least those 100 fds.
func TestRunLatencyAndFDMetrics(t *testing.T) {
	testutil.RequireBPF(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	trig := filepath.Join(dir, "f-")
	if err := os.WriteFile(rules, []byte(ruleYAML("FD metrics", "evt.type = openat and fd.name startswith "+trig,
		"open %fd.name stdout=%proc.stdout.name")), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, nil, "--rules", rules, "--metrics-addr", "127.0.0.1:0")
	if a.findLog(0, `msg="running 1 rules"`, "fd_tables=true") < 0 {
		t.Fatal("fd tables are off")
	}
	log := collect(a)
	const n = 100
	var files []*os.File
	for i := range n {
		f, err := os.Create(fmt.Sprintf("%s%03d", trig, i))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	defer func() {
		for _, f := range files {
			_ = f.Close() // created empty and never written: nothing to lose
		}
	}()
	waitFor(t, "100 alerts", func() bool { return log.count("FD metrics") == n })
	for series, want := range map[string]float64{
		`vigil_pipeline_latency_seconds_count`:             n,
		`vigil_pipeline_latency_seconds_bucket{le="+Inf"}`: n,
		`vigil_alerts_total{outcome="emitted"}`:            n,
		`vigil_rule_matches_total{rule="FD metrics"}`:      n,
	} {
		if got := a.metric(series); got != want {
			t.Errorf("%s = %g, want %g", series, got, want)
		}
	}
	if sum := a.metric("vigil_pipeline_latency_seconds_sum"); sum <= 0 {
		t.Errorf("latency sum %g", sum)
	}
	if fds := a.metric("vigil_fd_table_entries"); fds < n {
		t.Errorf("fd table entries %g with %d files held open", fds, n)
	}
}

// TestRunKernelDropAlert overloads a one-page ring buffer: the drop alert
// comes through the outputs with the counts, once in its window however
// long the overload lasts.
func TestRunKernelDropAlert(t *testing.T) {
	testutil.RequireBPF(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(ruleYAML("Never", "evt.type = openat and fd.name = /nonexistent/vigil-drop-test", "x")), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, []string{"VIGIL_RING_BUFFER_SIZE=4096", "VIGIL_KERNEL_DROP_ALERT_INTERVAL=1s",
		"VIGIL_KERNEL_DROP_ALERT_WINDOW=1h", "VIGIL_KERNEL_DROP_ALERT_RATIO=0.01"}, "--rules", rules, "--metrics-addr", "127.0.0.1:0")

	// Open /dev/null as fast as four goroutines can until the alert
	// comes, then three more check intervals' worth.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0); err == nil {
					syscall.Close(fd)
				}
			}
		})
	}
	first := a.nextAlert()
	checks := a.metric("vigil_kernel_drop_checks_total")
	waitFor(t, "three more drop checks", func() bool { return a.metric("vigil_kernel_drop_checks_total") >= checks+3 })
	close(stop)
	wg.Wait()
	if first["rule"] != "Vigil kernel event drops" || first["priority"] != "Warning" || first["source"] != "internal" {
		t.Fatalf("alert %v", first)
	}
	f, _ := first["output_fields"].(map[string]any)
	drops, _ := f["vigil.kernel_drops"].(float64)
	received, _ := f["vigil.events_received"].(float64)
	ratio, _ := f["vigil.drop_ratio"].(float64)
	if drops <= 0 || ratio <= 0.01 || ratio != drops/(drops+received) ||
		!strings.HasPrefix(alert.StripPrefix(fmt.Sprint(first["output"]), "Warning"), fmt.Sprintf("kernel dropped %.0f of %.0f events (", drops, drops+received)) {
		t.Errorf("alert fields %v, output %q", f, first["output"])
	}
	if got := a.metric("vigil_kernel_drop_alerts_total"); got != 1 {
		t.Errorf("drop alerts %g", got)
	}
	select {
	case m := <-a.alerts:
		t.Errorf("a second alert: %v", m)
	default:
	}
}

// TestRunRefusesWithoutRoot runs the agent as nobody: it stops with one
// line that names the condition.
func TestRunRefusesWithoutRoot(t *testing.T) {
	testutil.Require(t, os.Geteuid() == 0, "root (to run the agent as another user)")
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil { // nobody must reach the binary
			t.Fatal(err)
		}
	}
	bin := testutil.CopyExecutable(t, vigilBinary(t), filepath.Join(dir, "vigil"))
	cmd := exec.Command(bin, "run")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	want := "vigil: not starting: vigil run needs root, or CAP_BPF and CAP_PERFMON, to load eBPF programs (running as uid 65534 without them)\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stderr.String() != want {
		t.Errorf("exit %v, stderr %q", err, stderr.String())
	}
}
