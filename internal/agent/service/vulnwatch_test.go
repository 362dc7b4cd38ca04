package service

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/vulndb"
	"github.com/vigilsec/vigil/internal/vulnrank"
)

func TestVulnAlert(t *testing.T) {
	a := vulnrank.Alert{
		Container: vulnrank.ContainerFacts{ID: "0123456789ab", Name: "web"},
		Ranked: vulnrank.Ranked{Score: 14.7, Use: "executed",
			Finding:   vulndb.Finding{IDs: []string{"CVE-2024-0001", "GHSA-xxxx"}},
			Package:   vulnrank.PackageRef{Name: "busybox", Version: "1.35"},
			Processes: []vulnrank.ProcessRef{{PID: 42, Comm: "sleep", How: "executed"}},
			Reasons:   []string{"base 9.8 (CVSS)", "busybox is executed by sleep (pid 42)"}},
	}
	al := vulnAlert(a, "node1")
	if al.Rule != "Critical vulnerability in use" || al.Priority != "Critical" || al.Hostname != "node1" {
		t.Errorf("alert %+v", al)
	}
	want := "container web runs busybox 1.35 with critical vulnerability CVE-2024-0001 (score 14.70): busybox is executed by sleep (pid 42)"
	if al.Output != want {
		t.Errorf("output %q\nwant %q", al.Output, want)
	}
	if al.OutputFields["vuln.ids"] != "CVE-2024-0001,GHSA-xxxx" || al.Context.Identity.ContainerID != "0123456789ab" {
		t.Errorf("fields %v identity %+v", al.OutputFields, al.Context.Identity)
	}
}

// TestVulnWatchOffWithoutDB: a missing database leaves the agent running
// with the watch off, and says so.
func TestVulnWatchOffWithoutDB(t *testing.T) {
	c := config.VulnWatch{Enabled: true, DB: filepath.Join(t.TempDir(), "missing.db"), Interval: config.Duration(1e9)}
	stop := startVulnWatch(c, nil, func(*alert.Alert) bool { return true }, "h", slog.New(slog.NewTextHandler(io.Discard, nil)))
	stop()
}
