package flows

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Config bounds the flow map. Zero values pick the defaults noted.
type Config struct {
	// TTL is how long a flow stays after it was last seen (1h).
	TTL time.Duration `yaml:"ttl"`
	// MaxFlows bounds the flows kept over all workloads (65536).
	MaxFlows int `yaml:"max_flows"`
	// MaxPerWorkload bounds the flows of one workload (2048); past it
	// new flows of the workload are counted and dropped.
	MaxPerWorkload int `yaml:"max_per_workload"`
	// ScanPorts is how many ports of one address a workload may reach
	// before its flows to that address collapse into a scan (64).
	ScanPorts int `yaml:"scan_ports"`
	// ScanAddrs is how many addresses a workload may reach on one port
	// before its flows on that port collapse into a scan (256).
	ScanAddrs int `yaml:"scan_addrs"`
	// Networks name address ranges; an external address inside one is
	// grouped under its name (the most specific network wins).
	Networks []Network `yaml:"networks"`
	// GroupBits4 and GroupBits6 are the prefix lengths unnamed external
	// addresses are grouped by (24 and 64).
	GroupBits4 int `yaml:"group_bits_ipv4"`
	GroupBits6 int `yaml:"group_bits_ipv6"`
	// MaxListeners bounds the listening sockets kept (16384).
	MaxListeners int `yaml:"max_listeners"`
}

// Network is a named address range.
type Network struct {
	Name string `yaml:"name"`
	CIDR string `yaml:"cidr"`

	prefix netip.Prefix
}

// Default returns the defaults.
func Default() Config {
	return Config{TTL: time.Hour, MaxFlows: 65536, MaxPerWorkload: 2048, ScanPorts: 64, ScanAddrs: 256,
		GroupBits4: 24, GroupBits6: 64, MaxListeners: 16384}
}

// withDefaults fills zero values.
func (c Config) withDefaults() Config {
	d := Default()
	if c.TTL == 0 {
		c.TTL = d.TTL
	}
	if c.MaxFlows == 0 {
		c.MaxFlows = d.MaxFlows
	}
	if c.MaxPerWorkload == 0 {
		c.MaxPerWorkload = d.MaxPerWorkload
	}
	if c.ScanPorts == 0 {
		c.ScanPorts = d.ScanPorts
	}
	if c.ScanAddrs == 0 {
		c.ScanAddrs = d.ScanAddrs
	}
	if c.GroupBits4 == 0 {
		c.GroupBits4 = d.GroupBits4
	}
	if c.GroupBits6 == 0 {
		c.GroupBits6 = d.GroupBits6
	}
	if c.MaxListeners == 0 {
		c.MaxListeners = d.MaxListeners
	}
	c.Networks = append([]Network(nil), c.Networks...)
	return c
}

// Validate checks the configuration, naming the key at fault.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("flows.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.TTL < 0 {
		bad("ttl", "must not be negative")
	}
	for _, v := range []struct {
		key string
		n   int
	}{{"max_flows", c.MaxFlows}, {"max_per_workload", c.MaxPerWorkload}, {"scan_ports", c.ScanPorts},
		{"scan_addrs", c.ScanAddrs}, {"max_listeners", c.MaxListeners}} {
		if v.n < 0 {
			bad(v.key, "must not be negative")
		}
	}
	if c.ScanPorts == 1 || c.ScanAddrs == 1 {
		bad("scan_ports", "must be at least 2 (one port or address is not a scan)")
	}
	if c.GroupBits4 < 0 || c.GroupBits4 > 32 {
		bad("group_bits_ipv4", "must be 0-32")
	}
	if c.GroupBits6 < 0 || c.GroupBits6 > 128 {
		bad("group_bits_ipv6", "must be 0-128")
	}
	for i := range c.Networks {
		n := &c.Networks[i]
		p, err := netip.ParsePrefix(n.CIDR)
		if err != nil {
			bad(fmt.Sprintf("networks[%d].cidr", i), "%q is not a CIDR", n.CIDR)
			continue
		}
		if n.Name == "" {
			bad(fmt.Sprintf("networks[%d].name", i), "must be set")
		}
		n.prefix = p.Masked()
	}
	return errors.Join(errs...)
}
