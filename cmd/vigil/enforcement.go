package main

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
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/event"
)

// enforcement carries out rule actions for vigil run, and replaces its
// enforcer when a reload brings new rules.
type enforcement struct {
	log        *slog.Logger
	det        *detect.Detector
	emit       func(*alert.Alert) bool
	containers container.Lookuper
	killers    map[container.Runtime]*dockerapi.Client

	cur atomic.Pointer[enforce.Enforcer] // nil when no rule has an action
	mu  sync.Mutex                       // one replacement at a time
}

func newEnforcement(log *slog.Logger, det *detect.Detector, emit func(*alert.Alert) bool, containers container.Lookuper,
	sources []container.Source) *enforcement {
	x := &enforcement{log: log, det: det, emit: emit, containers: containers, killers: map[container.Runtime]*dockerapi.Client{}}
	for _, s := range sources {
		if c, ok := s.(*dockerapi.Client); ok {
			x.killers[c.Runtime()] = c
		}
	}
	return x
}

// prepare builds and starts an enforcer for rs, and returns the functions
// that put it in place of the running one or drop it. Kernel mechanisms that fail to
// start are logged and left out: the actions then happen after detection.
func (x *enforcement) prepare(cfg *config.Config, rs *detect.RuleSet) (commit, discard func(), err error) {
	plans, notes := enforce.Plan(rs.Program, enforcementOptions(cfg))
	for _, n := range notes {
		x.log.Warn("enforcement: " + n.String())
	}
	if len(plans) == 0 {
		return func() { x.swap(nil) }, func() {}, nil
	}
	ec := enforce.Config{Plans: plans, Detector: x.det, Emit: x.emit, KillContainer: x.killContainer,
		Protected: cfg.Enforcement.ProtectedPIDs, DecisionTimeout: time.Duration(cfg.Enforcement.DecisionTimeout),
		FailClosed: cfg.Enforcement.FailClosed, HostExec: cfg.Enforcement.HostExec,
		Logf: func(format string, args ...any) { x.log.Warn(fmt.Sprintf(format, args...)) }}
	e := enforce.New(ec)
	if err := e.Start(context.Background()); err != nil {
		x.log.Error("enforcement: kernel mechanisms unavailable; actions happen after detection", "error", err.Error())
		e = enforce.New(ec)
	}
	for _, r := range enforce.Describe(plans) {
		x.log.Info("enforcement rule", "rule", r.Name, "action", r.Action, "mode", r.Mode,
			"before_operation", r.Pre, "after_detection", r.Post)
	}
	return func() { x.swap(e) }, e.Close, nil
}

func (x *enforcement) swap(e *enforce.Enforcer) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e != nil {
		x.det.SetReactor(e)
	} else {
		x.det.SetReactor(nil)
	}
	if old := x.cur.Swap(e); old != nil {
		old.Close()
	}
}

// observe lets the enforcer learn container cgroups from events.
func (x *enforcement) observe(ev *event.Event) {
	if e := x.cur.Load(); e != nil {
		e.Observe(ev, x.containers)
	}
}

// status is the live state for metrics and `vigil enforce status`.
func (x *enforcement) status() *enforce.Status {
	e := x.cur.Load()
	if e == nil {
		return &enforce.Status{}
	}
	st := e.Status()
	return &st
}

func (x *enforcement) close() { x.swap(nil) }

func (x *enforcement) killContainer(ctx context.Context, rt container.Runtime, id string) error {
	c := x.killers[rt]
	if c == nil {
		for _, k := range x.killers { // runtime unknown: try each engine
			if err := k.Kill(ctx, id, "KILL"); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no %s API to stop container %s", rt, id)
	}
	return c.Kill(ctx, id, "KILL")
}
