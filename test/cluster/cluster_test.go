// Package cluster tests the central service end to end, as it runs: real
// processes (`vigil server` replicas, a real `vigil run --server` agent,
// simulated agents using the same transport code), a real NATS JetStream
// and a real PostgreSQL, through the failures the design must survive.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigilsec/vigil/internal/testutil"
)

const heartbeat = time.Second

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type db struct {
	t    *testing.T
	conn *pgx.Conn
	url  string
}

func (d *db) query(q string, args ...any) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if d.conn == nil || d.conn.IsClosed() {
		c, err := pgx.Connect(ctx, d.url)
		if err != nil {
			return nil, err
		}
		d.conn = c
	}
	rows, err := d.conn.Query(ctx, q, args...)
	if err != nil {
		err = errors.Join(err, d.conn.Close(ctx))
		d.conn = nil
		return nil, err
	}
	out := map[string]int{}
	var k string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error { out[k] = n; return nil })
	return out, err
}

// stored counts rows and distinct message ids of non-internal alerts by
// node.
func (d *db) stored() (rows, ids map[string]int) {
	rows, err := d.query("SELECT node, count(*)::int FROM alerts WHERE source <> 'internal' GROUP BY node")
	if err != nil {
		return nil, nil
	}
	ids, _ = d.query("SELECT node, count(DISTINCT msg_id)::int FROM alerts WHERE source <> 'internal' GROUP BY node")
	return rows, ids
}

