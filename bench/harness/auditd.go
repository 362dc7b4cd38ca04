package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// auditdConf is Debian's default auditd.conf but for the log, which goes
// to the harness's scratch directory and is never rotated, so that the
// system's audit log is left alone and every record can be counted.
const auditdConf = `local_events = yes
write_logs = yes
log_file = %s
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 1024
num_logs = 1
priority_boost = 4
name_format = NONE
max_log_file_action = IGNORE
space_left = 75
space_left_action = SYSLOG
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
q_depth = 2000
overflow_action = SYSLOG
max_restarts = 10
end_of_event_timeout = 2
`

// auditdAgent runs auditd in the foreground with audit.rules. Its cost is
// the daemon's and the kernel's kauditd thread's; what it delivered is
// counted in the records it wrote for the workload.
type auditdAgent struct {
	rules, dir string
	log        string
	cmd        *exec.Cmd
	offset     int64 // where the log ended at the last snapshot
	counts     counters
}

func newAuditd(rules, tmp string) *auditdAgent {
	dir := filepath.Join(tmp, "auditd")
	return &auditdAgent{rules: rules, dir: dir, log: filepath.Join(dir, "audit.log")}
}

func (a *auditdAgent) name() string { return "auditd" }

func (a *auditdAgent) start() error {
	if out, err := exec.Command("auditctl", "-D").CombinedOutput(); err != nil {
		return fmt.Errorf("auditctl -D: %v: %s", err, out)
	}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return err
	}
	// Each start counts from an empty log.
	if err := os.Remove(a.log); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(filepath.Join(a.dir, "auditd.conf"), []byte(fmt.Sprintf(auditdConf, a.log)), 0o600); err != nil {
		return err
	}
	a.cmd = exec.Command("auditd", "-n", "-c", a.dir)
	a.offset = 0
	if err := a.cmd.Start(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		if st, err := auditStatus(); err == nil && st["pid"] == float64(a.cmd.Process.Pid) {
			break
		}
		if i == 100 {
			reap(a.cmd)
			return fmt.Errorf("auditd did not register within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, args := range [][]string{{"-R", a.rules}, {"-e", "1"}} {
		if out, err := exec.Command("auditctl", args...).CombinedOutput(); err != nil {
			return errors.Join(fmt.Errorf("auditctl %s: %v: %s", strings.Join(args, " "), err, out), a.stop())
		}
	}
	a.counts = counters{Matches: map[string]float64{}}
	return nil
}

func (a *auditdAgent) stop() error {
	// auditd's exit says nothing the log has not counted: only that it
	// stops matters.
	_, _ = terminate(a.cmd, syscall.SIGTERM, 30*time.Second)
	resetAudit(nil)
	return nil
}

func (a *auditdAgent) pids() []int {
	pids := []int{a.cmd.Process.Pid}
	if k := findComm("kauditd"); k > 0 {
		pids = append(pids, k)
	}
	return pids
}

// snapshot adds the records written since the last one to the running
// counts, and reads the kernel's lost counter.
func (a *auditdAgent) snapshot() (counters, error) {
	f, err := os.Open(a.log)
	if os.IsNotExist(err) {
		return a.copyCounts(), nil // nothing written yet
	}
	if err != nil {
		return counters{}, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	if _, err := f.Seek(a.offset, io.SeekStart); err != nil {
		return counters{}, err
	}
	n, records := countAuditRecords(f)
	a.offset += n
	a.counts.Events += float64(records.total)
	a.counts.Matches["exec"] += float64(records.exec)
	a.counts.Matches["connect"] += float64(records.connect)
	if st, err := auditStatus(); err == nil {
		a.counts.KernelDrops = st["lost"]
	}
	return a.copyCounts(), nil
}

// copyCounts returns the running counts with a map of their own, since
// later snapshots add to the running one.
func (a *auditdAgent) copyCounts() counters {
	c := a.counts
	c.Matches = map[string]float64{"exec": a.counts.Matches["exec"], "connect": a.counts.Matches["connect"]}
	return c
}

// drain waits until the log stops growing (auditd writes asynchronously),
// for at most 5 s.
func (a *auditdAgent) drain(map[string]int, counters) (counters, error) {
	var last int64 = -1
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		var size int64
		if fi, err := os.Stat(a.log); err == nil {
			size = fi.Size()
		}
		if size == last {
			break
		}
		last = size
	}
	return a.snapshot()
}

// auditRecordCounts are the SYSCALL records of audit.rules' keys; exec and
// connect count only the micro-loop workload's own (comm "true" after its
// exec, "vigil-workload" for its connects).
type auditRecordCounts struct{ total, exec, connect int }

// countAuditRecords reads complete lines from r and returns the bytes they
// took and the counts.
func countAuditRecords(r io.Reader) (int64, auditRecordCounts) {
	var c auditRecordCounts
	var n int64
	rd := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return n, c // a partial last line is read again next time
		}
		n += int64(len(line))
		if !strings.HasPrefix(line, "type=SYSCALL ") || !strings.Contains(line, `key="vigil_bench_`) {
			continue
		}
		c.total++
		switch {
		case strings.Contains(line, `key="vigil_bench_exec"`) && strings.Contains(line, ` comm="true" `):
			c.exec++
		case strings.Contains(line, `key="vigil_bench_connect"`) && strings.Contains(line, ` comm="vigil-workload" `):
			c.connect++
		}
	}
}

// auditStatus parses `auditctl -s`: one "name value" per line.
func auditStatus() (map[string]float64, error) {
	out, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		return nil, err
	}
	return parseAuditStatus(string(out)), nil
}

func parseAuditStatus(out string) map[string]float64 {
	st := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			st[f[0]] = v
		}
	}
	return st
}

// resetAudit leaves the kernel's audit state harmless for everything that
// runs after: no rules, a never,task rule so that new tasks stay off the
// audit slow path (once audit has been enabled, tasks are put on it at
// fork unless such a rule says otherwise), and audit disabled. It does
// nothing where auditctl is not installed.
func resetAudit(logf func(string, ...any)) {
	if _, err := exec.LookPath("auditctl"); err != nil {
		return
	}
	for _, args := range [][]string{{"-D"}, {"-a", "never,task"}, {"-e", "0"}} {
		if out, err := exec.Command("auditctl", args...).CombinedOutput(); err != nil && logf != nil {
			logf("auditctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
}
