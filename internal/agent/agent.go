// Package agent assembles the event pipeline into a running [Agent]: the
// [sensor.Sensor] reads and decodes the kernel's records, the
// [proc.Table] keeps the processes, and the [pipeline.Pipeline] runs the
// [Config] handler on every event on every core. It is what `vigil
// events` streams and what the tests run rules on. Package service builds
// the whole agent of `vigil run` (rules, outputs, enforcement, reloads,
// metrics) on it.
package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/hostfs"
	"github.com/vigilsec/vigil/internal/pipeline"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
)

// Config configures an agent.
type Config struct {
	Sensor sensor.Config
	// Shards is the number of pipeline workers; 0 means one per CPU.
	Shards int
	// QueueLen bounds each shard's queue; 0 picks pipeline.DefaultQueueLen.
	QueueLen int
	// FullWait is how long the ring-buffer reader waits for room in a
	// full shard queue before dropping the event (pipeline.Config.FullWait):
	// a burst then waits in the kernel ring buffer, which is far larger.
	// 0 means DefaultFullWait; negative drops at once.
	FullWait time.Duration
	// ProcRoot is where /proc is mounted; "" means /proc.
	ProcRoot string
	// SweepInterval is how often the process table is checked against
	// /proc to reclaim entries whose exit was lost; 0 means one minute.
	SweepInterval time.Duration
	// TrackFDs keeps per-process fd tables (needed by fd.* and proc.std*
	// fields that the event itself does not answer). It costs a copy of
	// every opened path, so agents whose rules do not need it leave it off.
	TrackFDs bool
	// Table is the process table to keep; nil creates one. Passing it in
	// lets a handler refer to the table before Start returns.
	Table *proc.Table
	// Handler sees every event after the process table has applied it. It
	// runs on the event's shard worker and must not keep the event.
	Handler func(shard int, ev *event.Event)
}

// Agent is a running sensor feeding the process table and the pipeline.
type Agent struct {
	Sensor   *sensor.Sensor
	Table    *proc.Table
	Pipeline *pipeline.Pipeline

	cfg    Config
	cancel context.CancelFunc
	wg     sync.WaitGroup
	runErr error
}

// Start attaches the sensor, seeds the process table from /proc and starts
// consuming events. The sensor is attached before the seed, so a process
// born in between is seen by one or the other, never by neither.
func Start(cfg Config) (*Agent, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = hostfs.Proc()
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Minute
	}
	if err := sensor.MissingRequired(sensor.ProbeFeatures()); err != nil {
		return nil, fmt.Errorf("this kernel lacks what the sensor needs:\n%w", err)
	}
	s, err := sensor.Open(cfg.Sensor)
	if err != nil {
		return nil, err
	}
	table := cfg.Table
	if table == nil {
		table = proc.New()
	}
	table.SetTrackFDs(cfg.TrackFDs)
	if err := table.Seed(cfg.ProcRoot); err != nil {
		return nil, errors.Join(fmt.Errorf("seed process table from %s: %w", cfg.ProcRoot, err), s.Close())
	}
	handler := cfg.Handler
	if handler == nil {
		handler = func(int, *event.Event) {}
	}
	pipe := pipeline.New(pipeline.Config{
		Shards: cfg.Shards, QueueLen: cfg.QueueLen, Table: table, Handler: handler, BatchWakeups: true,
		FullWait: fullWait(cfg.FullWait),
	})
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{Sensor: s, Table: table, Pipeline: pipe, cfg: cfg, cancel: cancel}
	if err := pipe.Start(ctx); err != nil { // a new pipeline: a bug if it fails
		cancel()
		return nil, errors.Join(err, s.Close())
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.runErr = s.Run(func(ev *event.Event) { pipe.Submit(ev) }, pipe.Flush)
	}()
	go func() {
		defer a.wg.Done()
		a.sweep(ctx)
	}()
	return a, nil
}

// DefaultFullWait bounds the reader's wait on a full shard queue. A worker
// that has not taken an event for this long is treated as stuck, and its
// events are dropped (and counted) until it moves again.
const DefaultFullWait = 50 * time.Millisecond

func fullWait(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultFullWait
	case d < 0:
		return 0
	}
	return d
}

func (a *Agent) sweep(ctx context.Context) {
	t := time.NewTicker(a.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A /proc that cannot be listed removes nothing (Sweep's
			// contract), and the next tick tries again.
			_, _ = a.Table.Sweep(a.cfg.ProcRoot)
		}
	}
}

// Stop detaches the sensor, lets the pipeline drain what it holds, and
// returns the sensor's reading error and what failed to close, if any.
func (a *Agent) Stop() error {
	closeErr := a.Sensor.Close()
	a.cancel()
	a.wg.Wait()
	a.Pipeline.Close()
	return errors.Join(a.runErr, closeErr)
}

// Stats gathers every stage's counters.
type Stats struct {
	Sensor   sensor.Stats
	Pipeline pipeline.Stats
	Table    proc.Stats
}

// Stats returns the current counters.
func (a *Agent) Stats() Stats {
	return Stats{Sensor: a.Sensor.Stats(), Pipeline: a.Pipeline.Stats(), Table: a.Table.Stats()}
}
