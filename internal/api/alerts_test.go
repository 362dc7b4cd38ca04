package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
)

type alertPage struct {
	Alerts []struct {
		ID        uint64      `json:"id"`
		Alert     alert.Alert `json:"alert"`
		Workload  string      `json:"workload"`
		Namespace string      `json:"namespace"`
	} `json:"alerts"`
	NextCursor string `json:"next_cursor"`
}

// emitMany emits 120 alerts: rules A, B and C in turn, priorities
// Critical, Warning and Notice in turn, every tenth about a workload in
// another namespace.
func emitMany(n *node) {
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range 120 {
		a := apitest.Alert(fmt.Sprintf("Rule %c", 'A'+i%3), []string{"Critical", "Warning", "Notice"}[i%3],
			fmt.Sprintf("event number %d", i))
		a.Time = base.Add(time.Duration(i) * time.Second)
		if i%10 == 0 {
			a.OutputFields["baseline.workload"] = "k8s/ops/deployment/backup/main"
			a.Context.Identity.Namespace = "ops"
		}
		n.srv.Emit(a)
	}
}

func TestAlertFiltersAndPages(t *testing.T) {
	n := newNode(t, nil)
	emitMany(n)
	count := func(query string) int {
		var p alertPage
		n.get("/api/v1/alerts?limit=500&"+query, &p)
		return len(p.Alerts)
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"", 120},
		{"priority=critical", 40},
		{"priority=Critical,Notice", 80},
		{"min_priority=Warning", 80},
		{"rule=Rule+B", 40},
		{"rule=Rule+A&rule=Rule+C", 80},
		{"namespace=ops", 12},
		{"workload=" + esc("k8s/ops/deployment/backup/main"), 12},
		{"q=NUMBER+11", 11}, // 11, 110-119
		{"since=2026-05-01T10:01:00Z", 60},
		{"since=2026-05-01T10:00:10Z&until=2026-05-01T10:00:19Z", 10},
		{"priority=Critical&namespace=ops&q=event", 4},
	} {
		if got := count(c.query); got != c.want {
			t.Errorf("%s: %d alerts, want %d", c.query, got, c.want)
		}
	}
	// Pages: newest first, no alert twice, none lost.
	seen := map[uint64]bool{}
	cursor, last := "", uint64(1<<63)
	for pages := 0; ; pages++ {
		var p alertPage
		n.get("/api/v1/alerts?limit=25&priority=Warning,Notice&cursor="+cursor, &p)
		for _, a := range p.Alerts {
			if seen[a.ID] || a.ID >= last {
				t.Fatalf("alert %d out of order or repeated", a.ID)
			}
			seen[a.ID], last = true, a.ID
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 80 {
		t.Errorf("pages held %d alerts, want 80", len(seen))
	}
	var one struct {
		ID    uint64      `json:"id"`
		Alert alert.Alert `json:"alert"`
	}
	n.get("/api/v1/alerts/5", &one)
	if one.ID != 5 || one.Alert.Output != "event number 4" || len(one.Alert.Context.Process.Ancestors) != 2 {
		t.Errorf("alert 5: %+v", one)
	}
}

// TestAlertRingIsBounded: past alert_buffer the oldest go; ids go on.
func TestAlertRingIsBounded(t *testing.T) {
	n := newNode(t, func(c *api.Config) { c.AlertBuffer = 50 })
	emitMany(n)
	var p alertPage
	n.get("/api/v1/alerts?limit=500", &p)
	if len(p.Alerts) != 50 || p.Alerts[0].ID != 120 || p.Alerts[49].ID != 71 {
		t.Errorf("%d alerts, ids %d..%d", len(p.Alerts), p.Alerts[0].ID, p.Alerts[len(p.Alerts)-1].ID)
	}
	if st, body := n.do(http.MethodGet, "/api/v1/alerts/3", "", "", nil); st != http.StatusNotFound {
		t.Errorf("an evicted alert: %d %s", st, body)
	}
}

// TestBadAlertQueries: every parameter is checked, and the answer is a
// JSON error naming it.
func TestBadAlertQueries(t *testing.T) {
	n := newNode(t, nil)
	for _, c := range []struct{ query, field string }{
		{"priority=loud", "priority"},
		{"min_priority=x", "min_priority"},
		{"limit=0", "limit"},
		{"limit=501", "limit"},
		{"limit=ten", "limit"},
		{"limit=1&limit=2", "limit"},
		{"cursor=abc", "cursor"},
		{"cursor=0", "cursor"},
		{"since=yesterday", "since"},
		{"since=2026-05-02T00:00:00Z&until=2026-05-01T00:00:00Z", "until"},
		{"workload=nginx", "workload"},
		{"colour=red", "colour"},
		{"q=" + strings.Repeat("x", 600), "q"},
		{"q=%00", "q"},
		{"q=%zz", ""},
	} {
		st, body := n.do(http.MethodGet, "/api/v1/alerts?"+c.query, "", "", nil)
		if st != http.StatusBadRequest {
			t.Errorf("%s: status %d %s", c.query, st, body)
			continue
		}
		if e := apiError(t, body); e.Field != c.field {
			t.Errorf("%s: field %q, want %q (%s)", c.query, e.Field, c.field, e.Message)
		}
	}
}

// sseReader reads the alert events of a stream.
type sseReader struct {
	sc *bufio.Scanner
}

func (r *sseReader) next() (event, id, data string, err error) {
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if event != "" {
				return event, id, data, nil
			}
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		}
	}
	return "", "", "", fmt.Errorf("stream ended: %v", r.sc.Err())
}

func openStream(t *testing.T, n *node, query, lastID string) (*sseReader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.ts.URL+"/api/v1/alerts/stream?"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sseReader{bufio.NewScanner(resp.Body)}, func() { cancel(); resp.Body.Close() }
}

// TestAlertStream: a filtered stream gets matching alerts as they are
// emitted, and a reconnect with Last-Event-ID gets what it missed.
func TestAlertStream(t *testing.T) {
	n := newNode(t, nil)
	r, stop := openStream(t, n, "priority=Critical", "")
	n.srv.Emit(apitest.Alert("Quiet rule", "Notice", "not for this stream"))
	n.srv.Emit(apitest.Alert("Loud rule", "Critical", "for this stream"))
	done := make(chan string, 1)
	go func() {
		ev, id, data, err := r.next()
		if err != nil {
			done <- err.Error()
			return
		}
		var a struct {
			Alert alert.Alert `json:"alert"`
		}
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			done <- err.Error()
			return
		}
		done <- ev + " " + id + " " + a.Alert.Rule
	}()
	select {
	case got := <-done:
		if got != "alert 2 Loud rule" {
			t.Errorf("first event: %q", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no event within 2s")
	}
	stop()
	n.srv.Emit(apitest.Alert("Loud rule", "Critical", "while away"))
	r, stop = openStream(t, n, "priority=Critical", "2")
	defer stop()
	if ev, id, _, err := r.next(); err != nil || ev != "alert" || id != "3" {
		t.Errorf("replay: %q %q %v", ev, id, err)
	}
}
