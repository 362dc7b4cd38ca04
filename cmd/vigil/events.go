package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	containersources "github.com/vigilsec/vigil/internal/container/sources"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/eventjson"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/workload"
)

type eventsOptions struct {
	types    []string
	comms    []string
	pids     []uint32
	pidFlags []uint
	cgroups  []uint64
	duration time.Duration
	stats    bool
	ringSize int
	shards   int
	format   string
}

func newEventsCmd() *cobra.Command {
	var o eventsOptions
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Stream what the sensor sees as JSON lines",
		Long: "Stream every kernel event the sensor captures, enriched with process\n" +
			"identity and ancestry, as one JSON object per line (see docs/events.md).\n" +
			"Filters combine with AND; repeated values of one filter with OR.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEvents(cmd, o) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.types, "type", nil, "event kinds (exec, open, socket, fork, exit) or syscall names (openat, connect, ...)")
	f.StringSliceVar(&o.comms, "comm", nil, "process names")
	f.UintSliceVar(&o.pidFlags, "pid", nil, "process ids (thread-group ids)")
	f.StringSliceVar(new([]string), "cgroup", nil, "cgroup v2 ids")
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (default: until interrupted)")
	f.BoolVar(&o.stats, "stats", false, "print the agent's counters to stderr on exit")
	f.IntVar(&o.ringSize, "ring-buffer-size", config.Default().RingBufferSize, "kernel ring buffer size in bytes (a power of two)")
	f.IntVar(&o.shards, "shards", 0, "pipeline workers (default: one per CPU)")
	f.StringVar(&o.format, "format", "json", "output format: json, or none to only count (for measuring the sensor alone)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		for _, p := range o.pidFlags {
			o.pids = append(o.pids, uint32(p))
		}
		ids, _ := cmd.Flags().GetStringSlice("cgroup")
		for _, s := range ids {
			var id uint64
			if _, err := fmt.Sscan(s, &id); err != nil {
				return fmt.Errorf("--cgroup %q: not a cgroup id", s)
			}
			o.cgroups = append(o.cgroups, id)
		}
		return nil
	}
	return cmd
}

// syscallsFor returns the kernel filter for the requested types, or an error
// naming a type that is neither a kind nor a capturable syscall.
func syscallsFor(types []string) ([]string, error) {
	if len(types) == 0 {
		return syscalls.Default(), nil
	}
	var out []string
	for _, t := range types {
		if calls, ok := syscalls.ForKind(t); ok {
			out = append(out, calls...)
			continue
		}
		if t == "procexit" || t == "procfork" {
			continue
		}
		if syscalls.HandlerFor(t) == syscalls.None {
			return nil, fmt.Errorf("--type %q: not an event kind (exec, open, socket, fork, exit) nor a syscall Vigil captures (%s)",
				t, strings.Join(syscalls.Supported(), ", "))
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (o *eventsOptions) match(ev *event.Event) bool {
	if len(o.types) > 0 && !slices.Contains(o.types, ev.Kind.String()) && !slices.Contains(o.types, ev.TypeName()) {
		return false
	}
	if len(o.comms) > 0 && !slices.Contains(o.comms, ev.Comm) {
		return false
	}
	if len(o.pids) > 0 && !slices.Contains(o.pids, ev.PID) {
		return false
	}
	if len(o.cgroups) > 0 && !slices.Contains(o.cgroups, ev.CgroupID) {
		return false
	}
	return true
}

func runEvents(cmd *cobra.Command, o eventsOptions) error {
	calls, err := syscallsFor(o.types)
	if err != nil {
		return err
	}
	if o.format != "json" && o.format != "none" {
		return fmt.Errorf("--format %q: want json or none", o.format)
	}
	quiet := o.format == "none"
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	var mu sync.Mutex // shards write concurrently
	var writeErr error
	table := proc.New()
	writer := eventjson.NewWriter(out, table)
	containers := container.New(container.Config{Sources: containersources.Detect()})
	if err := containers.Start(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "vigil: container metadata unavailable, container ids only: %v\n", err)
	}
	defer containers.Close()
	writer.Containers = containers
	writer.Workloads = workload.NewResolver(workload.Config{Containers: containers, Processes: table})

	a, err := agent.Start(agent.Config{
		Sensor: sensor.Config{RingBufferBytes: o.ringSize, Syscalls: calls},
		Shards: o.shards,
		Table:  table,
		Handler: func(_ int, ev *event.Event) {
			if quiet || !o.match(ev) {
				return
			}
			mu.Lock()
			if err := writer.Write(ev); err != nil && writeErr == nil {
				writeErr = err
			}
			mu.Unlock()
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vigil: streaming events (syscalls: %s)\n", strings.Join(calls, ","))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	var timeout <-chan time.Time
	if o.duration > 0 {
		timeout = time.After(o.duration)
	}
	flush := time.NewTicker(200 * time.Millisecond)
	defer flush.Stop()
loop:
	for {
		select {
		case <-stop:
			break loop
		case <-timeout:
			break loop
		case <-flush.C:
			mu.Lock()
			if err := out.Flush(); err != nil && writeErr == nil {
				writeErr = err
			}
			mu.Unlock()
		}
	}
	stats := a.Stats()
	err = a.Stop()
	mu.Lock()
	// The last events are still in the buffer: losing them to a failed
	// flush must fail the command.
	if ferr := out.Flush(); ferr != nil && writeErr == nil {
		writeErr = ferr
	}
	mu.Unlock()
	if o.stats {
		err = errors.Join(err, json.NewEncoder(os.Stderr).Encode(stats))
	}
	if err != nil {
		return err
	}
	return writeErr
}
