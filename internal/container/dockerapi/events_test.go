package dockerapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/container"
)

// TestWatchParsesEngines serves a stream mixing Docker's and podman's event
// shapes with lines that must be skipped.
func TestWatchParsesEngines(t *testing.T) {
	stream := strings.Join([]string{
		`{"Type":"container","Action":"create","Actor":{"ID":"a1","Attributes":{"name":"x"}}}`,
		`{"status":"start","id":"a1","Type":"container","Action":"start","Actor":{"ID":"a1"}}`,
		`{"Type":"container","Action":"exec_start: sh","Actor":{"ID":"a1"}}`,
		`{"Type":"image","Action":"pull","Actor":{"ID":"busybox"}}`,
		`not json`,
		`{"status":"died","id":"b2","Type":"container"}`,
		`{"Type":"container","Action":"remove","Actor":{"ID":"b2"}}`,
		`{"Type":"container","Action":"destroy","Actor":{"ID":"a1","Attributes":{"big":"` + strings.Repeat("x", 2*maxEvent) + `"}}}`,
	}, "\n") + "\n"
	sock := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/events" || r.URL.Query().Get("filters") == "" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Write([]byte(stream))
	}))
	var got []container.RuntimeEvent
	err := New(sock, container.RuntimeDocker).Watch(context.Background(), func(ev container.RuntimeEvent) {
		got = append(got, ev)
	})
	want := []container.RuntimeEvent{
		{Action: container.ActionConnected},
		{ID: "a1", Action: container.ActionCreate},
		{ID: "a1", Action: container.ActionStart},
		{ID: "b2", Action: container.ActionDie},
		{ID: "b2", Action: container.ActionDestroy},
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %+v, want %+v", got, want)
	}
	if err == nil {
		t.Error("a stream with an oversized event ended without error")
	}
}
