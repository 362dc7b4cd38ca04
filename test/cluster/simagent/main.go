// Command simagent is a synthetic node agent for the cluster tests and
// benchmarks: it publishes alerts through the same transport code as
// `vigil run --server` (queue, spool, heartbeats), at a given rate, so
// that several nodes can be simulated on one machine.
//
// It produces until SIGUSR1 (stop producing, keep heartbeating) or
// SIGTERM (stop, close the transport, spooling what is unsent); on either
// it prints {"produced": N, "dropped": D} on stdout, one line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/transport"
)

func main() {
	url := flag.String("nats", "nats://127.0.0.1:4222", "NATS URL")
	node := flag.String("node", "sim-1", "node name")
	spool := flag.String("spool", "", "spool directory")
	rate := flag.Float64("rate", 100, "alerts per second")
	count := flag.Int("count", 0, "stop producing after this many (0: until SIGUSR1 or SIGTERM)")
	hb := flag.Duration("heartbeat", time.Second, "heartbeat interval")
	payload := flag.Int("payload", 0, "pad each alert's output to about this many bytes")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	p, err := transport.Start(transport.Config{URL: *url, Node: *node, SpoolDir: *spool, SpoolMaxBytes: 256 << 20,
		HeartbeatInterval: *hb, Timeout: 5 * time.Second, Version: "simagent", Log: log,
		Counters: func() map[string]uint64 { return map[string]uint64{} }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "simagent:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	var produced, dropped int
	report := func() {
		b, _ := json.Marshal(map[string]int{"produced": produced, "dropped": dropped})
		fmt.Println(string(b))
	}
	pad := ""
	for len(pad) < *payload {
		pad += "padding "
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	producing := true
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGUSR1 {
				if producing {
					producing = false
					tick.Stop()
					report()
				}
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := p.Close(ctx)
			cancel()
			if producing {
				report()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "simagent:", err)
				os.Exit(1)
			}
			return
		case now := <-tick.C:
			a := &alert.Alert{Time: now.UTC(), Rule: "Simulated alert", Priority: "Warning", Source: "syscall",
				Hostname: *node, Output: fmt.Sprintf("simulated alert %d from %s %s", produced, *node, pad),
				Tags: []string{"simulated"}, OutputFields: map[string]any{"sim.seq": produced, "sim.node": *node}}
			if p.Publish(transport.KindAlert, a) {
				produced++
			} else {
				dropped++
			}
			if *count > 0 && produced >= *count && producing {
				producing = false
				tick.Stop()
				report()
			}
		}
	}
}
