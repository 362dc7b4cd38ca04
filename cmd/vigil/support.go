package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/sensor"
	defaultrules "github.com/vigilsec/vigil/rules"
)

// supportInfo is what --support prints for a bug report (Falco's
// --support): what runs, on what, with which configuration and rules.
type supportInfo struct {
	Version        string           `json:"version"`
	Commit         string           `json:"commit"`
	Go             string           `json:"go"`
	System         systemInfo       `json:"system_info"`
	KernelFeatures []sensor.Feature `json:"kernel_features"`
	Cmdline        string           `json:"cmdline"`
	Config         supportConfig    `json:"config"`
	Rules          supportRules     `json:"rules"`
}

type systemInfo struct {
	Sysname  string `json:"sysname"`
	Nodename string `json:"nodename"`
	Release  string `json:"release"`
	Version  string `json:"version"`
	Machine  string `json:"machine"`
}

type supportConfig struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	// SHA256 is the file's digest; empty when it is absent.
	SHA256 string        `json:"sha256"`
	Notes  []config.Note `json:"notes"`
	// Effective is the configuration in force, secrets redacted.
	Effective map[string]any `json:"effective"`
}

type supportRules struct {
	Files []fileDigest `json:"files"`
	// Digest is the SHA-256 of the files' names and digests, in load
	// order: one value to compare two agents' rules by.
	Digest   string `json:"digest"`
	Enabled  int    `json:"enabled"`
	Skipped  int    `json:"skipped"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
}

type fileDigest struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// printSupport writes the support information as indented JSON.
func printSupport(w io.Writer, path string, cfg *config.Config, info *config.FileInfo) error {
	s := supportInfo{Version: version, Commit: commit, Go: runtime.Version(), KernelFeatures: sensor.ProbeFeatures(),
		Cmdline: strings.Join(os.Args, " ")}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		s.System = systemInfo{Sysname: unix.ByteSliceToString(u.Sysname[:]), Nodename: unix.ByteSliceToString(u.Nodename[:]),
			Release: unix.ByteSliceToString(u.Release[:]), Version: unix.ByteSliceToString(u.Version[:]),
			Machine: unix.ByteSliceToString(u.Machine[:])}
	}
	s.Config = supportConfig{Path: path, Kind: info.Kind.String(), Notes: info.Notes}
	if s.Config.Notes == nil {
		s.Config.Notes = []config.Note{}
	}
	if data, err := os.ReadFile(path); err == nil {
		s.Config.SHA256 = digest(data)
	}
	// Both steps work on our own types: a failure is a bug, reported.
	y, err := redacted(cfg).Marshal()
	if err != nil {
		return fmt.Errorf("support: the configuration: %w", err)
	}
	if err := yaml.Unmarshal(y, &s.Config.Effective); err != nil {
		return fmt.Errorf("support: the configuration: %w", err)
	}
	s.Rules.Files = ruleDigests(cfg)
	h := sha256.New()
	for _, f := range s.Rules.Files {
		h.Write([]byte(f.Name + "\x00" + f.SHA256 + "\n")) // a hash's Write never fails
	}
	s.Rules.Digest = hex.EncodeToString(h.Sum(nil))
	if rs, err := detect.Load(detect.LoadOptionsFrom(cfg)); err == nil {
		s.Rules.Enabled = rs.Enabled()
		for _, f := range rs.Summarize() {
			s.Rules.Skipped += len(f.Skipped)
		}
		s.Rules.Errors, s.Rules.Warnings = count(rs.Diagnostics)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ruleDigests lists the rule files the configuration loads, in load
// order, with their digests: the embedded ones, then each path (a
// directory's YAML files in name order).
func ruleDigests(cfg *config.Config) []fileDigest {
	var out []fileDigest
	if len(cfg.Rules) == 0 || cfg.WithDefaults {
		names := defaultrules.Files()
		if cfg.ExperimentalRules {
			names = append(names, defaultrules.ExperimentalFiles()...)
		}
		for _, n := range names {
			if b, err := fs.ReadFile(defaultrules.FS, n); err == nil {
				out = append(out, fileDigest{Name: detect.EmbeddedPrefix + n, SHA256: digest(b)})
			}
		}
	}
	for _, p := range cfg.Rules {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files = nil
			for _, ext := range []string{"*.yaml", "*.yml"} {
				m, _ := filepath.Glob(filepath.Join(p, ext))
				files = append(files, m...)
			}
			sort.Strings(files)
		}
		for _, f := range files {
			d := fileDigest{Name: f}
			if b, err := os.ReadFile(f); err == nil {
				d.SHA256 = digest(b)
			}
			out = append(out, d)
		}
	}
	return out
}

// redactedValue replaces a secret in what --support prints.
const redactedValue = "<redacted>"

// redacted returns a copy of cfg without its secrets: header values,
// passwords in URLs, tokens and passwords (secret files are named, not
// read).
func redacted(cfg *config.Config) *config.Config {
	c := *cfg
	o := &c.Outputs
	if len(o.HTTP.Headers) > 0 {
		h := map[string]string{}
		for k := range o.HTTP.Headers {
			h[k] = redactedValue
		}
		o.HTTP.Headers = h
	}
	o.HTTP.URL = redactURLs(o.HTTP.URL)
	o.NATS.URL = redactURLs(o.NATS.URL)
	for _, s := range []*string{&o.NATS.Token, &o.NATS.Password, &o.Kafka.SASL.Password} {
		if *s != "" {
			*s = redactedValue
		}
	}
	return &c
}

func redactURLs(raw string) string {
	var parts []string
	for _, s := range strings.Split(raw, ",") {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.User != nil {
			s = u.Redacted()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}
