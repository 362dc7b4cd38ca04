package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// suiteEnv is what workloads share: options and a scratch directory.
type suiteEnv struct {
	opts suiteOptions
	tmp  string
}

// workload is one bounded, loopback-only load.
type workload struct {
	name string
	// truth says the workload knows exactly how many events it makes.
	truth bool
	run   func() (workloadResult, error)
}

// workloadResult is one run. Throughput is higher-is-better, in the
// workload's own operations per second.
type workloadResult struct {
	Ops        float64
	Throughput float64
	P99Ns      float64 // 0 where the workload has no latency figure
	// CPUNs is the user + system CPU of the workload's processes (their
	// waited-for children included). Unlike throughput it barely moves
	// when other tenants crowd the machine, so it shows the cost the
	// agent's hooks add in the workload's own context.
	CPUNs float64
	Truth map[string]int // exec, open, connect the workload made; nil when unknown
}

// microResult is bench/workload's JSON.
type microResult struct {
	Name     string  `json:"name"`
	Ops      int     `json:"ops"`
	NsPerOp  float64 `json:"ns_per_op"`
	P99Ns    float64 `json:"p99_ns"`
	Execs    int     `json:"execs"`
	Opens    int     `json:"opens"`
	Connects int     `json:"connects"`
	Seconds  float64 `json:"seconds"`
	cpuNs    float64 // filled in by runMicro, for the first result
}

// microScales size each loop (bench/workload's counts at scale 1: 2M
// getpid, 200k open/close, 2,000 fork+exec, 20k connect/accept) to about a
// second on this machine under load, so that one repetition of every
// configuration fits the 20-minute budget.
var microScales = map[string]float64{"getpid": 0.5, "open_close": 0.25, "fork_exec": 0.05, "connect_accept": 0.5}

func (e *suiteEnv) microScale(loop string) float64 {
	if e.opts.quick {
		return microScales[loop] / 4
	}
	return microScales[loop]
}

func microWorkloads(env *suiteEnv) []workload {
	var ws []workload
	for _, name := range []string{"getpid", "open_close", "fork_exec", "connect_accept"} {
		ws = append(ws, workload{name: name, truth: true, run: func() (workloadResult, error) {
			res, err := runMicro(env.opts.workload, "-loops", name, "-scale", strconv.FormatFloat(env.microScale(name), 'f', -1, 64))
			if err != nil {
				return workloadResult{}, err
			}
			if len(res) != 1 || res[0].Name != name {
				return workloadResult{}, fmt.Errorf("workload -loops %s: got %d results", name, len(res))
			}
			return res[0].result(), nil
		}})
	}
	return ws
}

func (r microResult) result() workloadResult {
	return workloadResult{Ops: float64(r.Ops), Throughput: 1e9 / r.NsPerOp, P99Ns: r.P99Ns, CPUNs: r.cpuNs,
		Truth: map[string]int{"exec": r.Execs, "open": r.Opens, "connect": r.Connects}}
}

func runMicro(bin string, args ...string) ([]microResult, error) {
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("workload %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	var res []microResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) == 0 {
		return nil, fmt.Errorf("workload output %q: %v", out, err)
	}
	res[0].cpuNs = rusageNs(cmd.ProcessState)
	return res, nil
}

// rusageNs is the user + system CPU of a waited-for process and of the
// children it waited for.
func rusageNs(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	return float64((ps.UserTime() + ps.SystemTime()).Nanoseconds())
}

func suiteWorkloads(env *suiteEnv) []workload {
	ws := microWorkloads(env)
	for _, s := range []string{"exec", "open", "sock"} {
		ws = append(ws, workload{name: "stress-ng " + s, run: func() (workloadResult, error) { return runStressNG(env, s) }})
	}
	ws = append(ws, workload{name: "nginx + wrk", run: func() (workloadResult, error) { return runNginx(env) }})
	return ws
}

// stressSeconds bounds each stress-ng run; ops bound it too.
func (e *suiteEnv) stressSeconds() int {
	if e.opts.quick {
		return 1
	}
	return 2
}

