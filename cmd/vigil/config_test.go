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
