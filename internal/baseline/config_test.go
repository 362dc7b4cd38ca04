package baseline

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	c.Enabled = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.Learning.MinDuration) != time.Hour || time.Duration(c.Learning.StableFor) != 30*time.Minute || c.DefaultMode != "learn" {
		t.Errorf("defaults: %+v", c.Learning)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	c := Default()
	c.Enabled = true
	c.DataDir = ""
	c.DefaultMode = "protect"
	c.Store.FlushInterval = Duration(5 * time.Second)
	c.Dimensions.Outbound.Cap = 1
	c.Dimensions.Executables.Priority = "LOUD"
	c.Exclude.Workloads = []string{"k8s/[/*"}
	c.SensitivePaths = []string{"relative"}
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"baselines.default_mode: protect needs protect_allowed: true",
		"baselines.data_dir: must be set",
		"baselines.store.flush_interval: 5s",
		"baselines.dimensions.outbound.cap: 1: want 2 to 65536",
		`baselines.dimensions.executables.priority: "LOUD"`,
		"baselines.exclude.workloads[0]",
		"baselines.sensitive_paths[0]",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// TestYAML: the section decodes over the defaults, as internal/config
// will decode it.
func TestYAML(t *testing.T) {
	c := Default()
	src := `
enabled: true
default_mode: monitor
learning: {min_duration: 2h, stable_for: 45m}
dimensions:
  executables: {priority: CRITICAL, cap: 100}
exclude:
  namespaces: [kube-system]
`
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || c.DefaultMode != "monitor" || time.Duration(c.Learning.MinDuration) != 2*time.Hour ||
		c.Dimensions.Executables.Cap != 100 || c.Dimensions.Executables.Priority != "CRITICAL" ||
		!c.Dimensions.Executables.Enabled || c.Dimensions.FilesWritten.Cap != 256 || !c.excluded("k8s/kube-system/pod/x/y", "kube-system") {
		t.Errorf("decoded: %+v", c)
	}
	var bad Config
	if err := yaml.Unmarshal([]byte("learning: {stable_for: soon}"), &bad); err == nil || !strings.Contains(err.Error(), "not a duration") {
		t.Errorf("a bad duration: %v", err)
	}
	out, err := yaml.Marshal(Default())
	if err != nil || !strings.Contains(string(out), "stable_for: 30m0s") {
		t.Errorf("marshal: %v\n%s", err, out)
	}
}
