package dockerapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
)

// FuzzInspect decodes container and image inspections as Inspect does.
// Whatever the engine sends, the container's pid is the one it reported
// for a running container or none, and its start time is the instant it
// reported or none.
func FuzzInspect(f *testing.F) {
	f.Fuzz(func(t *testing.T, inspect, image []byte) {
		var in containerInspect
		if json.Unmarshal(inspect, &in) != nil {
			return
		}
		var img *imageInspect
		if len(image) > 0 {
			img = new(imageInspect)
			if json.Unmarshal(image, img) != nil {
				img = nil
			}
		}
		info := in.info(img)
		if info.PID != 0 && (!in.State.Running || int64(info.PID) != int64(in.State.Pid)) {
			t.Errorf("pid %d from State %+v", info.PID, in.State)
		}
		if info.StartTS < 0 {
			t.Errorf("start %d before the epoch", info.StartTS)
		}
		if info.StartTS != 0 {
			ok := false
			for _, s := range []string{in.State.StartedAt, in.Created} {
				if ts, err := time.Parse(time.RFC3339Nano, s); err == nil && ts.Equal(time.Unix(0, info.StartTS)) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("start %d (%s) is neither StartedAt %q nor Created %q", info.StartTS, time.Unix(0, info.StartTS).UTC(), in.State.StartedAt, in.Created)
			}
		}
		if len(info.Mounts) != len(in.Mounts) {
			t.Errorf("%d mounts from %d", len(info.Mounts), len(in.Mounts))
		}
	})
}

// FuzzEventStream reads an /events stream as Watch does: only container
// lifecycle events with an id come out, never more than the stream has
// lines.
func FuzzEventStream(f *testing.F) {
	known := map[container.Action]bool{}
	for _, a := range actions {
		known[a] = true
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		var got []container.RuntimeEvent
		err := readEvents(bytes.NewReader(stream), func(ev container.RuntimeEvent) { got = append(got, ev) })
		if err == nil {
			t.Error("the stream ended without an error")
		}
		if lines := bytes.Count(stream, []byte("\n")) + 1; len(got) > lines {
			t.Errorf("%d events from %d lines", len(got), lines)
		}
		for _, ev := range got {
			if ev.ID == "" || strings.ContainsRune(ev.ID, '\n') || !known[ev.Action] {
				t.Errorf("event %+v", ev)
			}
		}
	})
}
