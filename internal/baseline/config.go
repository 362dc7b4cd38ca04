package baseline

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the `baselines:` section of the configuration. Every key is
// documented in docs/baselines.md; Default gives the values used when a
// key is absent.
type Config struct {
	// Enabled turns learned baselines on.
	Enabled bool `yaml:"enabled"`
	// DataDir holds the store (baselines.db).
	DataDir string `yaml:"data_dir"`
	// DefaultMode is the mode of a workload seen for the first time:
	// learn, monitor or protect.
	DefaultMode string `yaml:"default_mode"`
	// ProtectAllowed lets workloads be put in protect mode; without it a
	// request for protect is refused.
	ProtectAllowed bool `yaml:"protect_allowed"`
	// ProtectKill, in protect mode, kills a process whose departure no
	// mechanism could stop before it happened (a file written, a port
	// listened on, an exec on a mount not watched); without it such a
	// departure is only alerted.
	ProtectKill bool `yaml:"protect_kill"`
	// MaxWorkloads bounds how many workloads are tracked; past it, new
	// workloads are counted and ignored.
	MaxWorkloads int `yaml:"max_workloads"`

	Learning   Learning   `yaml:"learning"`
	Alerts     Alerts     `yaml:"alerts"`
	Store      StoreConf  `yaml:"store"`
	Exclude    Exclude    `yaml:"exclude"`
	Dimensions Dimensions `yaml:"dimensions"`
	// SensitivePaths are patterns added to the built-in list of
	// sensitive files whose reads are recorded (see SensitivePaths).
	SensitivePaths []string `yaml:"sensitive_paths,omitempty"`
}

// Learning is when a workload leaves learn mode by itself.
type Learning struct {
	// AutoMonitor moves a workload from learn to monitor when both
	// durations below have passed.
	AutoMonitor bool `yaml:"auto_monitor"`
	// MinDuration is the least time a workload learns.
	MinDuration Duration `yaml:"min_duration"`
	// StableFor is how long nothing new must have been learned.
	StableFor Duration `yaml:"stable_for"`
}

// Alerts shape drift alerts.
type Alerts struct {
	// RepeatAfter is how long the same departure of one workload stays
	// quiet after its alert.
	RepeatAfter Duration `yaml:"repeat_after"`
	// Burst and PerMinute bound one workload's drift alerts: Burst at
	// once, then PerMinute; the rest are counted in the next alert.
	Burst     int `yaml:"burst"`
	PerMinute int `yaml:"per_minute"`
}

// StoreConf tunes the writer of the store.
type StoreConf struct {
	// FlushInterval is the longest a learned change waits before it is
	// written; a crash loses at most this much learning. At most 1s.
	FlushInterval Duration `yaml:"flush_interval"`
	// QueueLen bounds the changes waiting for the writer; past it,
	// changes are dropped and counted (they are learned again later).
	QueueLen int `yaml:"queue_len"`
}

// Exclude lists workloads that get no baseline.
type Exclude struct {
	// Workloads are patterns on workload ids (path.Match syntax, where '*'
	// does not cross '/'), e.g. "k8s/kube-system/*/*/*"; a final "/**"
	// matches any number of further segments, e.g. "host/**".
	Workloads []string `yaml:"workloads,omitempty"`
	// Namespaces are Kubernetes namespaces, excluded whole.
	Namespaces []string `yaml:"namespaces,omitempty"`
}

// Dimensions configures each dimension.
type Dimensions struct {
	Executables    DimensionConfig `yaml:"executables"`
	ExecEdges      DimensionConfig `yaml:"exec_edges"`
	FilesWritten   DimensionConfig `yaml:"files_written"`
	SensitiveReads DimensionConfig `yaml:"sensitive_reads"`
	Listening      DimensionConfig `yaml:"listening"`
	Outbound       DimensionConfig `yaml:"outbound"`
	Inbound        DimensionConfig `yaml:"inbound"`
	Syscalls       DimensionConfig `yaml:"syscalls"`
	Capabilities   DimensionConfig `yaml:"capabilities"`
	Users          DimensionConfig `yaml:"users"`
}

// DimensionConfig configures one dimension.
type DimensionConfig struct {
	// Enabled records and checks the dimension.
	Enabled bool `yaml:"enabled"`
	// Priority is the drift alert's priority (Falco's names).
	Priority string `yaml:"priority"`
	// Cap is the most entries the dimension holds; past it, it
	// generalises (see docs/baselines.md).
	Cap int `yaml:"cap"`
	// FanOut: for paths, the most children a directory keeps before they
	// become '*'; for peers, the most addresses of one /24 or /64 before
	// they become the network; for exec edges, the most children of one
	// parent. 0 turns the rule off. Ignored elsewhere.
	FanOut int `yaml:"fan_out"`
}

