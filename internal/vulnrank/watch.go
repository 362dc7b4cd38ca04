package vulnrank

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/scan"
	"github.com/vigilsec/vigil/internal/vulndb"
)

// Matcher matches inventories against vulnerability records; *vulndb.DB
// is one.
type Matcher interface {
	Match(ctx context.Context, queries []vulndb.Query) ([]vulndb.Finding, []vulndb.Unevaluated, error)
}

// Alert says that a running process of a container uses a package with a
// known critical vulnerability.
type Alert struct {
	Container ContainerFacts `json:"container"`
	Ranked    Ranked         `json:"ranked"`
}

// Message is a one-line description for logs and alert outputs.
func (a Alert) Message() string {
	name := a.Container.Name
	if name == "" {
		name = a.Container.ID
	}
	id := a.Ranked.Finding.Record
	if len(a.Ranked.Finding.IDs) > 0 {
		id = a.Ranked.Finding.IDs[0]
	}
	why := ""
	if len(a.Ranked.Reasons) > 1 {
		why = ": " + a.Ranked.Reasons[1]
	}
	return fmt.Sprintf("container %s runs %s %s with critical vulnerability %s (score %.2f)%s",
		name, a.Ranked.Package.Name, a.Ranked.Package.Version, id, a.Ranked.Score, why)
}

// Watcher rescans running containers and reports, once each, the
// critical findings whose package a running process executes or loads.
// A container's inventory is taken once per container and kept while it
// runs; its processes are read again on every pass.
type Watcher struct {
	Source  container.Source
	DB      Matcher
	Alert   func(Alert)
	scanned map[string]*sbom.Inventory // container id -> inventory
	alerted map[string]bool            // container/finding/package/pid already reported
	errors  atomic.Uint64
}

// Errors counts the containers, and the passes, that could not be
// scanned. It may be read while Run runs.
func (w *Watcher) Errors() uint64 { return w.errors.Load() }

// maxAlerted bounds the memory of reported alerts; when full it is
// cleared, and still-true alerts are raised again (counted as repeats by
// the reader, never silently dropped).
const maxAlerted = 65536

// Run calls Check every interval until ctx ends. Errors of one pass are
// counted in Errors, not fatal. Check and Run must not be called
// concurrently. It is meant to run as a goroutine of the
// agent: `go (&vulnrank.Watcher{Source: src, DB: db, Alert: fn}).Run(ctx, 10*time.Minute)`.
func (w *Watcher) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := w.Check(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.errors.Add(1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Check makes one pass over the running containers and returns (and
// passes to Alert) the alerts not raised before.
func (w *Watcher) Check(ctx context.Context) ([]Alert, error) {
	if w.scanned == nil {
		w.scanned, w.alerted = map[string]*sbom.Inventory{}, map[string]bool{}
	}
	ids, err := w.Source.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	running := map[string]bool{}
	var out []Alert
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		alerts, full, err := w.checkOne(ctx, id)
		running[full] = true
		if err != nil {
			w.errors.Add(1)
			continue
		}
		out = append(out, alerts...)
	}
	for id := range w.scanned { // forget containers that are gone
		if !running[id] {
			delete(w.scanned, id)
		}
	}
	for _, a := range out {
		if w.Alert != nil {
			w.Alert(a)
		}
	}
	return out, nil
}

func (w *Watcher) checkOne(ctx context.Context, id string) ([]Alert, string, error) {
	info, err := w.Source.Inspect(ctx, id)
	if err != nil {
		return nil, id, err
	}
	if info.PID == 0 {
		return nil, info.ID, nil
	}
	t, err := ContainerTarget(ctx, info, scan.Options{}, w.scanned[info.ID])
	if err != nil {
		return nil, info.ID, err
	}
	w.scanned[info.ID] = t.Inventory
	ranked, _, err := t.Rank(ctx, w.DB)
	if err != nil {
		return nil, info.ID, err
	}
	var out []Alert
	for _, r := range ranked {
		if r.Finding.Severity != "CRITICAL" || (r.Use != UseExecuted && r.Use != UseLoaded) {
			continue
		}
		key := strings.Join([]string{info.ID, r.Finding.Record, r.Package.Name, r.Package.Location, strconv.Itoa(r.Processes[0].PID)}, "\x00")
		if w.alerted[key] {
			continue
		}
		if len(w.alerted) >= maxAlerted {
			clear(w.alerted)
		}
		w.alerted[key] = true
		out = append(out, Alert{Container: *t.Facts.Container, Ranked: r})
	}
	return out, info.ID, nil
}
