package baseline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigilsec/vigil/internal/baseline/store"
	"github.com/vigilsec/vigil/internal/workload"
)

// Errors of the commands.
var (
	// ErrUnknownWorkload: no baseline exists for the id.
	ErrUnknownWorkload = errors.New("no baseline for this workload")
	// ErrProtectNotAllowed: protect mode needs baselines.protect_allowed.
	ErrProtectNotAllowed = errors.New("protect mode is not allowed (baselines.protect_allowed is false)")
)

// putTimeout bounds how long a command waits for room in the store's
// queue.
const putTimeout = 10 * time.Second

// Flush applies the learning queued since the last flush, writes it to
// the store, and moves workloads whose learning is done to monitor. Run
// calls it periodically; tests and commands may call it directly.
func (e *Engine) Flush() {
	e.runMerges()
	now := e.opts.Now().UnixNano()
	for _, p := range e.profiles() {
		p.wmu.Lock()
		if p.getMode() == Learn {
			if pend, ok := p.takePending(); ok {
				e.apply(p, pend, now)
			}
		}
		p.wmu.Unlock()
		e.maybeLock(p, now)
	}
}

// apply learns pend into p's view. p.wmu is held.
func (e *Engine) apply(p *profile, pend [NumDimensions][]Item, now int64) {
	v := p.view.Load()
	var changes []store.Change
	for d := range NumDimensions {
		if len(pend[d]) == 0 {
			continue
		}
		var added, removed []Item
		v, added, removed = v.with(d, pend[d], e.s().cfg.limits(d))
		changes = appendItemChanges(changes, p.w.ID, added, removed, now)
	}
	if len(changes) == 0 {
		return
	}
	p.view.Store(v)
	p.lastChange.Store(now)
	_ = e.persist(p, false) // queued, not waited for: always nil
	for _, c := range changes {
		e.enqueue(c)
	}
	e.changed(p.w.ID)
}

func appendItemChanges(out []store.Change, id string, added, removed []Item, now int64) []store.Change {
	for _, it := range removed {
		out = append(out, store.Change{Op: store.OpDeleteItem, Workload: store.Workload{ID: id},
			Item: store.Item{Dim: it.Dim.String(), A: it.A, B: it.B}})
	}
	for _, it := range added {
		out = append(out, store.Change{Op: store.OpAddItem, Workload: store.Workload{ID: id},
			Item: store.Item{Dim: it.Dim.String(), A: it.A, B: it.B, FirstSeen: now}})
	}
	return out
}

// maybeLock moves a workload from learn to monitor once it has learned
// for MinDuration and nothing new came for StableFor.
func (e *Engine) maybeLock(p *profile, now int64) {
	l := e.s().cfg.Learning
	if !l.AutoMonitor || p.getMode() != Learn {
		return
	}
	if now-p.learnSince.Load() < int64(l.MinDuration) || now-p.lastChange.Load() < int64(l.StableFor) {
		return
	}
	_ = e.setMode(p, Monitor, false) // queued, not waited for: always nil
	e.log.Info("baseline learned; monitoring", "workload", p.w.ID,
		"learned_for", time.Duration(now-p.learnSince.Load()).Round(time.Second))
}

// SetMode changes a workload's mode. Leaving learn applies what was
// queued; entering learn restarts the learning clock.
func (e *Engine) SetMode(id string, m Mode) error {
	if m > Protect {
		return fmt.Errorf("unknown mode %d", m)
	}
	if m == Protect && !e.s().cfg.ProtectAllowed {
		return ErrProtectNotAllowed
	}
	p := e.lookup(id)
	if p == nil {
		return fmt.Errorf("%q: %w", id, ErrUnknownWorkload)
	}
	return e.setMode(p, m, true)
}

func (e *Engine) setMode(p *profile, m Mode, wait bool) error {
	p.wmu.Lock()
	now := e.opts.Now().UnixNano()
	if p.getMode() == Learn {
		if pend, ok := p.takePending(); ok {
			e.apply(p, pend, now)
		}
	}
	if m == Learn && p.getMode() != Learn {
		p.learnSince.Store(now)
		p.lastChange.Store(now)
	}
	p.mode.Store(uint32(m))
	p.modeChanged.Store(now)
	p.wmu.Unlock()
	err := e.persist(p, wait)
	e.changed(p.w.ID)
	return err
}

// Reset forgets a workload's baseline: it starts again in the default
// mode, with nothing learned.
func (e *Engine) Reset(id string) error {
	p := e.lookup(id)
	if p == nil {
		return fmt.Errorf("%q: %w", id, ErrUnknownWorkload)
	}
	now := e.opts.Now().UnixNano()
	p.wmu.Lock()
	p.dropPending()
	p.view.Store(emptyView)
	p.mode.Store(uint32(e.s().defMode))
	p.learnSince.Store(now)
	p.modeChanged.Store(now)
	p.lastChange.Store(now)
	p.wmu.Unlock()
	err := e.put(store.Change{Op: store.OpClearItems, Workload: store.Workload{ID: id}})
	err = errors.Join(err, e.persist(p, true))
	e.changed(id)
	return err
}

