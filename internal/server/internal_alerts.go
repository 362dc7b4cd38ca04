package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/server/store"
)

// Rules of the alerts the server raises about agents.
const (
	RuleAgentSilent    = "Vigil agent silent"
	RuleAgentRestarted = "Vigil agent restarted"
	RuleKernelDrops    = "Vigil agent losing kernel events"
)

// agentAlert turns an agent event into an alert in the agents' own shape,
// with source "internal", and the message id that makes it stored once
// whichever replica raises it. It returns nil for events that are not
// alerted on.
func agentAlert(ev store.AgentEvent, missed int) (*alert.Alert, string) {
	a := &alert.Alert{Time: time.Now().UTC(), Source: "internal", Hostname: ev.Node, Tags: []string{"vigil", "agent"},
		OutputFields: map[string]any{"node": ev.Node, "agent.id": ev.Agent}}
	var id string
	switch ev.Kind {
	case store.EventSilent:
		a.Rule, a.Priority = RuleAgentSilent, "Critical"
		a.Output = fmt.Sprintf("the agent on node %s missed %d heartbeats (every %s); last heard from at %s",
			ev.Node, missed, time.Duration(ev.IntervalMS)*time.Millisecond, ev.LastSeen.UTC().Format(time.RFC3339Nano))
		a.OutputFields["agent.last_seen"] = ev.LastSeen.UTC().Format(time.RFC3339Nano)
		id = "internal-silent-" + ev.Agent + "-" + strconv.FormatInt(ev.LastSeen.UnixMicro(), 10)
	case store.EventRestart, store.EventReboot:
		a.Rule, a.Priority = RuleAgentRestarted, "Warning"
		why := "the agent process restarted"
		if ev.Kind == store.EventReboot {
			why = "the node rebooted"
		}
		a.Output = fmt.Sprintf("a new agent %s on node %s replaced %s: %s", ev.Agent, ev.Node, ev.Previous, why)
		a.OutputFields["agent.previous"] = ev.Previous
		a.OutputFields["agent.reason"] = string(ev.Kind)
		id = "internal-restart-" + ev.Agent
	case store.EventKernelDrops:
		a.Rule, a.Priority = RuleKernelDrops, "Warning"
		a.Output = fmt.Sprintf("the kernel dropped %d of %d events on node %s since the previous heartbeat",
			ev.Drops, ev.Drops+ev.Events, ev.Node)
		a.OutputFields["kernel.drops"] = ev.Drops
		a.OutputFields["kernel.events"] = ev.Events
		id = "internal-drops-" + ev.Agent + "-" + strconv.FormatInt(time.Now().UnixMicro(), 10)
	default:
		return nil, ""
	}
	return a, id
}

// raise stores and logs the alerts agent events call for.
func (s *Server) raise(ctx context.Context, events []store.AgentEvent) {
	var rows []store.AlertRow
	for _, ev := range events {
		switch ev.Kind {
		case store.EventNew:
			s.log.Info("server: new node", "node", ev.Node, "agent", ev.Agent)
		case store.EventBack:
			s.log.Info("server: agent heard from again", "node", ev.Node, "agent", ev.Agent)
		}
		a, id := agentAlert(ev, s.cfg.Agents.MissedHeartbeats)
		if a == nil {
			continue
		}
		s.log.Warn("server: "+a.Output, "rule", a.Rule, "node", ev.Node)
		s.stats.internalAlerts.Add(1)
		body, _ := json.Marshal(a)
		rows = append(rows, store.AlertRow{MsgID: id, Node: ev.Node, Agent: ev.Agent, Time: a.Time, Rule: a.Rule,
			Priority: a.Priority, Source: a.Source, Hostname: a.Hostname, Body: body})
	}
	if len(rows) == 0 {
		return
	}
	if _, err := s.store.InsertAlerts(ctx, rows); err != nil && ctx.Err() == nil {
		s.log.Error("server: cannot store agent alerts", "error", err.Error())
	}
}
