package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/alert/falcocheck"
	"github.com/vigilsec/vigil/internal/testutil"
)

// TestRunEmitsDefaultRuleAlert runs the built binary with the embedded
// default rules, reads /etc/shadow with cat, and checks the JSON alert
// field by field.
func TestRunEmitsDefaultRuleAlert(t *testing.T) {
	testutil.RequireBPF(t)
	bin := vigilBinary(t)
	cmd := exec.Command(bin, "run", "--duration", "60s", "--stats")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testutil.KillAndWait(cmd)

	// Wait until the agent is running before acting.
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	var logText strings.Builder
	for started := false; !started; {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("vigil run exited early:\n%s", logText.String())
			}
			logText.WriteString(line + "\n")
			started = strings.Contains(line, `msg="running `) && strings.Contains(line, ",openat,")
		case <-time.After(20 * time.Second):
			t.Fatalf("vigil run did not start:\n%s", logText.String())
		}
	}

	cat := exec.Command("cat", "/etc/shadow")
	if err := cat.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cat.Process.Pid

	alerts := make(chan []byte)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			alerts <- append([]byte(nil), sc.Bytes()...)
		}
		close(alerts)
	}()
	const rule = "Credential file read by an unexpected program"
	var raw []byte
	for raw == nil {
		select {
		case line, ok := <-alerts:
			if !ok {
				t.Fatal("vigil run closed stdout without the alert")
			}
			if bytes.Contains(line, []byte(`"rule":"`+rule+`"`)) && bytes.Contains(line, []byte(fmt.Sprintf(`"pid":%d,`, pid))) {
				raw = line
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no alert for cat /etc/shadow")
		}
	}
	checkShadowAlert(t, raw, pid)

	// SIGINT stops the agent cleanly and --stats reports the match.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range alerts {
		}
	}()
	for line := range logs {
		logText.WriteString(line + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("vigil run: %v\n%s", err, logText.String())
	}
	if !strings.Contains(logText.String(), `"`+rule+`": `) || !strings.Contains(logText.String(), `"alerts_dropped": 0`) {
		t.Errorf("stats:\n%s", logText.String())
	}
}

func checkShadowAlert(t *testing.T, raw []byte, pid int) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var a map[string]any
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if err := falcocheck.CheckFalco(raw); err != nil {
		t.Errorf("%v: %s", err, raw)
	}
	// Falco's prefix and the fields Vigil adds are checked apart, so that
	// the rest compares with what the rule renders.
	a["output"] = alert.StripPrefix(fmt.Sprint(a["output"]), "Warning")
	if fields, _ := a["output_fields"].(map[string]any); fields != nil {
		if _, ok := fields["evt.time"].(json.Number); !ok {
			t.Errorf("output_fields.evt.time = %#v", fields["evt.time"])
		}
		if anc, _ := fields["vigil.proc.ancestors"].([]any); len(anc) == 0 {
			t.Errorf("output_fields.vigil.proc.ancestors = %#v", fields["vigil.proc.ancestors"])
		}
		delete(fields, "evt.time")
		delete(fields, "vigil.proc.ancestors")
	}
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, ","); got != "context,hostname,output,output_fields,priority,rule,source,tags,time" {
		t.Errorf("alert keys %s", got)
	}
	host, _ := os.Hostname()
	comm := ownComm(t)
	catPath, _ := exec.LookPath("cat")
	catPath, _ = filepath.EvalSymlinks(catPath)
	num := func(n int) json.Number { return json.Number(fmt.Sprint(n)) }

	want := map[string]any{
		"rule":     "Credential file read by an unexpected program",
		"priority": "Warning",
		"source":   "syscall",
		"hostname": host,
		"output": fmt.Sprintf("Credential file opened for reading (file=/etc/shadow user=root uid=0 process=cat pid=%d "+
			"cmdline=cat /etc/shadow parent=%s container=host container_name=host image=<NA> pod=<NA> ns=<NA>)", pid, comm),
		"tags": []any{"T1003.005", "T1003.008", "container", "filesystem", "host", "mitre_credential_access"},
		"output_fields": map[string]any{
			"fd.name": "/etc/shadow", "proc.name": "cat", "proc.cmdline": "cat /etc/shadow", "proc.pname": comm,
			"user.name": "root", "user.uid": num(0), "proc.pid": num(pid), "container.id": "host",
			"container.name": "host", "container.image.repository": nil, "k8s.pod.name": nil, "k8s.ns.name": nil,
		},
	}
	for k, v := range want {
		if !reflect.DeepEqual(a[k], v) {
			t.Errorf("%s = %#v\nwant %#v", k, a[k], v)
		}
	}
	ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(a["time"]))
	if err != nil || time.Since(ts) > time.Minute || time.Since(ts) < -time.Second {
		t.Errorf("time %v (%v)", a["time"], err)
	}
	ctx, _ := a["context"].(map[string]any)
	p, _ := ctx["process"].(map[string]any)
	id, _ := ctx["identity"].(map[string]any)
	anc, _ := p["ancestors"].([]any)
	if p["pid"] != num(pid) || p["ppid"] != num(os.Getpid()) || p["exepath"] != catPath ||
		p["cmdline"] != "cat /etc/shadow" || len(anc) == 0 || anc[0] != comm {
		t.Errorf("context.process = %v (want exepath %s)", p, catPath)
	}
	if id["user"] != "root" || id["uid"] != num(0) || id["container_id"] != "host" || id["cgroup_id"] == num(0) {
		t.Errorf("context.identity = %v", id)
	}
}

func ownComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