// Duration is a time.Duration written as "30m" or "1h" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30m or 1h", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Default returns the configuration used for absent keys.
func Default() Config {
	dim := func(prio string, capacity, fanOut int) DimensionConfig {
		return DimensionConfig{Enabled: true, Priority: prio, Cap: capacity, FanOut: fanOut}
	}
	return Config{
		DataDir:      "/var/lib/vigil",
		DefaultMode:  "learn",
		MaxWorkloads: 4096,
		Learning:     Learning{AutoMonitor: true, MinDuration: Duration(time.Hour), StableFor: Duration(30 * time.Minute)},
		Alerts:       Alerts{RepeatAfter: Duration(time.Hour), Burst: 20, PerMinute: 10},
		Store:        StoreConf{FlushInterval: Duration(time.Second), QueueLen: 65536},
		Dimensions: Dimensions{
			Executables:    dim("WARNING", 512, 64),
			ExecEdges:      dim("NOTICE", 1024, 64),
			FilesWritten:   dim("WARNING", 256, 16),
			SensitiveReads: dim("WARNING", 128, 16),
			Listening:      dim("WARNING", 32, 0),
			Outbound:       dim("WARNING", 256, 8),
			Inbound:        dim("NOTICE", 256, 8),
			Syscalls:       dim("NOTICE", 512, 0),
			Capabilities:   dim("WARNING", 64, 0),
			Users:          dim("WARNING", 32, 0),
		},
	}
}

// Dimension returns the configuration of dimension d.
func (c *Config) Dimension(d Dimension) *DimensionConfig {
	ds := &c.Dimensions
	return [NumDimensions]*DimensionConfig{
		DimExec: &ds.Executables, DimExecEdge: &ds.ExecEdges, DimFileWrite: &ds.FilesWritten,
		DimFileRead: &ds.SensitiveReads, DimListen: &ds.Listening, DimOutbound: &ds.Outbound,
		DimInbound: &ds.Inbound, DimSyscall: &ds.Syscalls, DimCapability: &ds.Capabilities, DimUser: &ds.Users,
	}[d]
}

// limits returns the generalisation limits of dimension d.
func (c *Config) limits(d Dimension) Limits {
	dc := c.Dimension(d)
	return Limits{Cap: dc.Cap, FanOut: dc.FanOut}
}

var priorities = []string{"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"}

// Validate checks the values the types cannot and reports every problem
// at once, each naming its key under "baselines.".
func (c *Config) Validate() error {
	var errs []error
	c.validate(func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("baselines.%s: %s", key, fmt.Sprintf(format, args...)))
	})
	return errors.Join(errs...)
}

func (c *Config) validate(bad func(key, format string, args ...any)) {
	m, ok := ParseMode(c.DefaultMode)
	switch {
	case !ok:
		bad("default_mode", "%q: want learn, monitor or protect", c.DefaultMode)
	case m == Protect && !c.ProtectAllowed:
		bad("default_mode", "protect needs protect_allowed: true")
	}
	if c.Enabled && c.DataDir == "" {
		bad("data_dir", "must be set when baselines are enabled")
	}
	if c.MaxWorkloads < 1 {
		bad("max_workloads", "must be at least 1")
	}
	if c.Learning.MinDuration < 0 || c.Learning.StableFor < 0 {
		bad("learning", "durations must not be negative")
	}
	if c.Alerts.RepeatAfter < 0 || c.Alerts.Burst < 1 || c.Alerts.PerMinute < 0 {
		bad("alerts", "want repeat_after >= 0, burst >= 1 and per_minute >= 0")
	}
	if f := time.Duration(c.Store.FlushInterval); f <= 0 || f > time.Second {
		bad("store.flush_interval", "%s: want more than 0 and at most 1s (a crash loses at most this much)", f)
	}
	if c.Store.QueueLen < 1 {
		bad("store.queue_len", "must be at least 1")
	}
	for i, p := range c.Exclude.Workloads {
		if _, err := path.Match(p, ""); err != nil {
			bad(fmt.Sprintf("exclude.workloads[%d]", i), "%q: %v", p, err)
		}
	}
	for i, p := range c.SensitivePaths {
		if !strings.HasPrefix(p, "/") {
			bad(fmt.Sprintf("sensitive_paths[%d]", i), "%q is not an absolute path pattern", p)
		}
	}
	for d := range NumDimensions {
		dc := c.Dimension(d)
		key := "dimensions." + d.String()
		found := false
		for _, p := range priorities {
			if strings.EqualFold(p, dc.Priority) {
				found = true
			}
		}
		if !found {
			bad(key+".priority", "%q: want one of %s", dc.Priority, strings.Join(priorities, ", "))
		}
		minCap := 1
		if d == DimOutbound || d == DimInbound {
			minCap = 2 // one entry per address family at the widest
		}
		if dc.Cap < minCap || dc.Cap > 1<<16 {
			bad(key+".cap", "%d: want %d to 65536", dc.Cap, minCap)
		}
		if dc.FanOut < 0 {
			bad(key+".fan_out", "must not be negative")
		}
	}
}

// excluded reports whether a workload id (in namespace ns, "" outside
// Kubernetes) gets no baseline.
func (c *Config) excluded(id, ns string) bool {
	for _, n := range c.Exclude.Namespaces {
		if ns != "" && n == ns {
			return true
		}
	}
	for _, p := range c.Exclude.Workloads {
		if matchWorkload(p, id) {
			return true
		}
	}
	return false
}

// matchWorkload matches a workload id against an exclusion pattern:
// path.Match syntax, plus a final "/**" for any number of further
// segments ("host/**" is every host process, whose ids have a varying
// number of segments).
func matchWorkload(pattern, id string) bool {
	prefix, deep := strings.CutSuffix(pattern, "/**")
	if !deep {
		ok, _ := path.Match(pattern, id)
		return ok
	}
	for i := 0; i < len(id); i++ {
		if id[i] == '/' {
			if ok, _ := path.Match(prefix, id[:i]); ok {
				return true
			}
		}
	}
	return false
}