func (d *db) waitStored(want map[string]int, timeout time.Duration) map[string]int {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	var got map[string]int
	for time.Now().Before(deadline) {
		got, _ = d.stored()
		ok := true
		for node, n := range want {
			if got[node] < n {
				ok = false
			}
		}
		if ok {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.t.Fatalf("stored %v, want %v", got, want)
	return nil
}

// TestCluster runs three agents (sim-1 and sim-2 simulated, real-1 the
// real sensor) and two server replicas, and through it: kill -9 of a
// replica mid-stream, a PostgreSQL restart mid-stream, NATS stopped for
// 30 s while the agents produce, an agent restarted, an agent killed with
// kill -9. Every alert produced must be stored exactly once with its
// node, and the server must alert on the killed agent within two
// heartbeat intervals.
func TestCluster(t *testing.T) {
	testutil.RequireBPF(t)
	t0 := time.Now()
	phase := func(what string) { t.Logf("%6.1fs  %s", time.Since(t0).Seconds(), what) }
	dbURL := testutil.Postgres(t)
	tmp := t.TempDir()
	vigil := build(t, tmp, "./cmd/vigil", "vigil")
	sim := build(t, tmp, "./test/cluster/simagent", "simagent")

	phase("built; starting NATS, two server replicas, three agents")
	natsDir, natsPort := filepath.Join(tmp, "nats"), freePort(t)
	ns := testutil.NATS(t, natsDir, natsPort)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)

	serverEnv := []string{"VIGIL_DATABASE_URL=" + dbURL, "VIGIL_NATS_URL=" + natsURL, "VIGIL_API_ADDR=127.0.0.1:0",
		"VIGIL_AGENTS_CHECK_INTERVAL=200ms", "VIGIL_CONSUMER_ACK_WAIT=3s", "VIGIL_LOG_LEVEL=info"}
	replica := func(name string) *proc {
		p := start(t, name, serverEnv, vigil, "server")
		p.waitLog(t, "server: consuming", 30*time.Second)
		return p
	}
	r1, r2 := replica("server-1"), replica("server-2")
	d := &db{t: t, url: dbURL}

	simAgent := func(node string, nth int) *proc {
		return start(t, fmt.Sprintf("%s#%d", node, nth), nil, sim, "--nats", natsURL, "--node", node,
			"--spool", filepath.Join(tmp, "spool-"+node), "--rate", "150", "--heartbeat", heartbeat.String())
	}
	s1, s2 := simAgent("sim-1", 1), simAgent("sim-2", 1)

	// The real agent: one rule on a trigger file, alerts on stdout (to
	// count) and to the central service.
	trig := filepath.Join(tmp, "trigger-")
	rules := filepath.Join(tmp, "rules.yaml")
	if err := os.WriteFile(rules, []byte(fmt.Sprintf(`- rule: Cluster trigger
  desc: t
  condition: evt.type in (open, openat, openat2) and fd.name startswith %s
  output: trigger %%fd.name
  priority: WARNING
`, trig)), 0o644); err != nil {
		t.Fatal(err)
	}
	real1 := start(t, "real-1", []string{"VIGIL_HOST_HOSTNAME=real-1", "VIGIL_TRANSPORT_SPOOL_DIR=" + filepath.Join(tmp, "spool-real"),
		"VIGIL_TRANSPORT_HEARTBEAT_INTERVAL=" + heartbeat.String(), "VIGIL_KERNEL_DROP_ALERT_ENABLED=false"},
		vigil, "run", "--rules", rules, "--server", natsURL)
	real1.waitLog(t, "transport: sending to the central service", 60*time.Second)
	triggers := 0
	trigger := func(n int) {
		for range n {
			if err := os.WriteFile(fmt.Sprintf("%s%d", trig, triggers), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			triggers++
		}
	}
	trigger(20)

	time.Sleep(2 * time.Second)
	phase("kill -9 server-1 mid-stream")
	r1.kill()
	time.Sleep(time.Second)
	r1 = replica("server-1b")
	phase("server-1 back")
	trigger(20)

	time.Sleep(time.Second)
	phase("restarting PostgreSQL (down 3 s)")
	testutil.RestartPostgres(t, 3*time.Second)
	phase("PostgreSQL back")
	trigger(20)

	time.Sleep(2 * time.Second)
	phase("stopping NATS for 30 s while the agents produce")
	ns.Shutdown()
	for range 6 {
		time.Sleep(5 * time.Second)
		trigger(5)
	}
	testutil.NATS(t, natsDir, natsPort)
	phase("NATS back")

	time.Sleep(2 * time.Second)
	phase("restarting sim-2")
	s2.stop(t, 15*time.Second)
	p2a, d2a := s2.report(t, 1)
	s2 = simAgent("sim-2", 2)
	time.Sleep(3 * time.Second)

	phase("stopping production")
	s1.signal(t, syscall.SIGUSR1)
	p1, d1 := s1.report(t, 1)
	s2Stopped := time.Now()
	s2.stop(t, 15*time.Second)
	p2b, d2b := s2.report(t, 1)
	waitTriggers := time.Now().Add(10 * time.Second)
	for strings.Count(real1.stdout(), "Cluster trigger") < triggers && time.Now().Before(waitTriggers) {
		time.Sleep(100 * time.Millisecond)
	}
	realStopped := time.Now()
	real1.stop(t, 30*time.Second)
	realAlerts := 0
	for _, line := range strings.Split(real1.stdout(), "\n") {
		if strings.HasPrefix(line, "{") {
			realAlerts++
		}
	}
	produced := map[string]int{"sim-1": p1, "sim-2": p2a + p2b, "real-1": realAlerts}
	phase(fmt.Sprintf("produced %v (refused by full queues: sim-1 %d, sim-2 %d; real-1 trigger files %d)", produced, d1, d2a+d2b, triggers))
	if realAlerts < triggers {
		t.Errorf("real-1 raised %d alerts for %d trigger files", realAlerts, triggers)
	}
	rows := d.waitStored(produced, 90*time.Second)
	_, ids := d.stored()
	phase(fmt.Sprintf("stored rows %v, distinct ids %v", rows, ids))
	for node, n := range produced {
		if rows[node] != n || ids[node] != n {
			t.Errorf("%s: produced %d, stored %d rows with %d distinct ids", node, n, rows[node], ids[node])
		}
	}

	// kill -9 an agent: the server must notice within two heartbeats.
	phase("kill -9 sim-1")
	killed := time.Now()
	s1.kill()
	var delay time.Duration
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got, _ := d.query(`SELECT node, count(*)::int FROM alerts WHERE source = 'internal' AND rule = 'Vigil agent silent'
			AND node = 'sim-1' AND received > $1 GROUP BY node`, killed)
		if got["sim-1"] > 0 {
			delay = time.Since(killed)
			break
		}
	}
	phase(fmt.Sprintf("silent alert for sim-1 after %s (heartbeat %s)", delay.Round(time.Millisecond), heartbeat))
	if delay == 0 || delay > 2*heartbeat+800*time.Millisecond {
		t.Errorf("silent alert after %s, want within two heartbeat intervals (%s) plus the check interval", delay, 2*heartbeat)
	}
	detail, _ := d.query(`SELECT node || ': ' || rule || ' at ' || to_char(received, 'HH24:MI:SS.MS'), 1 FROM alerts
		WHERE source = 'internal'`)
	phase(fmt.Sprintf("internal alerts %v (sim-1 killed at %s)", detail, killed.UTC().Format("15:04:05.000")))
	internal, _ := d.query("SELECT node || ': ' || rule, count(*)::int FROM alerts WHERE source = 'internal' GROUP BY 1")
	if internal["sim-2: Vigil agent restarted"] != 1 {
		t.Errorf("sim-2's restart: %d alerts", internal["sim-2: Vigil agent restarted"])
	}
	// No false alarm through the faults: an agent is reported silent only
	// after it was stopped or killed.
	early, _ := d.query(`SELECT node, count(*)::int FROM alerts WHERE source = 'internal' AND rule = 'Vigil agent silent'
		AND ((node = 'sim-1' AND received < $1) OR (node = 'sim-2' AND received < $2) OR (node = 'real-1' AND received < $3))
		GROUP BY node`, killed, s2Stopped, realStopped)
	if len(early) > 0 || internal["sim-1: Vigil agent silent"] != 1 {
		t.Errorf("silent alerts before the agent stopped: %v; for sim-1 after its kill: %d", early, internal["sim-1: Vigil agent silent"])
	}
	states, _ := d.query("SELECT node || ' ' || state, restarts::int FROM agents")
	phase(fmt.Sprintf("agent states (with restarts) %v", states))
	if _, ok := states["sim-1 silent"]; !ok {
		t.Errorf("sim-1 is not silent: %v", states)
	}
	for _, r := range []*proc{r1, r2} {
		r.stop(t, 15*time.Second)
	}
	phase("replicas stopped")
}
