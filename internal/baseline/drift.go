package baseline

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/workload"
)

// Source is the alert source of drift alerts. Falco consumers route on
// it, and a departure is a syscall-source event (an exec, an open, a
// connect): with "syscall", drift alerts reach every consumer set up for
// Falco's own alerts and match the rules `export --format rules` writes.
const Source = "syscall"

// nearestShown is how many known values an alert lists as expected.
const nearestShown = 3

// drift handles a departure of a workload that does not learn.
func (e *Engine) drift(set *settings, p *profile, f *Fact, c *fields.Context, snap *captured, m Mode, now int64) {
	ok, suppressed := p.shouldAlert(f, now, set.cfg.Alerts)
	if !ok {
		e.n.suppressed.Add(1)
		return
	}
	a := e.driftAlert(p, f, c, snap, m, suppressed)
	if m == Protect {
		if e.opts.Enforce != nil {
			// A copy, so that f (on the caller's stack) does not escape.
			fc := *f
			e.opts.Enforce(p.w, &fc, c, a)
		} else {
			a.Enforcement = &alert.Enforcement{Action: "block", Mode: "enforce", Outcome: "failed", Mechanism: "none",
				Error: "seen after the fact: no pre-operation mechanism covered this operation; alert only"}
		}
	}
	e.emit(a)
}

// Blocked reports a departure that a pre-operation mechanism stopped
// (mechanism as in alert.Enforcement: fanotify-exec, cgroup-sock-addr,
// ...). It raises the drift alert, marked blocked, under the same repeat
// and budget limits as any drift alert; the block itself does not depend
// on whether the alert is raised.
func (e *Engine) Blocked(w *workload.Workload, f *Fact, c *fields.Context, mechanism string) {
	p := e.profile(w, false)
	if p == nil {
		return
	}
	e.n.drift.Add(1)
	ok, suppressed := p.shouldAlert(f, e.opts.Now().UnixNano(), e.s().cfg.Alerts)
	if !ok {
		e.n.suppressed.Add(1)
		return
	}
	a := e.driftAlert(p, f, c, nil, p.getMode(), suppressed)
	a.Enforcement = &alert.Enforcement{Action: "block", Mode: "enforce", Outcome: "blocked", Mechanism: mechanism}
	a.Output = "[blocked] " + a.Output
	e.emit(a)
}

func (e *Engine) emit(a *alert.Alert) {
	e.n.alerts.Add(1)
	if e.opts.Emit != nil {
		e.opts.Emit(a)
	}
}

// driftAlert builds the alert for a departure, in the shape of a rule's
// alert: the rule is the dimension's ("Baseline drift: new executable"),
// and output_fields carry the workload, the mode, the dimension, the new
// value and a summary of what was expected.
func (e *Engine) driftAlert(p *profile, f *Fact, c *fields.Context, snap *captured, m Mode, suppressed int) *alert.Alert {
	d := f.Dim
	value := strings.Clone(f.Value())
	known, total := expected(p.view.Load(), d, f)
	exp := "nothing yet"
	if total > 0 {
		exp = strings.Join(known, ", ")
		if total > len(known) {
			exp += " (of " + strconv.Itoa(total) + " known)"
		}
	}
	of := map[string]any{
		"baseline.workload":      p.w.ID,
		"baseline.workload_name": p.w.Name,
		"baseline.mode":          m.String(),
		"baseline.dimension":     d.String(),
		"baseline.value":         value,
		"baseline.expected":      exp,
		"baseline.suppressed":    suppressed,
	}
	if snap == nil {
		snap = capture(c)
	}
	ctx := snap.ctx
	ctx.Workload = &alert.Workload{ID: p.w.ID, Name: p.w.Name}
	for k, v := range snap.fields {
		of[k] = v
	}
	var b strings.Builder
	b.WriteString("Baseline drift: new ")
	b.WriteString(dimInfo[d].what)
	b.WriteString(" ")
	b.WriteString(value)
	b.WriteString(" in ")
	b.WriteString(p.w.Name)
	b.WriteString(" (workload=")
	b.WriteString(p.w.ID)
	b.WriteString(" mode=")
	b.WriteString(m.String())
	b.WriteString(" expected=")
	b.WriteString(exp)
	if ctx.Process.ExePath != "" {
		b.WriteString(" process=")
		b.WriteString(ctx.Process.ExePath)
		b.WriteString(" pid=")
		b.WriteString(strconv.FormatUint(uint64(ctx.Process.PID), 10))
	}
	if ctx.Identity.ContainerID != "" {
		b.WriteString(" container=")
		b.WriteString(ctx.Identity.ContainerID)
	}
	if suppressed > 0 {
		b.WriteString(" suppressed=")
		b.WriteString(strconv.Itoa(suppressed))
	}
	b.WriteString(")")
	return &alert.Alert{
		Time:         e.opts.Now().UTC().Truncate(time.Nanosecond),
		Rule:         d.Rule(),
		Priority:     e.priority(d),
		Source:       Source,
		Hostname:     e.opts.Hostname,
		Output:       b.String(),
		Tags:         []string{"baseline", "drift", d.String()},
		OutputFields: of,
		Context:      ctx,
	}
}

// priority returns a dimension's configured priority as Falco spells it
// ("Warning").
func (e *Engine) priority(d Dimension) string {
	p := strings.ToLower(e.s().cfg.Dimension(d).Priority)
	if p == "" {
		return "Warning"
	}
	if p == "informational" {
		return "Informational"
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

// expected returns the known values of d nearest to f (by common prefix)
// and how many there are.
func expected(v *view, d Dimension, f *Fact) ([]string, int) {
	var known []string
	switch d {
	case DimFileWrite:
		known = v.writes.Patterns()
	case DimFileRead:
		known = v.reads.Patterns()
	case DimExec:
		known = v.exec.paths.Patterns()
	default:
		for _, it := range v.items() {
			if it.Dim == d {
				known = append(known, it.String())
			}
		}
	}
	key := f.Path
	switch d {
	case DimExecEdge:
		key = f.Parent + " -> " + f.Path
	case DimListen, DimOutbound, DimInbound, DimSyscall, DimCapability, DimUser:
		key = f.Value()
	}
	return Nearest(known, key, nearestShown), len(known)
}
