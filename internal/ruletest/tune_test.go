package ruletest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/internal/detect"
)

// TestTuneDefaults amends the embedded rules from a local file, as
// docs/rules.md tells users to, and checks the result with a fixture.
func TestTuneDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tuning.yaml")
	os.WriteFile(path, []byte(`
- rule: Write below /etc
  enabled: false
  override:
    enabled: replace

- list: credential_readers
  items: [my-backup-agent]
  override:
    items: append
`), 0o644)
	rs, err := detect.Load(detect.LoadOptions{Paths: []string{path}, Defaults: true})
	if err != nil || len(rs.Diagnostics) > 0 {
		t.Fatal(err, rs.Diagnostics)
	}
	if r := rs.Program.Rule("Write below /etc"); r == nil || r.Enabled {
		t.Error("Write below /etc is still enabled")
	}
	f, err := Parse("f.yaml", []byte(`
tests:
  - name: the backup agent may read shadow
    event: {evt.type: openat, proc.name: my-backup-agent, fd.name: /etc/shadow}
    not_fire: [Credential file read by an unexpected program]
  - name: others may not
    event: {evt.type: openat, proc.name: tar, fd.name: /etc/shadow}
    fire: [Credential file read by an unexpected program]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Run(rs.Program, f) {
		for _, msg := range r.Failures {
			t.Errorf("%s: %s", r.Test.Name, msg)
		}
	}
}
