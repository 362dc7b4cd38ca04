package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/testutil"
)

// docsRule is the rule docs/enforcement.md opens with, as written there,
// and where its action's value is (line and column).
func docsRule(t *testing.T) (text string, actionLine, actionCol int) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/enforcement.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	text, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(text, "action: block") {
		t.Fatalf("docs/enforcement.md no longer opens with a block rule:\n%s", text)
	}
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "action:") {
			return text, i + 1, strings.Index(line, "block") + 1
		}
	}
	t.Fatal("no action line")
	return "", 0, 0
}

const hostExecNote = `warning: rule "Netcat hands out a shell": host processes (those outside containers) are not protected before the exec: ` +
	`exec blocking marks only containers' mounts unless enforcement.host_exec is true, so a matching host program starts and is killed after detection (pidfd) if it still runs`

// TestDocsEnforcementExample takes the example rule of docs/enforcement.md
// (where the README sends readers for enforcement) as a user would. At
// load time rules validate, run --dry-run, enforce status (text, JSON and
// a running agent's) and the agent's log at start and reload all say, at
// its action key, that host processes are not protected before the exec
// (enforcement.host_exec is off by default), and nothing is said with
// host_exec on; then the agent does what the documentation and that
// warning say: nc -e in a container is refused before it runs, with the
// documented alert, and on the host it starts and is killed after
// detection.
func TestDocsEnforcementExample(t *testing.T) {
	text, line, col := docsRule(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "netcat.yaml")
	if err := os.WriteFile(rules, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	note := fmt.Sprintf("%s:%d:%d: %s", rules, line, col, hostExecNote)
	bin := vigilBinary(t)

	out, err := exec.Command(bin, "rules", "validate", rules).CombinedOutput()
	if err != nil || !strings.Contains(string(out), note) {
		t.Errorf("rules validate (%v) does not warn at the action key:\n%s\nwant %s", err, out, note)
	}
	out, err = exec.Command(bin, "enforce", "status", "--rules", rules, "--json").Output()
	var st enforce.Status
	if err != nil || json.Unmarshal(out, &st) != nil || len(st.Rules) != 1 {
		t.Fatalf("enforce status: %v\n%s", err, out)
	}
	if r := st.Rules[0]; r.Pre != "fanotify-exec" || r.Post != "pidfd" || len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0], note) {
		t.Errorf("enforce status: %+v\nwant the note %s", r, note)
	}
	out, err = exec.Command(bin, "enforce", "status", "--rules", rules).Output()
	if err != nil || !strings.Contains(string(out), "    note: "+note) {
		t.Errorf("enforce status (%v) does not show the note:\n%s\nwant %s", err, out, note)
	}
	out, err = exec.Command(bin, "run", "--dry-run", "--rules", rules).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("at=%s:%d:%d", rules, line, col)) ||
		!strings.Contains(string(out), strings.ReplaceAll(strings.TrimPrefix(note, fmt.Sprintf("%s:%d:%d: warning: ", rules, line, col)), `"`, `\"`)) {
		t.Errorf("run --dry-run (%v) does not log the note:\n%s\nwant %s", err, out, note)
	}
	// With host execs blocked too, nothing is left out and nothing is said.
	hostExec := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(hostExec, []byte("enforcement:\n  host_exec: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, "enforce", "status", "--config", hostExec, "--rules", rules, "--json").Output()
	st = enforce.Status{}
	if err != nil || json.Unmarshal(out, &st) != nil || len(st.Rules) != 1 || len(st.Rules[0].Notes) != 0 {
		t.Errorf("enforce status with host_exec (%v): want no note:\n%s", err, out)
	}

	testutil.RequireBPF(t)
	testutil.RequireDocker(t)
	a := startAgent(t, nil, "--rules", rules, "--metrics-addr", "127.0.0.1:0")
	logged := "enforcement: " + strings.ReplaceAll(note, `"`, `\"`)
	if a.findLog(0, logged) < 0 {
		t.Errorf("the start-up log does not carry the warning %s", note)
	}
	out, err = exec.Command(bin, "enforce", "status", "--agent", a.metrics, "--json").Output()
	st = enforce.Status{}
	if err != nil || json.Unmarshal(out, &st) != nil || len(st.Rules) != 1 || len(st.Rules[0].Notes) != 1 ||
		!strings.HasPrefix(st.Rules[0].Notes[0], note) {
		t.Errorf("the running agent's status (%v) lacks the note:\n%s\nwant %s", err, out, note)
	}

	t.Run("container: refused before it runs", func(t *testing.T) {
		name := fmt.Sprintf("vigil-docs-nc-%06d", rand.IntN(1000000))
		out, err := exec.Command("/usr/bin/docker", "run", "-d", "--name", name, "vigil-test/busybox:1", "sleep", "120").Output()
		if err != nil {
			t.Fatalf("docker run: %v", err)
		}
		id := strings.TrimSpace(string(out))
		testutil.RunOnCleanup(t, "/usr/bin/docker", "rm", "-f", id)
		if out, err := exec.Command("/usr/bin/docker", "exec", id, "/bin/busybox", "ln", "-s", "/bin/busybox", "/tmp/nc").CombinedOutput(); err != nil {
			t.Fatalf("ln: %v %s", err, out)
		}
		// The container's mounts are marked once the agent has seen it;
		// until then an exec goes ahead and is handled after detection.
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, _ := exec.Command("/usr/bin/docker", "exec", id, "/tmp/nc", "-e", "/bin/sh", "127.0.0.1", "4444").CombinedOutput()
			if strings.Contains(strings.ToLower(string(out)), "operation not permitted") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nc -e was never refused; last output %q", out)
			}
			time.Sleep(500 * time.Millisecond)
		}
		for {
			al := a.nextAlert()
			en, _ := al["enforcement"].(map[string]any)
			if al["rule"] != "Netcat hands out a shell" || en["outcome"] != "blocked" {
				continue // an earlier attempt, before the marks
			}
			if en["action"] != "block" || en["mode"] != "enforce" || en["mechanism"] != "fanotify-exec" {
				t.Errorf("enforcement block %v", en)
			}
			output, _ := al["output"].(string)
			output = alert.StripPrefix(output, "Critical")
			if !strings.HasPrefix(output, "[blocked] netcat shell (cmd=nc -e /bin/sh 127.0.0.1 4444 parent=") ||
				!strings.HasSuffix(output, " container="+id[:12]+")") {
				t.Errorf("output %q", output)
			}
			return
		}
	})

	t.Run("host: runs, then killed after detection", func(t *testing.T) {
		nc := testutil.CopyExecutable(t, "/bin/busybox", filepath.Join(t.TempDir(), "nc"))
		port := fmt.Sprint(20000 + rand.IntN(20000))
		// A listener with -e waits for a peer: it is still running when
		// the detection comes, so the kill cannot miss it.
		cmd := exec.Command(nc, "-l", "-p", port, "-e", "/bin/sh")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("host nc ended with %v, want SIGKILL", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill() // the goroutine above reaps it
			t.Fatal("host nc -e was not killed")
		}
		pid := float64(cmd.Process.Pid)
		for {
			al := a.nextAlert()
			proc, _ := al["context"].(map[string]any)["process"].(map[string]any)
			if al["rule"] != "Netcat hands out a shell" || proc["pid"] != pid {
				continue
			}
			en, _ := al["enforcement"].(map[string]any)
			if en["outcome"] != "killed" || en["mechanism"] != "pidfd" {
				t.Errorf("enforcement block %v", en)
			}
			if output, _ := al["output"].(string); !strings.HasPrefix(alert.StripPrefix(output, "Critical"), "[killed] netcat shell (cmd=nc -l -p "+port+" -e /bin/sh parent=") {
				t.Errorf("output %q", output)
			}
			return
		}
	})

	// A reload plans the rules again, and says it again.
	from := a.logCount()
	a.signal(syscall.SIGHUP)
	a.waitLog(from, "reload succeeded")
	a.waitLog(from, logged)
}
