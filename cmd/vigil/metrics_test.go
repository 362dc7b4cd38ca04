package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestRunServesMetrics scrapes /metrics of a running agent and checks that
// the counters match what the test did: three reads of /etc/shadow are
// three matches of the credential rule and three emitted alerts.
func TestRunServesMetrics(t *testing.T) {
	testutil.RequireBPF(t)
	bin := vigilBinary(t)
	cmd := exec.Command(bin, "run", "--duration", "60s", "--metrics-addr", "127.0.0.1:0")
	cmd.Stdout = io.Discard
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testutil.KillAndWait(cmd)

	var base string
	sc := bufio.NewScanner(stderr)
	deadline := time.Now().Add(20 * time.Second)
	for base == "" || !strings.Contains(sc.Text(), "running") {
		if time.Now().After(deadline) || !sc.Scan() {
			t.Fatal("vigil run did not report its metrics address and start")
		}
		if _, addr, ok := strings.Cut(sc.Text(), `msg="metrics on `); ok {
			base, _, _ = strings.Cut(addr, "/metrics")
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }() // keeps the child from blocking on a full pipe

	for _, path := range []string{"/healthz", "/readyz"} {
		if body := get(t, base+path); body != "ok\n" {
			t.Errorf("%s: %q", path, body)
		}
	}
	for range 3 {
		if err := exec.Command("/bin/cat", "/etc/shadow").Run(); err != nil {
			t.Fatal(err)
		}
	}
	rule := `vigil_rule_matches_total{rule="Credential file read by an unexpected program"} 3`
	var body string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		// Stdout's writer may still be sending when the match is counted.
		if body = get(t, base+"/metrics"); strings.Contains(body, rule) &&
			strings.Contains(body, `vigil_output_alerts_total{outcome="sent",output="stdout"} 3`) {
			break
		}
	}
	for _, want := range []string{
		rule,
		`vigil_alerts_total{outcome="emitted"} 3`,
		`vigil_alerts_total{outcome="dropped"} 0`,
		`vigil_output_alerts_total{outcome="sent",output="stdout"} 3`,
		`vigil_output_alerts_total{outcome="dropped",output="stdout"} 0`,
		`vigil_kernel_drops_total{kind="exec"} 0`,
		`vigil_decode_errors_total 0`,
		`vigil_container_lookups_total{outcome="unresolved"} `,
		`vigil_container_runtime_requests_total{outcome="error"} `,
		`vigil_containers_known `,
		`vigil_process_resident_memory_bytes `,
		`vigil_process_cpu_seconds_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`(?m)^vigil_events_received_total (\d+)`).FindStringSubmatch(body); m == nil || m[1] == "0" {
		t.Errorf("events received: %v", m)
	}
	if !regexp.MustCompile(`(?m)^vigil_process_table_entries [1-9]`).MatchString(body) {
		t.Error("process table size missing or zero")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", url, fmt.Sprint(resp.Status))
	}
	return string(b)
}
