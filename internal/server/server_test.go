package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/server/store"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/transport"
)

type env struct {
	url, db string
	nc      *nats.Conn
	js      jetstream.JetStream
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testutil.Postgres(t)
	ns := testutil.NATS(t, t.TempDir(), 0)
	e := &env{url: ns.ClientURL(), db: db}
	var err error
	if e.nc, err = nats.Connect(e.url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.nc.Close)
	e.js, _ = jetstream.New(e.nc)
	return e
}

func (e *env) config() *config.Server {
	c := config.DefaultServer()
	c.NATS.URL = e.url
	c.Database.URL = e.db
	c.API.Addr = "127.0.0.1:0"
	c.Agents.CheckInterval = config.Duration(100 * time.Millisecond)
	c.Consumer.MaxMessageBytes = 64 << 10
	return c
}

func (e *env) start(t *testing.T, c *config.Server) *Server {
	t.Helper()
	s, err := Start(context.Background(), Config{Config: c, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func envelope(node, id string, kind transport.Kind, payload any) []byte {
	raw, _ := json.Marshal(payload)
	b, _ := json.Marshal(transport.Envelope{V: 1, ID: id, Node: node, Kind: kind, Agent: "agent-" + node,
		Time: time.Now().UTC(), Payload: raw})
	return b
}

func sampleAlert(rule string, at time.Time) *alert.Alert {
	return &alert.Alert{Time: at, Rule: rule, Priority: "Warning", Source: "syscall", Hostname: "h", Output: "o",
		Tags: []string{"t"}, OutputFields: map[string]any{"proc.name": "cat"}}
}

func (e *env) publish(t *testing.T, subject string, data []byte, id string) {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = data
	opts := []jetstream.PublishOpt{}
	if id != "" {
		opts = append(opts, jetstream.WithMsgID(id))
	}
	if _, err := e.js.PublishMsg(context.Background(), m, opts...); err != nil {
		t.Fatalf("publish %s: %v", subject, err)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func count(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	n, err := s.CountAlerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExactlyOnceAndBadInput: duplicates (same message id, whether
// JetStream's window catches them or not) are stored once; bad input is
// refused by reason, counted, never stored and never redelivered.
func TestExactlyOnceAndBadInput(t *testing.T) {
	e := newEnv(t)
	s := e.start(t, e.config())
	now := time.Now().UTC()
	subj := transport.Subject("vigil", transport.KindAlert, "n1")
	for i := range 50 {
		id := fmt.Sprintf("a-%d", i)
		b := envelope("n1", id, transport.KindAlert, sampleAlert("r", now.Add(time.Duration(i)*time.Millisecond)))
		e.publish(t, subj, b, id)
		if i%5 == 0 {
			e.publish(t, subj, b, "") // a republish JetStream does not recognise: the database must
		}
	}
	big := sampleAlert("big", now)
	big.Output = strings.Repeat("x", 100<<10)
	bad := map[string][]byte{
		"malformed":         []byte(`{"v":1,"id":"x",`),
		"schema_version":    envelope("n1", "v2", transport.KindAlert, sampleAlert("r", now)),
		"oversized":         envelope("n1", "big", transport.KindAlert, big),
		"subject_mismatch":  envelope("n2", "spoof", transport.KindAlert, sampleAlert("r", now)),
		"bad_alert":         envelope("n1", "norule", transport.KindAlert, map[string]any{"priority": "Warning"}),
		"time_out_of_range": envelope("n1", "old", transport.KindAlert, sampleAlert("r", now.AddDate(-1, 0, 0))),
	}
	bad["schema_version"] = []byte(strings.Replace(string(bad["schema_version"]), `"v":1`, `"v":2`, 1))
	for _, b := range bad {
		e.publish(t, subj, b, "")
	}
	e.publish(t, transport.Subject("vigil", "flowz", "n1"), envelope("n1", "k", "flowz", map[string]int{"a": 1}), "")
	waitFor(t, 20*time.Second, func() bool { return count(t, s.Store())["n1"] == 50 && len(s.Stats().Rejected) == 7 }, "50 stored, 7 kinds refused")
	time.Sleep(500 * time.Millisecond) // a redelivery would show now
	st := s.Stats()
	t.Logf("published 60 good (10 republished), 7 bad: stored %d, duplicates %d, refused %v", st.Stored, st.Duplicates, st.Rejected)
	if got := count(t, s.Store()); got["n1"] != 50 || len(got) != 1 {
		t.Errorf("stored %v, want n1: 50", got)
	}
	for reason, n := range st.Rejected {
		if n != 1 {
			t.Errorf("reason %s counted %d times, want once (terminated, not redelivered)", reason, n)
		}
	}
	for _, reason := range []string{"malformed", "schema_version", "oversized", "subject_mismatch", "bad_alert", "time_out_of_range", "unknown_kind"} {
		if st.Rejected[reason] != 1 {
			t.Errorf("no %s rejection: %v", reason, st.Rejected)
		}
	}
	rej, _ := s.Store().Rejects(context.Background())
	if rej["oversized"] != 1 || len(rej) != 7 {
		t.Errorf("rejects table %v", rej)
	}
	info, _ := e.js.Stream(context.Background(), transport.DataStream)
	if si, _ := info.Info(context.Background()); si.State.Msgs != 0 {
		t.Errorf("%d messages left in the work queue", si.State.Msgs)
	}
}

// TestAPI pages through alerts by node with a cursor, and lists agents;
// off loopback the configuration needs a token and TLS.
func TestAPI(t *testing.T) {
	e := newEnv(t)
	s := e.start(t, e.config())
	now := time.Now().UTC()
	for i := range 25 {
		for _, node := range []string{"n1", "n2"} {
			id := fmt.Sprintf("%s-%d", node, i)
			e.publish(t, transport.Subject("vigil", transport.KindAlert, node),
				envelope(node, id, transport.KindAlert, sampleAlert(fmt.Sprint("r", i%3), now.Add(time.Duration(i)*time.Second))), id)
		}
	}
	waitFor(t, 20*time.Second, func() bool { return count(t, s.Store())["n2"] == 25 }, "stored")
	base := "http://" + s.APIAddr() + "/api/v1/alerts?node=n2&limit=10"
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		var page store.AlertPage
		getJSON(t, base+"&cursor="+cursor, &page)
		for _, a := range page.Alerts {
			if a.Node != "n2" {
				t.Fatalf("node %s in a node=n2 page", a.Node)
			}
			ids = append(ids, a.MsgID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(ids) != 25 || ids[0] != "n2-24" || ids[24] != "n2-0" {
		t.Fatalf("paged %d alerts: %v", len(ids), ids)
	}
	resp, _ := http.Get("http://" + s.APIAddr() + "/api/v1/alerts?cursor=bogus")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", resp.StatusCode)
	}
	resp.Body.Close()
	c := e.config()
	c.API.Addr = "0.0.0.0:8080"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "token_file, cert_file and key_file are required") {
		t.Errorf("a public address without token and TLS: %v", err)
	}
	// With a token, requests without it are refused.
	tok := t.TempDir() + "/token"
	if err := os.WriteFile(tok, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = e.config()
	c.API.TokenFile = tok
	s2 := e.start(t, c)
	for auth, want := range map[string]int{"": 401, "Bearer nope": 401, "Bearer s3cret": 200} {
		req, _ := http.NewRequest("GET", "http://"+s2.APIAddr()+"/api/v1/agents", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: %d, want %d", auth, resp.StatusCode, want)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestAgentStates: heartbeats make agents up; a new agent id is a
// restart; silence past two intervals, and a drop ratio over the
// threshold, raise internal alerts, each once with two replicas.
func TestAgentStates(t *testing.T) {
	e := newEnv(t)
	s1 := e.start(t, e.config())
	s2 := e.start(t, e.config())
	hb := func(node, agent string, seq uint64, started time.Time, events, drops uint64) {
		raw, _ := json.Marshal(transport.Heartbeat{Started: started, BootID: "boot", IntervalMS: 300, Seq: seq,
			Counters: map[string]uint64{transport.CounterKernelEvents: events, transport.CounterKernelDrops: drops}})
		b, _ := json.Marshal(transport.Envelope{V: 1, ID: fmt.Sprint(agent, "-", seq), Node: node, Kind: transport.KindHeartbeat,
			Agent: agent, Time: time.Now(), Payload: raw})
		e.publish(t, transport.Subject("vigil", transport.KindHeartbeat, node), b, "")
	}
	// Both replicas must have been connected for two intervals first.
	time.Sleep(700 * time.Millisecond)
	t0 := time.Now().Add(-time.Minute)
	for i := uint64(1); i <= 4; i++ {
		hb("n1", "a1", i, t0, i*1000, 0)
		hb("n2", "b1", i, t0, i*1000, 0)
		time.Sleep(150 * time.Millisecond)
	}
	stored := func() map[string]int {
		page, err := s1.Store().Alerts(context.Background(), store.AlertFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		rules := map[string]int{}
		for _, a := range page.Alerts {
			var al alert.Alert
			if err := json.Unmarshal(a.Alert, &al); err != nil {
				t.Fatal(err)
			}
			if al.Source != "internal" {
				t.Errorf("source %q", al.Source)
			}
			rules[a.Node+" "+al.Rule]++
		}
		return rules
	}
	hb("n2", "b1", 5, t0, 5000, 500) // 500 of 1500 lost since the last: over 1%
	// The replicas share the heartbeats, so one may take the next before
	// the other has stored this one: the new process's heartbeat would
	// then make this one a late heartbeat of an old process.
	waitFor(t, 10*time.Second, func() bool { return stored()["n2 "+RuleKernelDrops] > 0 }, "a kernel-drops alert for n2")
	hb("n2", "b2", 1, time.Now(), 0, 0) // a new process on n2
	hb("n2", "b1", 6, t0, 6000, 500)    // late, from the old process: ignored
	// n1 goes silent; n2 keeps beating.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for seq := uint64(2); time.Now().Before(deadline); seq++ {
		hb("n2", "b2", seq, time.Now().Add(-time.Second), 0, 0)
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(t, 10*time.Second, func() bool { return stored()["n1 "+RuleAgentSilent] > 0 }, "a silent alert for n1")
	time.Sleep(500 * time.Millisecond)
	rules := stored()
	want := map[string]int{"n1 " + RuleAgentSilent: 1, "n2 " + RuleAgentRestarted: 1, "n2 " + RuleKernelDrops: 1}
	for k, n := range want {
		if rules[k] != n {
			t.Errorf("%s: %d alerts, want %d (all: %v)", k, rules[k], n, rules)
		}
	}
	if len(rules) != len(want) {
		t.Errorf("alerts %v, want %v", rules, want)
	}
	agents, _ := s2.Store().Agents(context.Background())
	states := map[string]string{}
	for _, a := range agents {
		states[a.Node] = a.State + "/" + a.Agent
	}
	if states["n1"] != "silent/a1" || states["n2"] != "up/b2" {
		t.Errorf("states %v", states)
	}
	t.Logf("internal alerts: %v; states %v; replica 1 %+v, replica 2 %+v", rules, states, s1.Stats(), s2.Stats())
}
