package enforce

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

// rig is a running agent with a detector and an enforcer, as vigil run
// assembles them.
type rig struct {
	enf        *Enforcer
	log        *alertLog
	det        *detect.Detector
	containers *container.Resolver
}

func startRig(t *testing.T, rules string, cfg Config) *rig {
	t.Helper()
	testutil.RequireBPF(t)
	rs := loadRules(t, rules)
	table := proc.New()
	containers := container.New(container.Config{Sources: dockerapi.Detect()})
	if err := containers.Start(context.Background()); err != nil {
		t.Logf("container metadata unavailable: %v", err)
	}
	t.Cleanup(containers.Close)
	env := &fields.Env{Table: table, Clock: ktime.NewClock(), Hostname: "e2e", Containers: containers}
	log := &alertLog{t: t}
	det := detect.New(detect.Config{Program: rs.Program, Env: env, Emit: log.emit})
	plans, _ := Plan(rs.Program, Options{})
	cfg.Plans, cfg.Detector, cfg.Emit = plans, det, log.emit
	cfg.Logf = t.Logf
	enf := New(cfg)
	if err := enf.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	det.SetReactor(enf)
	a, err := agent.Start(agent.Config{
		Sensor:   sensor.Config{Syscalls: rs.Syscalls},
		TrackFDs: rs.NeedsFDTable,
		Table:    table,
		Handler: func(shard int, ev *event.Event) {
			enf.Observe(ev, containers)
			det.Handle(shard, ev)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
	})
	return &rig{enf: enf, log: log, det: det, containers: containers}
}

// waitAlert waits for an alert of rule with the given outcome, and
// returns it.
func (r *rig) waitAlert(t *testing.T, rule, outcome string) *alert.Alert {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if a := r.find(rule, outcome); a != nil {
			return a
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q alert with outcome %q; alerts:\n%s", rule, outcome, r.describe())
	return nil
}

func (r *rig) find(rule, outcome string) *alert.Alert {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	for _, a := range r.log.alerts {
		if a.Rule == rule && (outcome == "" || (a.Enforcement != nil && a.Enforcement.Outcome == outcome)) {
			return a
		}
	}
	return nil
}

// findFor returns rule's first alert about process pid.
func (r *rig) findFor(rule string, pid uint32) *alert.Alert {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	for _, a := range r.log.alerts {
		if a.Rule == rule && a.Context.Process.PID == pid {
			return a
		}
	}
	return nil
}

// countFor returns how many alerts rule has raised about process pid.
func (r *rig) countFor(rule string, pid uint32) int {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	n := 0
	for _, a := range r.log.alerts {
		if a.Rule == rule && a.Context.Process.PID == pid {
			n++
		}
	}
	return n
}

// count returns how many alerts rule has raised.
func (r *rig) count(rule string) int {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	n := 0
	for _, a := range r.log.alerts {
		if a.Rule == rule {
			n++
		}
	}
	return n
}

func (r *rig) describe() string {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	var b strings.Builder
	for _, a := range r.log.alerts {
		fmt.Fprintf(&b, "  %s: %s %+v\n", a.Rule, a.Output, a.Enforcement)
	}
	return b.String()
}

// uniqueName returns a short program name (task names keep 15 bytes).
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%06d", prefix, rand.IntN(1000000))
}

// startContainer runs a busybox container with no network and returns its
// full id.
func startContainer(t *testing.T) string {
	t.Helper()
	testutil.RequireDocker(t)
	out, err := exec.Command("docker", "run", "-d", "--rm", "--network", "none", "vigil-test/busybox:1", "sleep", "300").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, "docker", "rm", "-f", id)
	return id
}

// dockerExec runs a command in the container and returns its combined
// output and error.
func dockerExec(id string, args ...string) (string, error) {
	out, err := exec.Command("docker", append([]string{"exec", id}, args...)...).CombinedOutput()
	return string(out), err
}

func mustDockerExec(t *testing.T, id string, args ...string) {
	t.Helper()
	if out, err := dockerExec(id, args...); err != nil {
		t.Fatalf("docker exec %v: %v\n%s", args, err, out)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
