package service

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/sensor"
)

// Capabilities that stand in for root on kernels with CAP_BPF (5.8+).
const (
	capPerfmon = 38
	capBPF     = 39
)

// preflight checks what the agent cannot run without and logs every
// kernel feature found or missing. Each refusal is one line naming the
// condition.
func preflight(log *slog.Logger) error {
	if uid := os.Geteuid(); uid != 0 && !hasCaps(capBPF, capPerfmon) {
		return fmt.Errorf("not starting: vigil run needs root, or CAP_BPF and CAP_PERFMON, to load eBPF programs (running as uid %d without them)", uid)
	}
	var missing []string
	for _, f := range sensor.ProbeFeatures() {
		switch {
		case f.Available:
			log.Info("kernel feature found", "feature", f.Name, "required", f.Required)
		case f.Required:
			log.Error("kernel feature missing", "feature", f.Name, "required", true, "detail", f.Detail)
			missing = append(missing, f.Name+" ("+f.Detail+")")
		default:
			log.Info("kernel feature missing; what needs it is off", "feature", f.Name, "detail", f.Detail)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not starting: this kernel lacks what the sensor requires: %s", strings.Join(missing, "; "))
	}
	return nil
}

// hasCaps reports whether the process holds every capability in its
// effective set.
func hasCaps(caps ...uint) bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(status)) {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			eff, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				return false
			}
			for _, c := range caps {
				if eff&(1<<c) == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}
