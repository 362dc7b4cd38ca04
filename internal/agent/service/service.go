// Package service assembles the agent `vigil run` runs: the event
// pipeline of [agent.Agent] (sensor, process table, pipeline) with
// everything around it, container identity ([container.Resolver]), the
// rules ([detect.Detector]), the outputs ([outputs.Manager]), enforcement
// ([enforce.Manager]), reloads ([reload.Reloader]), the kernel drop
// alert, the vulnerability watch and the metrics server
// ([metrics.Server]). It is the one place that wires them; the command
// line only reads its flags, calls [Start], waits and calls
// [Agent.Stop].
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/dropalert"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/hostfs"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/metrics"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/reload"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/transport"
)

// shutdownTimeout bounds how long outputs may take to deliver what is
// queued when the agent stops, or when a reload replaces them: a dead
// output must not hold the exit.
const shutdownTimeout = 10 * time.Second

// Config configures the agent.
type Config struct {
	// Config is the configuration to start with.
	Config *config.Config
	// LoadConfig reads the configuration again for a reload: file,
	// environment, and the command line's flags over them.
	LoadConfig func() (*config.Config, error)
	// ConfigPath is the configuration file a reload watches; "" watches
	// none.
	ConfigPath string
	// Hangup delivers SIGHUP, each a reload; the caller subscribes it
	// before anything else, so that one never kills the agent.
	Hangup <-chan os.Signal
	// Log receives the agent's own logs.
	Log *slog.Logger
	// Stdout is where the stdout output writes alerts.
	Stdout io.Writer
}

// Agent is the running agent of `vigil run`. Start assembles it; Stop
// takes it down in the order that loses no alert.
type Agent struct {
	pipeline    *agent.Agent
	containers  *container.Resolver
	det         *detect.Detector
	outputs     *outputs.Manager
	enforcement *enforce.Manager
	drops       *dropalert.Monitor   // nil when the drop alert is off
	metrics     *metrics.Server      // nil without metrics_addr
	transport   *transport.Publisher // nil without transport.url

	stopVulnWatch func()
	stopPods      func() // stops the pod informer; a no-op when it is off
	stopReloads   context.CancelFunc
	reloads       chan struct{} // closed when the reload loop returned
}

// Stats are the counters a stopped Agent reports.
type Stats struct {
	Detector detect.Stats
	Delivery alert.DeliveryStats
	Outputs  []outputs.Stats
	// Suppressed counts alerts the rate limit held back (and reported in
	// summary alerts).
	Suppressed uint64
	Agent      agent.Stats
	// Transport is the central service transport's counters, nil when
	// it is off.
	Transport *transport.Stats
}

