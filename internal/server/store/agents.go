package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Heartbeat is one heartbeat to record.
type Heartbeat struct {
	Node, Agent, BootID, Version string
	Started                      time.Time
	IntervalMS                   int64
	Seq                          uint64
	Counters                     map[string]uint64
}

// AgentEvent is something a heartbeat or its absence revealed.
type AgentEvent struct {
	Kind AgentEventKind
	Node string
	// Agent is the agent process concerned: the new one for a restart.
	Agent string
	// Previous is the agent process before a restart.
	Previous string
	// LastSeen is when the agent was last heard from.
	LastSeen time.Time
	// Drops and Events are the kernel's losses and the events read
	// between two heartbeats, for EventKernelDrops.
	Drops, Events uint64
	// IntervalMS is the agent's heartbeat interval.
	IntervalMS int64
}

// AgentEventKind names an AgentEvent.
type AgentEventKind string

// The agent events.
const (
	EventNew         AgentEventKind = "new"          // a node seen for the first time
	EventRestart     AgentEventKind = "restart"      // a new agent process, same kernel boot
	EventReboot      AgentEventKind = "reboot"       // a new agent process after a node reboot
	EventSilent      AgentEventKind = "silent"       // heartbeats missed
	EventBack        AgentEventKind = "back"         // heard from again after silence
	EventKernelDrops AgentEventKind = "kernel_drops" // drop ratio above the threshold
)

// RecordHeartbeat updates the node's agent state from hb and returns what
// changed. A heartbeat older than the state (from an agent process that
// started earlier, or an earlier sequence number) is ignored, so a late
// redelivery never reads as a restart.
func (s *Store) RecordHeartbeat(ctx context.Context, hb Heartbeat, dropRatio float64) ([]AgentEvent, error) {
	counters, _ := json.Marshal(hb.Counters)
	var events []AgentEvent
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		events = nil
		var agent, bootID, state string
		var started, lastSeen time.Time
		var seq int64
		var prev map[string]uint64
		err := tx.QueryRow(ctx, `SELECT agent, boot_id, started, heartbeat_seq, counters, state, last_seen
			FROM agents WHERE node = $1 FOR UPDATE`, hb.Node).Scan(&agent, &bootID, &started, &seq, &prev, &state, &lastSeen)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO agents (node, agent, boot_id, version, started, interval_ms, heartbeat_seq, counters)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (node) DO NOTHING`,
				hb.Node, hb.Agent, hb.BootID, hb.Version, hb.Started, hb.IntervalMS, int64(hb.Seq), counters)
			events = append(events, AgentEvent{Kind: EventNew, Node: hb.Node, Agent: hb.Agent, IntervalMS: hb.IntervalMS})
			return err
		}
		if err != nil {
			return err
		}
		base := AgentEvent{Node: hb.Node, Agent: hb.Agent, LastSeen: lastSeen, IntervalMS: hb.IntervalMS}
		switch {
		case hb.Agent != agent && !hb.Started.After(started):
			return nil // an older process's heartbeat, late
		case hb.Agent != agent:
			ev := base
			ev.Kind, ev.Previous = EventRestart, agent
			if hb.BootID != bootID {
				ev.Kind = EventReboot
			}
			events = append(events, ev)
			_, err = tx.Exec(ctx, `UPDATE agents SET agent = $2, boot_id = $3, version = $4, started = $5, interval_ms = $6,
				heartbeat_seq = $7, counters = $8, last_seen = now(), state = 'up', state_since = now(), restarts = restarts + 1
				WHERE node = $1`, hb.Node, hb.Agent, hb.BootID, hb.Version, hb.Started, hb.IntervalMS, int64(hb.Seq), counters)
			return err
		case int64(hb.Seq) <= seq:
			return nil // a duplicate or late heartbeat
		}
		if state != "up" {
			ev := base
			ev.Kind = EventBack
			events = append(events, ev)
		}
		dEvents := sub(hb.Counters["kernel_events"], prev["kernel_events"])
		dDrops := sub(hb.Counters["kernel_drops"], prev["kernel_drops"])
		if dDrops > 0 && float64(dDrops) > dropRatio*float64(dEvents+dDrops) {
			ev := base
			ev.Kind, ev.Drops, ev.Events = EventKernelDrops, dDrops, dEvents
			events = append(events, ev)
		}
		_, err = tx.Exec(ctx, `UPDATE agents SET version = $2, interval_ms = $3, heartbeat_seq = $4, counters = $5,
			last_seen = now(), state = 'up', state_since = CASE WHEN state = 'up' THEN state_since ELSE now() END
			WHERE node = $1`, hb.Node, hb.Version, hb.IntervalMS, int64(hb.Seq), counters)
		return err
	})
	return events, err
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// MarkSilent marks silent every agent not heard from for missed of its
// heartbeat intervals, and returns them. The update is atomic, so with
// several server replicas each agent is reported once. connectedFor is
// how long this server has been hearing heartbeats: an agent is not
// judged over a span the server itself was deaf.
func (s *Store) MarkSilent(ctx context.Context, missed int, connectedFor time.Duration) ([]AgentEvent, error) {
	rows, err := s.pool.Query(ctx, `UPDATE agents SET state = 'silent', state_since = now()
		WHERE state = 'up' AND now() - last_seen > make_interval(secs => interval_ms * $1 / 1000.0)
			AND $2 > interval_ms * $1 / 1000.0
		RETURNING node, agent, last_seen, interval_ms`, missed, connectedFor.Seconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AgentEvent, error) {
		ev := AgentEvent{Kind: EventSilent}
		err := r.Scan(&ev.Node, &ev.Agent, &ev.LastSeen, &ev.IntervalMS)
		return ev, err
	})
}

// AgentState is a node's agent as the API shows it.
type AgentState struct {
	Node       string            `json:"node"`
	Agent      string            `json:"agent"`
	BootID     string            `json:"boot_id"`
	Version    string            `json:"version"`
	Started    time.Time         `json:"started"`
	FirstSeen  time.Time         `json:"first_seen"`
	LastSeen   time.Time         `json:"last_seen"`
	IntervalMS int64             `json:"interval_ms"`
	Counters   map[string]uint64 `json:"counters"`
	State      string            `json:"state"`
	StateSince time.Time         `json:"state_since"`
	Restarts   int64             `json:"restarts"`
}

// Agents lists every node's agent, by node name.
func (s *Store) Agents(ctx context.Context) ([]AgentState, error) {
	rows, err := s.pool.Query(ctx, `SELECT node, agent, boot_id, version, started, first_seen, last_seen, interval_ms,
		counters, state, state_since, restarts FROM agents ORDER BY node`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AgentState, error) {
		var a AgentState
		err := r.Scan(&a.Node, &a.Agent, &a.BootID, &a.Version, &a.Started, &a.FirstSeen, &a.LastSeen, &a.IntervalMS,
			&a.Counters, &a.State, &a.StateSince, &a.Restarts)
		return a, err
	})
}
