package enforce

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// ManagerConfig wires a Manager to the running agent.
type ManagerConfig struct {
	Log *slog.Logger
	// Detector is the detector whose matches the enforcer acts on.
	Detector *detect.Detector
	// Emit sends the enforcer's own alerts; it must not block.
	Emit func(*alert.Alert) bool
	// Containers resolves the container of an event, for the enforcer to
	// learn container cgroups.
	Containers container.Lookuper
	// Sources are the container runtimes found on the host; those with an
	// API to stop a container carry out kill-container actions.
	Sources []container.Source
}

// Manager owns the agent's enforcer: it carries out rule actions, and
// replaces the enforcer when a reload brings new rules (Prepare, then
// Commit or Discard).
type Manager struct {
	log        *slog.Logger
	det        *detect.Detector
	emit       func(*alert.Alert) bool
	containers container.Lookuper
	killers    map[container.Runtime]*dockerapi.Client

	cur atomic.Pointer[Enforcer] // nil when no rule has an action
	mu  sync.Mutex               // one replacement at a time
}

// NewManager returns a manager with no enforcer in place.
func NewManager(cfg ManagerConfig) *Manager {
	m := &Manager{log: cfg.Log, det: cfg.Detector, emit: cfg.Emit, containers: cfg.Containers,
		killers: map[container.Runtime]*dockerapi.Client{}}
	for _, s := range cfg.Sources {
		if c, ok := s.(*dockerapi.Client); ok {
			m.killers[c.Runtime()] = c
		}
	}
	return m
}

// OptionsFrom turns the configuration into planning options.
func OptionsFrom(c *config.Config) Options {
	o := Options{NetFallbackAlert: c.Enforcement.NetFallback == "alert", HostExec: c.Enforcement.HostExec}
	if m, ok := loader.ParseMode(c.Enforcement.Mode); ok {
		o.Mode = m
	}
	return o
}

// Pending is an enforcer built by Prepare, started but not in place yet.
type Pending struct {
	m *Manager
	e *Enforcer // nil when no enabled rule has an action
}

// Prepare builds and starts an enforcer for rs, without touching the
// running one. It cannot fail: kernel mechanisms that fail to start are
// logged and left out, and the actions then happen after detection.
func (m *Manager) Prepare(cfg *config.Config, rs *detect.RuleSet) *Pending {
	plans, notes := Plan(rs.Program, OptionsFrom(cfg))
	for _, n := range notes {
		m.log.Warn("enforcement: " + n.String())
	}
	if len(plans) == 0 {
		return &Pending{m: m}
	}
	ec := Config{Plans: plans, Detector: m.det, Emit: m.emit, KillContainer: m.killContainer,
		Protected: cfg.Enforcement.ProtectedPIDs, DecisionTimeout: time.Duration(cfg.Enforcement.DecisionTimeout),
		FailClosed: cfg.Enforcement.FailClosed, HostExec: cfg.Enforcement.HostExec,
		Logf: func(format string, args ...any) { m.log.Warn(fmt.Sprintf(format, args...)) }}
	e := New(ec)
	if err := e.Start(context.Background()); err != nil {
		m.log.Error("enforcement: kernel mechanisms unavailable; actions happen after detection", "error", err.Error())
		e = New(ec)
	}
	for _, r := range Describe(plans) {
		m.log.Info("enforcement rule", "rule", r.Name, "action", r.Action, "mode", r.Mode,
			"before_operation", r.Pre, "after_detection", r.Post)
	}
	return &Pending{m: m, e: e}
}

// Commit puts the prepared enforcer in place of the running one, which
// it closes.
func (p *Pending) Commit() { p.m.swap(p.e) }

// Discard stops the prepared enforcer.
func (p *Pending) Discard() {
	if p.e != nil {
		p.e.Close()
	}
}

func (m *Manager) swap(e *Enforcer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e != nil {
		m.det.SetReactor(e)
	} else {
		m.det.SetReactor(nil)
	}
	if old := m.cur.Swap(e); old != nil {
		old.Close()
	}
}

// Observe lets the enforcer learn container cgroups from events. It runs
// on the event path, before the detector.
func (m *Manager) Observe(ev *event.Event) {
	if e := m.cur.Load(); e != nil {
		e.Observe(ev, m.containers)
	}
}

// Status is the live state for metrics and `vigil enforce status`.
func (m *Manager) Status() *Status {
	e := m.cur.Load()
	if e == nil {
		return &Status{}
	}
	st := e.Status()
	return &st
}

// Close stops the running enforcer; container kills still queued report
// first. It may be called more than once.
func (m *Manager) Close() { m.swap(nil) }

func (m *Manager) killContainer(ctx context.Context, rt container.Runtime, id string) error {
	c := m.killers[rt]
	if c == nil {
		for _, k := range m.killers { // runtime unknown: try each engine
			if err := k.Kill(ctx, id, "KILL"); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no %s API to stop container %s", rt, id)
	}
	return c.Kill(ctx, id, "KILL")
}