// Start checks the host, loads the rules and starts the agent that sc
// describes. It refuses to start on rules with errors or without an
// enabled rule; every error names what is wrong.
func Start(sc Config) (*Agent, error) {
	cfg, log := sc.Config, sc.Log
	if err := hostfs.SetRoot(cfg.Host.Root); err != nil {
		return nil, fmt.Errorf("not starting: host.root: %w", err)
	}
	if !hostfs.OnHost() {
		log.Info("reading the host under "+hostfs.Root(), "host_root", hostfs.Root())
	}
	if err := preflight(log); err != nil {
		return nil, err
	}
	rs, err := detect.Load(detect.LoadOptionsFrom(cfg))
	if err == nil {
		rs.Log(log)
		err = rs.Runnable()
	}
	if err != nil {
		return nil, fmt.Errorf("not starting: %w (check the rules with: vigil rules validate)", err)
	}
	shards := cfg.Shards
	if shards <= 0 {
		shards = runtime.NumCPU()
	}
	host := cfg.NodeName()
	a := &Agent{}
	table := proc.New()
	// Container identity: runtimes found on this host are listed now and
	// followed from then on; lookups on the event path never block.
	sources := runtimeSources(cfg.Host.Runtimes, log)
	pods, stopPods := startPodWatch(cfg.Kubernetes, log)
	a.stopPods = stopPods
	a.containers = container.New(container.Config{Sources: sources, Pods: pods})
	if err := a.containers.Start(context.Background()); err != nil {
		log.Warn("container metadata unavailable, container ids only", "error", err.Error())
	}
	env := &fields.Env{Table: table, Clock: ktime.NewClock(), Users: fields.NewUsers(hostfs.Path("/etc/passwd"), hostfs.Path("/etc/group")),
		Hostname: host, Containers: a.containers}
	if a.outputs, err = outputs.NewManager(cfg, sc.Stdout, shutdownTimeout, log); err != nil {
		a.containers.Close()
		a.stopPods()
		return nil, err
	}
	outputs.LogEnabled(log, cfg.Outputs)
	latency := detect.NewLatency()
	a.det = detect.New(detect.Config{Program: rs.Program, Env: env, Shards: shards, Emit: a.outputs.Emit, Latency: latency})
	// Rule actions: blocked before the operation where the kernel allows,
	// otherwise carried out after detection.
	a.enforcement = enforce.NewManager(enforce.ManagerConfig{Log: log, Detector: a.det, Emit: a.outputs.Emit,
		Containers: a.containers, Sources: sources})
	a.enforcement.Prepare(cfg, rs).Commit()
	a.pipeline, err = agent.Start(agent.Config{
		Sensor:   sensor.Config{RingBufferBytes: cfg.RingBufferSize, Syscalls: rs.Syscalls},
		TrackFDs: rs.NeedsFDTable,
		Shards:   shards,
		Table:    table,
		Handler: func(shard int, ev *event.Event) {
			a.enforcement.Observe(ev)
			a.det.Handle(shard, ev)
		},
	})
	if err != nil {
		err = errors.Join(err, a.outputs.Close())
		a.enforcement.Close()
		a.containers.Close()
		a.stopPods()
		return nil, err
	}
	reloader := reload.New(reload.Config{Log: log, LoadConfig: sc.LoadConfig, ConfigPath: sc.ConfigPath, Detector: a.det,
		Kernel: a.pipeline.Sensor, FDs: a.pipeline.Table, Outputs: a.outputs, Enforcement: a.enforcement}, cfg, rs, rs.NeedsFDTable)
	a.drops = startDropAlert(cfg.KernelDropAlert, a.pipeline, a.outputs, host)
	if a.transport, err = startTransport(cfg.Transport, host, a.outputs, heartbeatCounters(a.pipeline, a.det, a.outputs), log); err != nil {
		err = errors.Join(err, a.pipeline.Stop(), a.outputs.Close())
		a.stopDropAlert()
		a.enforcement.Close()
		a.containers.Close()
		a.stopPods()
		return nil, err
	}
	a.stopVulnWatch = startVulnWatch(cfg.VulnWatch, sources, a.outputs.Emit, host, log)
	if addr := cfg.MetricsAddr; addr != "" {
		if err := a.serveMetrics(addr, latency, reloader); err != nil {
			err = errors.Join(fmt.Errorf("metrics_addr: %w", err), a.pipeline.Stop(), a.outputs.Close(), stopTransport(a.transport))
			a.stopVulnWatch()
			a.stopDropAlert()
			a.enforcement.Close()
			a.containers.Close()
			a.stopPods()
			return nil, err
		}
		log.Info("metrics on http://"+a.metrics.Addr()+"/metrics", "addr", a.metrics.Addr())
	}
	ctx, stopReloads := context.WithCancel(context.Background())
	a.stopReloads, a.reloads = stopReloads, make(chan struct{})
	go func() {
		defer close(a.reloads)
		reloader.Run(ctx, sc.Hangup, cfg.Reload.Watch, time.Duration(cfg.Reload.Debounce))
	}()
	log.Info(fmt.Sprintf("running %d rules", rs.Enabled()), "syscalls", strings.Join(rs.Syscalls, ","),
		"fd_tables", rs.NeedsFDTable, "shards", shards, "ring_buffer_size", cfg.RingBufferSize)
	return a, nil
}

// Stop takes the agent down: reloads first, then the drop monitor; the
// pipeline drains, so every alert is emitted, and the enforcer reports
// the container kills still queued, before the outputs deliver what they
// hold and close; the metrics server, the vulnerability watch and the
// container resolver go last. It returns the counters as they were once
// the outputs closed, and the errors of the sensor's reading, of the
// outputs, of the transport and of the metrics server, joined. Call it once.
func (a *Agent) Stop() (Stats, error) {
	a.stopReloads()
	<-a.reloads
	a.stopDropAlert()
	runErr := a.pipeline.Stop() // drains the pipeline, so every alert is emitted before the outputs close
	a.enforcement.Close()       // container kills still queued report before the outputs close
	writeErr := a.outputs.Close()
	transportErr := stopTransport(a.transport) // after the outputs: their last alerts are forwarded too
	st := Stats{Detector: a.det.Stats(), Delivery: a.outputs.EmitterStats(), Outputs: a.outputs.Stats(),
		Suppressed: a.outputs.Suppressed(), Agent: a.pipeline.Stats()}
	if a.transport != nil {
		ts := a.transport.Stats()
		st.Transport = &ts
	}
	var metricsErr error
	if a.metrics != nil {
		metricsErr = a.metrics.Close()
	}
	a.stopVulnWatch()
	a.containers.Close()
	a.stopPods()
	return st, errors.Join(runErr, writeErr, transportErr, metricsErr)
}

// serveMetrics serves every part's collector on addr, and the enforcer's
// live state on /enforce/status.
func (a *Agent) serveMetrics(addr string, latency *detect.Latency, r *reload.Reloader) error {
	srv, err := metrics.Serve(addr, []prometheus.Collector{a.pipeline.Collector(), a.det.Collector(), a.outputs.Collector(),
		latency.Collector(), r.Collector(), a.drops.Collector(), a.containers.Collector(), a.enforcement.Collector()},
		map[string]http.Handler{"/enforce/status": a.enforcement.StatusHandler()})
	a.metrics = srv
	return err
}

func (a *Agent) stopDropAlert() {
	if a.drops != nil {
		a.drops.Stop()
	}
}