// Merge moves what was learned under from into to and forgets from. The
// workload resolver calls it (through its Refined hook, on the event
// path) when a guessed Kubernetes identity turns out to be another one,
// so it only queues the request; the next Flush carries it out. The items
// are taken only while to is learning, since they were never reviewed.
func (e *Engine) Merge(from, to *workload.Workload) {
	if from.ID == to.ID {
		return
	}
	e.mergeMu.Lock()
	if len(e.merges) < maxMerges {
		e.merges = append(e.merges, [2]*workload.Workload{from, to})
	}
	e.mergeMu.Unlock()
}

// maxMerges bounds the merges waiting for a flush.
const maxMerges = 1024

func (e *Engine) runMerges() {
	e.mergeMu.Lock()
	todo := e.merges
	e.merges = nil
	e.mergeMu.Unlock()
	for _, m := range todo {
		from, to := m[0], m[1]
		fp := e.lookup(from.ID)
		if fp == nil {
			continue
		}
		if tp := e.profile(to, true); tp != nil && tp.getMode() == Learn {
			var pend [NumDimensions][]Item
			for _, it := range fp.view.Load().items() {
				pend[it.Dim] = append(pend[it.Dim], it)
			}
			tp.wmu.Lock()
			e.apply(tp, pend, e.opts.Now().UnixNano())
			tp.wmu.Unlock()
		}
		e.remove(from.ID)
		e.enqueue(store.Change{Op: store.OpDeleteWorkload, Workload: store.Workload{ID: from.ID}})
		e.log.Info("baseline merged into the workload's real identity", "from", from.ID, "to", to.ID)
	}
}

// Restore loads baselines from the store, before events flow. Items are
// generalised again under the current caps (a lowered cap takes effect
// here, and the store is updated). Records that cannot be read are
// skipped and reported; excluded workloads stay in the store untouched.
func (e *Engine) Restore(recs []store.Record) error {
	var errs []error
	for _, r := range recs {
		w, err := workload.Parse(r.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w.Inferred = r.Inferred
		m, ok := ParseMode(r.Mode)
		if !ok || m == Protect && !e.s().cfg.ProtectAllowed {
			if ok {
				e.log.Warn("baseline was in protect mode, which is not allowed now; monitoring", "workload", r.ID)
			}
			m = Monitor
		}
		if e.s().cfg.excluded(w.ID, w.Namespace) {
			continue
		}
		p := newProfile(w, m, r.Created)
		p.learnSince.Store(r.LearnSince)
		p.modeChanged.Store(r.ModeChanged)
		p.lastChange.Store(r.LastChange)
		var pend [NumDimensions][]Item
		stored := map[Item]bool{}
		for _, si := range r.Items {
			d, ok := ParseDimension(si.Dim)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown dimension %q", r.ID, si.Dim))
				continue
			}
			it := Item{Dim: d, A: si.A, B: si.B}
			pend[d] = append(pend[d], it)
			stored[it] = true
		}
		v := emptyView
		for d := range NumDimensions {
			v, _, _ = v.with(d, pend[d], e.s().cfg.limits(d))
		}
		p.view.Store(v)
		e.rewriteDiff(r.ID, stored, v.items())
		e.insert(p)
	}
	return errors.Join(errs...)
}

// rewriteDiff brings the store in line with a restored view.
func (e *Engine) rewriteDiff(id string, stored map[Item]bool, now []Item) {
	keep := map[Item]bool{}
	var added, removed []Item
	for _, it := range now {
		keep[it] = true
		if !stored[it] {
			added = append(added, it)
		}
	}
	for it := range stored {
		if !keep[it] {
			removed = append(removed, it)
		}
	}
	for _, c := range appendItemChanges(nil, id, added, removed, e.opts.Now().UnixNano()) {
		e.enqueue(c)
	}
}

// row is a profile's store row.
func (e *Engine) row(p *profile) store.Workload {
	return store.Workload{ID: p.w.ID, Name: p.w.Name, Kind: p.w.Kind.String(), Inferred: p.w.Inferred,
		Mode: p.getMode().String(), Created: p.created, LearnSince: p.learnSince.Load(),
		ModeChanged: p.modeChanged.Load(), LastChange: p.lastChange.Load()}
}

// persist writes a profile's row; wait makes sure it is not dropped and
// returns the store's error. Without wait the row is only queued and the
// error is always nil.
func (e *Engine) persist(p *profile, wait bool) error {
	c := store.Change{Op: store.OpPutWorkload, Workload: e.row(p)}
	if wait {
		return e.put(c)
	}
	e.enqueue(c)
	return nil
}

func (e *Engine) enqueue(c store.Change) {
	if e.opts.Store != nil && !e.opts.Store.Enqueue(c) {
		e.n.dropped.Add(1)
	}
}

func (e *Engine) put(c store.Change) error {
	if e.opts.Store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), putTimeout)
	defer cancel()
	return e.opts.Store.Put(ctx, c)
}

func (e *Engine) changed(id string) {
	if e.opts.Changed != nil {
		e.opts.Changed(id)
	}
}
