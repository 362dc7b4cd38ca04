package service

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/vulndb"
	"github.com/vigilsec/vigil/internal/vulnrank"
)

// startVulnWatch rescans running containers for packages with critical
// vulnerabilities that a running process uses, one watcher per container
// runtime, and alerts through emit. It returns a function that stops it.
func startVulnWatch(c config.VulnWatch, sources []container.Source, emit func(*alert.Alert) bool, host string,
	log *slog.Logger) func() {
	if !c.Enabled {
		return func() {}
	}
	if _, err := os.Stat(c.DB); err != nil {
		log.Error("vulnerability watch off: no database (import one with vigil db import or vigil db update)", "db", c.DB, "error", err.Error())
		return func() {}
	}
	db, err := vulndb.Open(c.DB)
	if err != nil {
		log.Error("vulnerability watch off", "db", c.DB, "error", err.Error())
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, len(sources))
	for _, src := range sources {
		w := &vulnrank.Watcher{Source: src, DB: db, Alert: func(a vulnrank.Alert) { emit(vulnAlert(a, host)) }}
		go func() {
			defer func() { done <- struct{}{} }()
			// Run ends only with ctx; a pass that fails is counted
			// in the watcher's errors and the next one tries again.
			_ = w.Run(ctx, time.Duration(c.Interval))
		}()
	}
	log.Info("vulnerability watch on", "db", c.DB, "interval", time.Duration(c.Interval).String(), "runtimes", len(sources))
	return func() {
		cancel()
		for range sources {
			<-done
		}
		if err := db.Close(); err != nil {
			log.Error("vulnerability watch: close the database", "db", c.DB, "error", err.Error())
		}
	}
}

// vulnAlert turns a watcher's finding into an alert in the shape of the
// others.
func vulnAlert(a vulnrank.Alert, host string) *alert.Alert {
	r := a.Ranked
	id := ""
	if len(r.Finding.IDs) > 0 {
		id = r.Finding.IDs[0]
	}
	var pids []any
	for _, p := range r.Processes {
		pids = append(pids, p.PID)
	}
	out := &alert.Alert{Time: time.Now().UTC(), Rule: "Critical vulnerability in use", Priority: "Critical",
		Source: alert.InternalSource, Hostname: host, Output: a.Message(),
		Tags: []string{"vulnerability", "vigil"},
		OutputFields: map[string]any{"container.id": a.Container.ID, "container.name": a.Container.Name,
			"vuln.id": id, "vuln.ids": strings.Join(r.Finding.IDs, ","), "vuln.score": r.Score,
			"package.name": r.Package.Name, "package.version": r.Package.Version, "vuln.use": r.Use, "proc.pids": pids},
	}
	out.Context.Identity.ContainerID = a.Container.ID
	out.Context.Identity.ContainerName = a.Container.Name
	return out
}
