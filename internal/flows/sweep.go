package flows

// Sweep removes the flows not seen for Config.TTL. Run calls it; tests
// may call it directly.
func (a *Aggregator) Sweep() {
	cutoff := a.opts.Now().UnixNano() - int64(a.cfg.TTL)
	type gone struct {
		k    key
		scan bool
	}
	var removed []gone
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if last, _, _ := e.totals(); last < cutoff {
				delete(sh.m, k)
				removed = append(removed, gone{k, e.scan != nil})
			}
		}
		sh.mu.Unlock()
	}
	if len(removed) == 0 {
		return
	}
	a.total.Add(-int64(len(removed)))
	a.n.expired.Add(uint64(len(removed)))
	byWorkload := map[string][]gone{}
	for _, g := range removed {
		byWorkload[g.k.wid] = append(byWorkload[g.k.wid], g)
	}
	for id, gs := range byWorkload {
		a.wmu.Lock()
		ws := a.ws[id]
		a.wmu.Unlock()
		if ws == nil {
			continue
		}
		ws.mu.Lock()
		for i := range gs {
			if gs[i].scan {
				ws.n--
			} else {
				ws.forget(&gs[i].k)
			}
		}
		empty := ws.n <= 0
		ws.mu.Unlock()
		if empty {
			a.wmu.Lock()
			// Re-checked: an insert may have come in between.
			ws.mu.Lock()
			if ws.n <= 0 && a.ws[id] == ws {
				delete(a.ws, id)
				ws.retired = true
			}
			ws.mu.Unlock()
			a.wmu.Unlock()
		}
	}
}
