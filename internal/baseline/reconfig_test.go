package baseline

import (
	"fmt"
	"testing"

	"github.com/vigilsec/vigil/internal/workload"
)

// TestSetConfig: a reload's new configuration reaches a running engine:
// a lowered cap generalises at once, protect no longer allowed moves
// workloads to monitor, a new exclusion drops the workload, a dimension
// turned off is ignored, and an invalid configuration changes nothing.
func TestSetConfig(t *testing.T) {
	h := newHarness(t, nil)
	e := h.e
	for i := range 10 {
		e.Observe(web, &Fact{Dim: DimFileWrite, Path: fmt.Sprintf("/srv/set%d/data/file", i)}, nil)
	}
	other := workload.NewK8s("batch", workload.OwnerJob, "nightly", "run", false)
	e.Observe(other, execFact("/bin/sh", ""), nil)
	e.Flush()
	if err := e.SetMode(web.ID, Protect); err != nil {
		t.Fatal(err)
	}
	if n := e.Workloads()[1].Entries["files_written"]; n != 10 {
		t.Fatalf("before: %d files_written patterns", n)
	}

	bad := e.Config()
	bad.Dimensions.FilesWritten.Cap = 0
	if err := e.SetConfig(bad); err == nil {
		t.Fatal("an invalid configuration was applied")
	}

	cfg := e.Config()
	cfg.Dimensions.FilesWritten.Cap = 4
	cfg.ProtectAllowed = false
	cfg.Exclude.Workloads = []string{"k8s/batch/**"}
	cfg.Dimensions.Users.Enabled = false
	if err := e.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if m, _ := e.Mode(web.ID); m != Monitor {
		t.Errorf("mode after protect_allowed: false: %v", m)
	}
	if _, ok := e.Mode(other.ID); ok {
		t.Error("an excluded workload is still tracked")
	}
	if r := e.Observe(other, execFact("/bin/ls", ""), nil); r != Ignored {
		t.Errorf("an excluded workload's fact: %v", r)
	}
	ws := e.Workloads()
	if len(ws) != 1 || ws[0].Entries["files_written"] > 4 {
		t.Fatalf("after a lowered cap: %+v", ws)
	}
	if r := e.Observe(web, &Fact{Dim: DimFileWrite, Path: "/srv/set7/data/file"}, nil); r != Known {
		t.Errorf("a learned write after generalising: %v", r)
	}
	if r := e.Observe(web, &Fact{Dim: DimUser, Num: 12345}, nil); r != Ignored {
		t.Errorf("a fact of a dimension turned off: %v", r)
	}
	if err := e.SetMode(web.ID, Protect); err == nil {
		t.Error("protect accepted after protect_allowed: false")
	}

	// Exclusion lifted: the workload is tracked again.
	cfg.Exclude.Workloads = nil
	if err := e.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if r := e.Observe(other, execFact("/bin/ls", ""), nil); r != Learned {
		t.Errorf("a workload no longer excluded: %v", r)
	}
}

func TestExcludeDeepPattern(t *testing.T) {
	c := Default()
	c.Exclude.Workloads = []string{"host/**", "k8s/kube-system/*/*/*"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{
		"host/exe/usr/sbin/sshd":              true,
		"host/unit/nginx.service":             true,
		"k8s/kube-system/daemonset/proxy/kp":  true,
		"k8s/shop/deployment/web/app":         false,
		"image/redis:7/cache":                 false,
		"hostile/exe/x":                       false,
		"k8s/kube-system/daemonset/proxy/a/b": false,
	} {
		if got := c.excluded(id, ""); got != want {
			t.Errorf("excluded(%s) = %v, want %v", id, got, want)
		}
	}
}
