package containerdapi

import (
	"context"
	"fmt"
	"io"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"

	"github.com/vigilsec/vigil/internal/container"
)

// topics are the events Watch asks containerd for. A task's create gives
// its pid (runc has not run the entrypoint yet), start follows; exit of the
// task's own process and deletion end it.
var topics = []string{
	`topic=="/containers/create"`,
	`topic=="/containers/update"`,
	`topic=="/containers/delete"`,
	`topic=="/tasks/create"`,
	`topic=="/tasks/start"`,
	`topic=="/tasks/exit"`,
	`topic=="/tasks/delete"`,
}

// Watch implements container.Source: it follows containerd's event service
// until ctx ends or the stream breaks.
func (c *Client) Watch(ctx context.Context, fn func(container.RuntimeEvent)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	envs, errs := c.cli.Subscribe(ctx, topics...)
	// A failure to open the stream is reported at once; after that the
	// subscription is live.
	select {
	case err := <-errs:
		return fmt.Errorf("containerd events: %w", err)
	default:
	}
	fn(container.RuntimeEvent{Action: container.ActionConnected})
	for {
		select {
		case env := <-envs:
			if env == nil || !c.wanted(env.Namespace) {
				continue
			}
			id, action, ok := translate(env.Event)
			if !ok {
				continue
			}
			switch action {
			case container.ActionDestroy:
				c.forget(id)
			case container.ActionCreate:
				c.remember(id, env.Namespace)
			}
			fn(container.RuntimeEvent{ID: id, Action: action})
		case err := <-errs:
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("containerd events: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// translate maps one containerd event to the resolver's terms. Events it
// cannot decode, and exits of exec'd processes, are not reported.
func translate(ev typeurl.Any) (string, container.Action, bool) {
	if ev == nil {
		return "", 0, false
	}
	v, err := typeurl.UnmarshalAny(ev)
	if err != nil {
		return "", 0, false
	}
	switch e := v.(type) {
	case *apievents.ContainerCreate:
		return e.GetID(), container.ActionCreate, e.GetID() != ""
	case *apievents.ContainerUpdate:
		return e.GetID(), container.ActionUpdate, e.GetID() != ""
	case *apievents.ContainerDelete:
		return e.GetID(), container.ActionDestroy, e.GetID() != ""
	case *apievents.TaskCreate:
		return e.GetContainerID(), container.ActionCreate, e.GetContainerID() != ""
	case *apievents.TaskStart:
		return e.GetContainerID(), container.ActionStart, e.GetContainerID() != ""
	case *apievents.TaskExit:
		// Exec'd processes exit too; only the task's own (whose id is the
		// container's, or empty on old daemons) ends the container.
		own := e.GetID() == "" || e.GetID() == e.GetContainerID()
		return e.GetContainerID(), container.ActionDie, own && e.GetContainerID() != ""
	case *apievents.TaskDelete:
		own := e.GetID() == "" || e.GetID() == e.GetContainerID()
		return e.GetContainerID(), container.ActionDie, own && e.GetContainerID() != ""
	}
	return "", 0, false
}
