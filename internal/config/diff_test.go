package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestChangedAndNeedsRestart(t *testing.T) {
	a, b := Default(), Default()
	if got := Changed(a, b); len(got) != 0 {
		t.Errorf("defaults differ: %v", got)
	}
	b.Shards = 4
	b.Rules = []string{"/r.yaml"}
	b.Outputs.HTTP.Headers = map[string]string{"X": "y"}
	b.KernelDropAlert.Window = Duration(time.Hour)
	b.RateLimit.Enabled = true
	got := Changed(a, b)
	want := []string{"rules", "shards", "kernel_drop_alert.window", "rate_limit.enabled", "outputs.http.headers"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changed %v, want %v", got, want)
	}
	var restart []string
	for _, k := range got {
		if NeedsRestart(k) {
			restart = append(restart, k)
		}
	}
	if !reflect.DeepEqual(restart, []string{"shards", "kernel_drop_alert.window"}) {
		t.Errorf("restart keys %v", restart)
	}
	for _, k := range Keys() {
		if NeedsRestart(k) != (k == "ring_buffer_size" || k == "shards" || k == "metrics_addr" || k == "log_format" ||
			k == "log_level" || strings.HasPrefix(k, "reload.") || strings.HasPrefix(k, "kernel_drop_alert.") || strings.HasPrefix(k, "vuln_watch.") || strings.HasPrefix(k, "kubernetes.") ||
			strings.HasPrefix(k, "host.") || strings.HasPrefix(k, "transport.") ||
			k == "baselines.enabled" || k == "baselines.data_dir" || strings.HasPrefix(k, "baselines.store.")) {
			t.Errorf("NeedsRestart(%s) = %v", k, NeedsRestart(k))
		}
	}
}

func TestValidateNewKeys(t *testing.T) {
	c := Default()
	c.LogFormat = "xml"
	c.LogLevel = "loud"
	c.KernelDropAlert.Ratio = 2
	c.KernelDropAlert.Window = Duration(24 * time.Hour)
	c.KernelDropAlert.Interval = Duration(time.Second)
	err := c.Validate()
	for _, want := range []string{`log_format: "xml": want text or json`, `log_level: "loud"`, "kernel_drop_alert.ratio: 2 is not in (0, 1]",
		"kernel_drop_alert: window / interval is 86400; at most 3600 samples are kept"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
}
