package dockerapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/url"

	"github.com/vigilsec/vigil/internal/container"
)

// maxEvent bounds one event's JSON; real ones are well under a kilobyte
// plus the container's labels.
const maxEvent = 1 << 20

// eventFilter asks for container events only.
var eventFilter = url.Values{"filters": {`{"type":["container"]}`}}

// actions maps the engines' action names to the ones the resolver uses.
// Podman's compatible API sends "died" and "remove" where Docker sends
// "die" and "destroy"; "init" is podman's create-to-start step.
var actions = map[string]container.Action{
	"create":  container.ActionCreate,
	"init":    container.ActionCreate,
	"start":   container.ActionStart,
	"restart": container.ActionStart,
	"rename":  container.ActionUpdate,
	"update":  container.ActionUpdate,
	"die":     container.ActionDie,
	"died":    container.ActionDie,
	"destroy": container.ActionDestroy,
	"remove":  container.ActionDestroy,
}

// Watch implements container.Source: it streams /events until ctx ends or
// the connection breaks.
func (c *Client) Watch(ctx context.Context, fn func(container.RuntimeEvent)) error {
	resp, err := c.do(ctx, "/events", eventFilter)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fn(container.RuntimeEvent{Action: container.ActionConnected})
	return readEvents(resp.Body, fn)
}

// readEvents passes on the container events of an engine's /events
// stream, in order, until the stream ends or fails.
func readEvents(r io.Reader, fn func(container.RuntimeEvent)) error {
	// Engines write one JSON object per line. Reading by line bounds what
	// one event can make the agent buffer.
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEvent)
	for sc.Scan() {
		var m struct {
			Type   string
			Action string
			Status string // the pre-1.22 name of Action, which podman still fills
			Actor  struct{ ID string }
			ID     string `json:"id"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil || (m.Type != "" && m.Type != "container") {
			continue
		}
		action := m.Action
		if action == "" {
			action = m.Status
		}
		a, ok := actions[action]
		id := m.Actor.ID
		if id == "" {
			id = m.ID
		}
		if ok && id != "" {
			fn(container.RuntimeEvent{ID: id, Action: a})
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF // the engine never ends the stream on its own
}
