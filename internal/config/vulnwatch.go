package config

import "time"

// VulnWatch makes the agent rescan running containers and alert when a
// running process executes or loads a package with a known critical
// vulnerability (see docs/scan.md).
type VulnWatch struct {
	Enabled  bool     `yaml:"enabled"`
	DB       string   `yaml:"db"`
	Interval Duration `yaml:"interval"`
}

func defaultVulnWatch() VulnWatch {
	return VulnWatch{DB: "/var/lib/vigil/vulndb.db", Interval: Duration(10 * time.Minute)}
}

func (v VulnWatch) validate(bad func(key, format string, args ...any)) {
	if v.Enabled && v.DB == "" {
		bad("vuln_watch.db", "must be set when vuln_watch is enabled")
	}
	if v.Interval <= 0 {
		bad("vuln_watch.interval", "must be positive")
	}
}
