package config

import (
	"reflect"
	"strings"
)

// Changed returns the dotted paths of the keys whose values differ
// between a and b, sorted.
func Changed(a, b *Config) []string {
	var va, vb []reflect.Value
	var paths []string
	walk(reflect.ValueOf(a).Elem(), "", func(path string, v reflect.Value) { paths, va = append(paths, path), append(va, v) })
	walk(reflect.ValueOf(b).Elem(), "", func(_ string, v reflect.Value) { vb = append(vb, v) })
	var out []string
	for i, p := range paths {
		if !reflect.DeepEqual(va[i].Interface(), vb[i].Interface()) {
			out = append(out, p)
		}
	}
	return out
}

// restartKeys are the keys (or key prefixes, ending in ".") a running
// agent cannot change: they size kernel objects or the pipeline, or set up
// things made once at start.
var restartKeys = []string{"ring_buffer_size", "shards", "metrics_addr", "log_format", "log_level", "reload.", "kernel_drop_alert.", "vuln_watch.", "kubernetes.", "host.", "transport.",
	// Baselines: turning them on or off changes the pipeline and the
	// kernel's learning map, the data directory holds the open store and
	// the command socket, and the store's writer is sized at start.
	"baselines.enabled", "baselines.data_dir", "baselines.store."}

// NeedsRestart reports whether a change to key takes effect only when
// the agent restarts; the other keys (rules, rate_limit.*, outputs.*) are
// applied by a reload.
func NeedsRestart(key string) bool {
	for _, k := range restartKeys {
		if key == k || strings.HasSuffix(k, ".") && strings.HasPrefix(key, k) {
			return true
		}
	}
	return false
}
