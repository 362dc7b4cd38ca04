// Package reload applies new rules and configuration to a running agent.
// A reload builds everything first (configuration, compiled rules,
// outputs, enforcement) and switches only when all of it succeeded, so a
// mistake in a file never takes detection down: the running rules stay,
// and the error is logged with its file:line:col and counted.
//
// Each part owns its new state: [detect.Load] compiles the rules,
// [outputs.Manager] and [enforce.Manager] prepare theirs and commit or
// discard it, and [detect.Detector.SetProgram] swaps the rules in. The
// [Reloader] only orders the steps: prepare all, widen the kernel's
// syscall filter ([Kernel]) to both rule sets, commit all, narrow it. It
// runs on SIGHUP and on changes to the watched files ([Reloader.Run]).
package reload

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/proc"
)

// Kernel is the sensor's syscall filter.
type Kernel interface {
	SetSyscalls(names []string) error
	Syscalls() []string
}

// FDTracker turns per-process fd tables on (proc.Table).
type FDTracker interface{ SetTrackFDs(on bool) }

// Config wires a Reloader to the running agent.
type Config struct {
	Log *slog.Logger
	// LoadConfig reads the configuration again: file, environment, and
	// the command line's flags over them.
	LoadConfig func() (*config.Config, error)
	// ConfigPath is the configuration file to watch; "" watches none.
	ConfigPath string
	Detector   *detect.Detector
	Kernel     Kernel
	FDs        FDTracker
	Outputs    *outputs.Manager
	// Enforcement, if set, prepares rule actions for a new rule set before
	// the swap; they are committed right after it, and discarded when the
	// reload fails later.
	Enforcement *enforce.Manager
}

// Reloader holds what runs and replaces it on Reload.
type Reloader struct {
	cfg Config

	mu sync.Mutex // one reload at a time
	// started is the configuration the agent started with: keys that
	// need a restart keep its values whatever reloads read.
	started  *config.Config
	trackFDs bool
	// current is the configuration running now; attempted is the last one
	// read, even if its rules failed: the files of both are watched, so
	// fixing a broken file reloads.
	current, attempted *config.Config

	// watching is closed once Run watches the files (or knows it will
	// not): changes made after it are seen.
	watching chan struct{}

	successes   atomic.Uint64
	failures    atomic.Uint64
	lastSuccess atomic.Int64 // unix nanoseconds
	rules       atomic.Int64
}

// New returns a reloader for an agent started with running and rules;
// trackFDs says whether the process table keeps fd tables.
func New(cfg Config, running *config.Config, rules *detect.RuleSet, trackFDs bool) *Reloader {
	r := &Reloader{cfg: cfg, started: running, current: running, attempted: running, trackFDs: trackFDs,
		watching: make(chan struct{})}
	r.lastSuccess.Store(time.Now().UnixNano())
	r.rules.Store(int64(rules.Enabled()))
	return r
}

// Stats are the reload counters for metrics.
type Stats struct {
	Successes, Failures uint64
	// LastSuccess is when the running rules were loaded (at start, or by
	// the last successful reload).
	LastSuccess time.Time
	// RulesLoaded is how many enabled rules run.
	RulesLoaded int
}

// Stats returns the counters.
func (r *Reloader) Stats() Stats {
	return Stats{Successes: r.successes.Load(), Failures: r.failures.Load(),
		LastSuccess: time.Unix(0, r.lastSuccess.Load()), RulesLoaded: int(r.rules.Load())}
}

// Reload reads the configuration and rules again and switches to them,
// or, on any error, logs it and keeps everything as it runs. trigger
// says what asked for it, for the log.
func (r *Reloader) Reload(trigger string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.cfg.Log.With("trigger", trigger)
	if err := r.reload(log); err != nil {
		r.failures.Add(1)
		if re := (*detect.RulesError)(nil); errors.As(err, &re) {
			for _, d := range re.Errors {
				log.Error("reload: rule error", "at", d.Pos.String(), "message", d.Message)
			}
		}
		log.Error("reload failed; the running rules and configuration stay", "error", err.Error())
		return err
	}
	r.successes.Add(1)
	r.lastSuccess.Store(time.Now().UnixNano())
	return nil
}

// reload is Reload's work, with the lock held.
func (r *Reloader) reload(log *slog.Logger) error {
	cfg, err := r.cfg.LoadConfig()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	r.attempted = cfg
	rs, err := detect.Load(detect.LoadOptionsFrom(cfg))
	if err == nil {
		err = rs.Runnable()
	}
	if err != nil {
		return err
	}
	pending, err := r.cfg.Outputs.Prepare(cfg)
	if err != nil {
		return fmt.Errorf("outputs: %w", err)
	}
	commitEnforce, discardEnforce := func() {}, func() {}
	if r.cfg.Enforcement != nil {
		pe := r.cfg.Enforcement.Prepare(cfg, rs)
		commitEnforce, discardEnforce = pe.Commit, pe.Discard
	}
	// Fd tracking, once on, stays on with the calls that keep the tables
	// true: turned off, they would go stale, and wrong fd state is worse
	// than none if a later reload needs it again.
	want := rs.Syscalls
	if r.trackFDs || rs.NeedsFDTable {
		want = union(want, proc.FDSyscalls())
	}
	// Widen the filter to both rule sets' syscalls before the swap, and
	// narrow it after: neither set misses an event it needs meanwhile.
	old := r.cfg.Kernel.Syscalls()
	if err := r.cfg.Kernel.SetSyscalls(union(old, want)); err != nil {
		err = fmt.Errorf("kernel syscall filter: %w", err)
		if derr := pending.Discard(); derr != nil {
			err = errors.Join(err, fmt.Errorf("outputs: close the new ones: %w", derr))
		}
		discardEnforce()
		if rerr := r.cfg.Kernel.SetSyscalls(old); rerr != nil {
			err = errors.Join(err, fmt.Errorf("kernel syscall filter: restore the running set: %w", rerr))
		}
		return err
	}
	if rs.NeedsFDTable && !r.trackFDs {
		// Fds opened before now are unknown to the table; see docs/config.md.
		r.cfg.FDs.SetTrackFDs(true)
		r.trackFDs = true
		log.Warn("reload: the new rules read fd tables; tracking starts now, fds opened before are unknown until restart")
	}
	r.cfg.Detector.SetProgram(rs.Program)
	commitEnforce()
	narrowErr := r.cfg.Kernel.SetSyscalls(want)
	retireErr := pending.Commit()

	for _, key := range config.Changed(r.started, cfg) {
		if config.NeedsRestart(key) {
			log.Warn("reload: configuration key changed; it takes effect on restart", "key", key)
		}
	}
	r.current = cfg
	r.rules.Store(int64(rs.Enabled()))
	rs.Log(log)
	if narrowErr != nil {
		// The filter captures more than needed; the rules still see all
		// they need.
		log.Warn("reload: could not narrow the kernel syscall filter", "error", narrowErr.Error())
	}
	if retireErr != nil {
		// The new outputs run; the old ones' last alerts may be lost.
		log.Warn("reload: the replaced outputs closed with errors", "error", retireErr.Error())
	}
	log.Info("reload succeeded", "rules", rs.Enabled(), "syscalls", strings.Join(want, ","),
		"outputs_rebuilt", pending != nil)
	return nil
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
