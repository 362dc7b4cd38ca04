package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigShow runs `vigil config show` with a file, a VIGIL_*
// variable and a flag, and checks that each layer wins over the one
// before; and that an unknown key stops it with its position.
func TestConfigShow(t *testing.T) {
	bin := vigilBinary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(path, []byte("shards: 2\nmetrics_addr: 127.0.0.1:9000\noutputs:\n  http:\n    enabled: true\n    url: http://127.0.0.1:2801/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "config", "show", "--config", path, "--shards", "3")
	cmd.Env = append(os.Environ(), "VIGIL_METRICS_ADDR=127.0.0.1:9100", "VIGIL_SHARDS=4")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"shards: 3\n", "metrics_addr: 127.0.0.1:9100\n", "url: http://127.0.0.1:2801/\n", "format: json\n", "window: 1m0s\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("config show lacks %q:\n%s", want, out)
		}
	}

	if err := os.WriteFile(path, []byte("outputs:\n  stdout:\n    formatt: text\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, "config", "show", "--config", path).CombinedOutput()
	if want := "vigil: " + path + `:3:5: unknown key "outputs.stdout.formatt"` + "\n"; err == nil || string(out) != want {
		t.Errorf("got %v %q, want %q", err, out, want)
	}
	out, err = exec.Command(bin, "config", "show", "--config", filepath.Join(dir, "missing.yaml")).CombinedOutput()
	if err == nil {
		t.Errorf("missing --config accepted: %s", out)
	}
}

// TestConfigFromFalco: `vigil config show` reads a falco.yaml; `vigil
// config from-falco` writes a Vigil file that config show reads into the
// same configuration, with the ignored keys in comments.
func TestConfigFromFalco(t *testing.T) {
	bin := vigilBinary(t)
	dir := t.TempDir()
	falco := filepath.Join(dir, "falco.yaml")
	if err := os.WriteFile(falco, []byte("json_output: true\npriority: warning\nstdout_output:\n  enabled: true\n"+
		"program_output:\n  enabled: true\n  program: cat\nload_plugins: [k8saudit]\nrules_files: [/nonexistent.yaml]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	show := func(path string) string {
		out, err := exec.Command(bin, "config", "show", "--config", path).CombinedOutput()
		if err != nil {
			t.Fatalf("config show %s: %v: %s", path, err, out)
		}
		return string(out)
	}
	fromFalco := show(falco)
	for _, want := range []string{"priority: warning\n", "rule_matching: first\n", "keep_alive: false\n", "command: cat\n"} {
		if !strings.Contains(fromFalco, want) {
			t.Errorf("config show of falco.yaml lacks %q:\n%s", want, fromFalco)
		}
	}
	vigil := filepath.Join(dir, "vigil.yaml")
	if out, err := exec.Command(bin, "config", "from-falco", falco, "--output", vigil).CombinedOutput(); err != nil {
		t.Fatalf("from-falco: %v: %s", err, out)
	}
	text, _ := os.ReadFile(vigil)
	if !strings.Contains(string(text), "#   load_plugins (line 8): ignored:") ||
		!strings.Contains(string(text), "/nonexistent.yaml does not exist") {
		t.Errorf("translation lacks the notes:\n%s", text)
	}
	if got := show(vigil); got != fromFalco {
		t.Errorf("translated file shows\n%s\nthe falco.yaml\n%s", got, fromFalco)
	}
	if out, err := exec.Command(bin, "config", "from-falco", vigil).CombinedOutput(); err == nil {
		t.Errorf("from-falco took a Vigil file: %s", out)
	}
}
