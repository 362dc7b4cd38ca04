package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cpuOf sums the CPU time of pids (see cpuTime).
func cpuOf(pids []int) time.Duration {
	var t time.Duration
	for _, pid := range pids {
		t += cpuTime(pid)
	}
	return t
}

// rssOf sums the resident memory of pids in KiB.
func rssOf(pids []int) int64 {
	var kib int64
	for _, pid := range pids {
		kib += statusKiB(pid, "VmRSS:")
	}
	return kib
}

func statusKiB(pid int, key string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key) {
			if f := strings.Fields(line); len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb
			}
		}
	}
	return 0
}

// rssSampler records the highest resident memory of some processes while
// a workload runs: VmHWM would keep the peak of earlier workloads.
type rssSampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  int64
}

func startRSSSampler(pids []int) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{})}
	if len(pids) == 0 {
		return s
	}
	s.peak = rssOf(pids)
	s.wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-t.C:
				s.peak = max(s.peak, rssOf(pids))
			}
		}
	})
	return s
}

func (s *rssSampler) stop() int64 {
	close(s.stopc)
	s.wg.Wait()
	return s.peak
}

// findComm returns the pid of the first process named comm, 0 if none.
func findComm(comm string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(b)) == comm {
			return pid
		}
	}
	return 0
}

// machine describes where a report was measured.
type machine struct {
	Kernel     string
	CPU        string
	Cores      int
	MemoryGiB  float64
	OS         string
	LoadBefore string
	LoadAfter  string
	Tools      map[string]string
}

func describeMachine() machine {
	m := machine{Cores: runtime.NumCPU(), LoadBefore: loadAverage(), Tools: map[string]string{}}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CPU = firstField("/proc/cpuinfo", "model name")
	if kb := firstField("/proc/meminfo", "MemTotal"); kb != "" {
		n, _ := strconv.ParseFloat(strings.Fields(kb)[0], 64)
		m.MemoryGiB = n / (1 << 20)
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	for tool, args := range map[string][]string{
		"bpftrace": {"bpftrace", "--version"}, "auditd": {"auditctl", "-v"}, "stress-ng": {"stress-ng", "--version"},
		"nginx": {"nginx", "-v"}, "wrk": {"wrk", "-v"}, "go": {"go", "version"},
	} {
		out, _ := exec.Command(args[0], args[1:]...).CombinedOutput()
		if line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); line != "" {
			m.Tools[tool] = line
		}
	}
	return m
}

// firstField returns the value of the first "key : value" line of path.
func firstField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
