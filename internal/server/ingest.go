package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/server/store"
	"github.com/vigilsec/vigil/internal/transport"
)

// futureSlack is how far ahead of the server's clock an alert's time may
// be: a node's clock a little fast is accepted, a year ahead is not.
const futureSlack = 24 * time.Hour

// decode checks one message off the data stream and turns it into a row,
// or says why it is refused.
func (s *Server) decode(m jetstream.Msg) (store.AlertRow, *transport.Reject) {
	data := m.Data()
	if len(data) > s.cfg.Consumer.MaxMessageBytes {
		return store.AlertRow{}, &transport.Reject{Reason: "oversized",
			Err: fmt.Errorf("%d bytes, at most %d", len(data), s.cfg.Consumer.MaxMessageBytes)}
	}
	e, err := transport.Decode(data, m.Subject(), s.cfg.NATS.SubjectPrefix)
	if err != nil {
		var r *transport.Reject
		if errors.As(err, &r) {
			return store.AlertRow{}, r
		}
		return store.AlertRow{}, &transport.Reject{Reason: "malformed", Err: err}
	}
	if e.Kind != transport.KindAlert {
		return store.AlertRow{}, &transport.Reject{Reason: "unknown_kind", Err: fmt.Errorf("kind %q", e.Kind)}
	}
	var a alert.Alert
	if err := json.Unmarshal(e.Payload, &a); err != nil {
		return store.AlertRow{}, &transport.Reject{Reason: "bad_alert", Err: err}
	}
	now := time.Now()
	oldest := today().Add(-time.Duration(s.cfg.RetentionDays) * 24 * time.Hour)
	switch {
	case a.Rule == "" || a.Priority == "" || a.Time.IsZero():
		return store.AlertRow{}, &transport.Reject{Reason: "bad_alert", Err: errors.New("rule, priority and time are required")}
	case a.Time.Before(oldest) || a.Time.After(now.Add(futureSlack)):
		return store.AlertRow{}, &transport.Reject{Reason: "time_out_of_range",
			Err: fmt.Errorf("alert time %s is outside the retention window or in the future", a.Time.Format(time.RFC3339))}
	}
	body := e.Payload
	if bytes.IndexByte(body, 0) >= 0 || !json.Valid(body) {
		return store.AlertRow{}, &transport.Reject{Reason: "bad_alert", Err: errors.New("payload is not storable JSON")}
	}
	id := a.Context.Identity
	return store.AlertRow{MsgID: e.ID, Node: e.Node, Agent: e.Agent, Time: a.Time, Rule: a.Rule, Priority: a.Priority,
		Source: a.Source, Hostname: a.Hostname, ContainerID: id.ContainerID, Namespace: id.Namespace, Pod: id.Pod, Body: body}, nil
}

// storeBatch stores the good messages of a batch in one statement and
// acknowledges them; refused ones are terminated (never redelivered),
// counted and logged. When the database fails, the good ones are
// negatively acknowledged, to come back after a delay: nothing is stored
// half, since the batch is one statement.
func (s *Server) storeBatch(ctx context.Context, msgs []jetstream.Msg) {
	rows := make([]store.AlertRow, 0, len(msgs))
	good := make([]jetstream.Msg, 0, len(msgs))
	for _, m := range msgs {
		row, rej := s.decode(m)
		if rej != nil {
			s.reject(ctx, m, rej)
			continue
		}
		rows, good = append(rows, row), append(good, m)
	}
	if len(rows) == 0 {
		return
	}
	start := time.Now()
	n, err := s.store.InsertAlerts(ctx, rows)
	if err != nil {
		s.stats.dbErrors.Add(1)
		if ctx.Err() == nil {
			s.log.Warn("server: database write failed; the batch will be redelivered", "messages", len(rows), "error", err.Error())
		}
		for _, m := range good {
			s.settled(m.NakWithDelay(time.Second))
		}
		if ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
		return
	}
	s.stats.observeBatch(time.Since(start))
	for _, m := range good {
		s.settled(m.Ack())
	}
	s.stats.stored.Add(uint64(n))
	s.stats.duplicates.Add(uint64(int64(len(rows)) - n))
}

