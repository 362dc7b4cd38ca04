package baseline

import (
	"fmt"
	"time"

	"github.com/vigilsec/vigil/internal/baseline/store"
)

// The commands work on the store directly while the agent is down; these
// make the same changes the engine would. The agent reads them at its
// next start.

// SetModeOffline changes a stored workload's mode.
func SetModeOffline(st *store.Store, id string, m Mode, cfg Config) error {
	if m == Protect && !cfg.ProtectAllowed {
		return ErrProtectNotAllowed
	}
	rec, ok, err := st.Get(id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%q: %w", id, ErrUnknownWorkload)
	}
	now := time.Now().UnixNano()
	w := rec.Workload
	if m == Learn && w.Mode != Learn.String() {
		w.LearnSince, w.LastChange = now, now
	}
	w.Mode, w.ModeChanged = m.String(), now
	return st.Apply([]store.Change{{Op: store.OpPutWorkload, Workload: w}})
}

// ResetOffline forgets a stored workload's baseline; it starts again in
// the configured default mode.
func ResetOffline(st *store.Store, id string, cfg Config) error {
	rec, ok, err := st.Get(id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%q: %w", id, ErrUnknownWorkload)
	}
	now := time.Now().UnixNano()
	w := rec.Workload
	w.Mode, w.LearnSince, w.ModeChanged, w.LastChange = cfg.DefaultMode, now, now, now
	return st.Apply([]store.Change{{Op: store.OpClearItems, Workload: w}, {Op: store.OpPutWorkload, Workload: w}})
}

// ImportOffline writes a document into the store, replacing the
// workload's baseline.
func ImportOffline(st *store.Store, d *Document, cfg Config) error {
	if m, ok := ParseMode(d.Mode); !ok {
		return fmt.Errorf("mode %q: want learn, monitor or protect", d.Mode)
	} else if m == Protect && !cfg.ProtectAllowed {
		return ErrProtectNotAllowed
	}
	return st.Apply(ImportChanges(d))
}
