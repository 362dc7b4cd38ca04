package baseline

import (
	"slices"
)

// SetConfig applies a new configuration to a running engine, for a
// reload. The event path picks it up at its next fact (one atomic
// load). What the new values change in the baselines is done here:
//
//   - caps or fan-outs changed: every baseline is generalised again under
//     the new limits (as at a restart) and the store follows;
//   - protect no longer allowed: workloads in protect move to monitor;
//   - exclusions or max_workloads changed: workloads now excluded are
//     dropped from memory (the store keeps them), and workloads refused
//     before (excluded, or over the limit) are looked at again.
//
// An invalid cfg is refused and nothing changes.
func (e *Engine) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	old := e.s()
	e.set.Store(newSettings(cfg))
	relimit := false
	for d := range NumDimensions {
		relimit = relimit || old.cfg.limits(d) != cfg.limits(d)
	}
	if !slices.Equal(old.cfg.Exclude.Workloads, cfg.Exclude.Workloads) ||
		!slices.Equal(old.cfg.Exclude.Namespaces, cfg.Exclude.Namespaces) || old.cfg.MaxWorkloads != cfg.MaxWorkloads {
		e.forgetRefusals()
	}
	for _, p := range e.profiles() {
		if cfg.excluded(p.w.ID, p.w.Namespace) {
			e.remove(p.w.ID)
			e.log.Info("baseline excluded by the new configuration; kept in the store", "workload", p.w.ID)
			e.changed(p.w.ID)
			continue
		}
		if p.getMode() == Protect && !cfg.ProtectAllowed {
			e.log.Warn("protect mode is no longer allowed (baselines.protect_allowed); monitoring", "workload", p.w.ID)
			_ = e.setMode(p, Monitor, false) // queued, not waited for: always nil
		}
		if relimit {
			e.regeneralise(p)
		}
	}
	return nil
}

// regeneralise rebuilds a profile's view under the current limits.
func (e *Engine) regeneralise(p *profile) {
	set := e.s()
	p.wmu.Lock()
	old := p.view.Load().items()
	var pend [NumDimensions][]Item
	stored := make(map[Item]bool, len(old))
	for _, it := range old {
		pend[it.Dim] = append(pend[it.Dim], it)
		stored[it] = true
	}
	v := emptyView
	for d := range NumDimensions {
		v, _, _ = v.with(d, pend[d], set.cfg.limits(d))
	}
	p.view.Store(v)
	p.wmu.Unlock()
	e.rewriteDiff(p.w.ID, stored, v.items())
	e.changed(p.w.ID)
}

// forgetRefusals drops the remembered refusals (nil profiles) so that
// those workloads are looked at again under new exclusions or limits.
func (e *Engine) forgetRefusals() {
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		if m := sh.m.Load(); m != nil {
			next := make(map[string]*profile, len(*m))
			for id, p := range *m {
				if p != nil {
					next[id] = p
				}
			}
			sh.m.Store(&next)
		}
		sh.mu.Unlock()
	}
}