// runStressNG runs one stressor instance as nobody (the exec stressor
// refuses root) for a bounded time and number of operations, on loopback
// for the socket stressor.
func runStressNG(env *suiteEnv, stressor string) (_ workloadResult, err error) {
	dir, err := os.MkdirTemp(env.tmp, "stress-ng")
	if err != nil {
		return workloadResult{}, err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	if err := os.Chmod(dir, 0o777); err != nil {
		return workloadResult{}, err
	}
	yaml := filepath.Join(dir, "metrics.yaml")
	args := []string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", "stress-ng",
		"--" + stressor, "1", "--" + stressor + "-ops", "1000000",
		"--timeout", strconv.Itoa(env.stressSeconds()) + "s", "--temp-path", dir, "--metrics-brief", "--yaml", yaml}
	if stressor == "sock" {
		args = append(args, "--sock-if", "lo", "--sock-port", "23000")
	}
	cmd := exec.Command("setpriv", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return workloadResult{}, fmt.Errorf("stress-ng --%s: %v: %s", stressor, err, out)
	}
	b, err := os.ReadFile(yaml)
	if err != nil {
		return workloadResult{}, err
	}
	m, err := parseStressNGYAML(string(b))
	if err != nil {
		return workloadResult{}, err
	}
	s, ok := m[stressor]
	if !ok {
		return workloadResult{}, fmt.Errorf("stress-ng --%s: no metrics for it in %s", stressor, yaml)
	}
	return workloadResult{Ops: s.ops, Throughput: s.opsPerSec, CPUNs: rusageNs(cmd.ProcessState)}, nil
}

// nginxPort is where the application workload's server listens, on 127.0.0.1.
const nginxPort = 18080

func (e *suiteEnv) wrkSeconds() int {
	if e.opts.quick {
		return 1
	}
	return 3
}

// runNginx starts a fresh nginx (so that its tasks are created under the
// configuration being measured), drives it with wrk over loopback and
// stops it.
func runNginx(env *suiteEnv) (_ workloadResult, err error) {
	dir, err := os.MkdirTemp(env.tmp, "nginx")
	if err != nil {
		return workloadResult{}, err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	if err := os.Chmod(dir, 0o755); err != nil {
		return workloadResult{}, err
	}
	root := filepath.Join(dir, "www")
	if err := os.Mkdir(root, 0o755); err != nil {
		return workloadResult{}, err
	}
	// A small page, opened afresh on every request (no open_file_cache).
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte(strings.Repeat("vigil bench\n", 50)), 0o644); err != nil {
		return workloadResult{}, err
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen 127.0.0.1:%[2]d;
    root %[3]s;
  }
}
`, dir, nginxPort, root)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return workloadResult{}, err
	}
	srv := exec.Command("nginx", "-c", confPath, "-p", dir)
	var srvOut strings.Builder
	srv.Stdout, srv.Stderr = &srvOut, &srvOut
	if err := srv.Start(); err != nil {
		return workloadResult{}, fmt.Errorf("nginx: %w", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// wrk has measured already: how nginx exits changes nothing.
		_, _ = terminate(srv, syscall.SIGQUIT, 10*time.Second)
	}
	defer stop()
	addr := fmt.Sprintf("127.0.0.1:%d", nginxPort)
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close() // only probed: nothing was sent
			break
		}
		if i == 100 {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return workloadResult{}, fmt.Errorf("nginx did not listen on %s: %s %s", addr, srvOut.String(), b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := exec.Command("wrk", "-t1", "-c8", "-d"+strconv.Itoa(env.wrkSeconds())+"s", "--latency",
		"http://"+addr+"/index.html")
	out, err := client.CombinedOutput()
	if err != nil {
		return workloadResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	w, err := parseWrk(string(out))
	if err != nil {
		return workloadResult{}, err
	}
	stop() // nginx's CPU is known once it has been waited for
	return workloadResult{Ops: w.requests, Throughput: w.reqPerSec, P99Ns: w.p99Ns,
		CPUNs: rusageNs(client.ProcessState) + rusageNs(srv.ProcessState)}, nil
}