// settled logs a failed ack, nak or term. Nothing is lost: JetStream
// redelivers the message after its ack wait, and the store drops a
// duplicate by its id.
func (s *Server) settled(err error) {
	if err != nil {
		s.log.Debug("server: a message could not be settled; it will be redelivered", "error", err.Error())
	}
}

// reject terminates a refused message, so that it is never redelivered,
// and counts and logs why.
func (s *Server) reject(ctx context.Context, m jetstream.Msg, r *transport.Reject) {
	s.settled(m.Term())
	s.stats.rejected(r.Reason)
	s.rejects.log(r, m.Subject(), len(m.Data()))
	if err := s.store.CountReject(ctx, r.Reason, r.Err.Error()); err != nil && ctx.Err() == nil {
		s.log.Debug("server: cannot count a reject in the database", "error", err.Error())
	}
}

// consumeHeartbeats records each agent's heartbeats and alerts on what
// they reveal.
func (s *Server) consumeHeartbeats(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := s.heartbeats.Fetch(64, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			s.connectedSince.Store(time.Now().UnixNano())
			s.pause(ctx, err)
			continue
		}
		for m := range batch.Messages() {
			s.heartbeat(ctx, m)
		}
	}
}

func (s *Server) heartbeat(ctx context.Context, m jetstream.Msg) {
	e, err := transport.Decode(m.Data(), m.Subject(), s.cfg.NATS.SubjectPrefix)
	var r *transport.Reject
	if err != nil {
		if !errors.As(err, &r) {
			r = &transport.Reject{Reason: "malformed", Err: err}
		}
	} else if e.Kind != transport.KindHeartbeat {
		r = &transport.Reject{Reason: "unknown_kind", Err: fmt.Errorf("kind %q on the heartbeat stream", e.Kind)}
	}
	var hb transport.Heartbeat
	if r == nil {
		dec := json.NewDecoder(bytes.NewReader(e.Payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&hb); err != nil || hb.IntervalMS < 100 || hb.IntervalMS > 3_600_000 || hb.Started.IsZero() {
			r = &transport.Reject{Reason: "bad_heartbeat", Err: fmt.Errorf("want started and interval_ms in [100, 3600000]: %v", err)}
		}
	}
	if r != nil {
		s.stats.rejected(r.Reason)
		s.rejects.log(r, m.Subject(), len(m.Data()))
		return
	}
	s.stats.heartbeats.Add(1)
	events, err := s.store.RecordHeartbeat(ctx, store.Heartbeat{Node: e.Node, Agent: e.Agent, BootID: hb.BootID,
		Version: hb.Version, Started: hb.Started, IntervalMS: hb.IntervalMS, Seq: hb.Seq, Counters: hb.Counters},
		s.cfg.Agents.KernelDropRatio)
	if err != nil {
		// Heartbeats that could not be recorded say nothing against the
		// agents: the silence clock restarts once the database is back.
		s.connectedSince.Store(time.Now().UnixNano())
		s.stats.dbErrors.Add(1)
		if ctx.Err() == nil {
			s.log.Warn("server: cannot record a heartbeat", "node", e.Node, "error", err.Error())
		}
		return
	}
	s.raise(ctx, events)
}

// watchAgents marks agents silent when their heartbeats stop.
func (s *Server) watchAgents(ctx context.Context) {
	t := time.NewTicker(time.Duration(s.cfg.Agents.CheckInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.nc.IsConnected() {
			s.connectedSince.Store(time.Now().UnixNano())
			continue
		}
		since := time.Since(time.Unix(0, s.connectedSince.Load()))
		events, err := s.store.MarkSilent(ctx, s.cfg.Agents.MissedHeartbeats, since)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("server: agent check failed", "error", err.Error())
			}
			continue
		}
		s.raise(ctx, events)
	}
}
