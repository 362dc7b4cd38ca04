package criapi

import (
	"context"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vigilsec/vigil/internal/container"
)

// eventActions maps CRI's event types to the resolver's actions.
var eventActions = map[runtimeapi.ContainerEventType]container.Action{
	runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT: container.ActionCreate,
	runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT: container.ActionStart,
	runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT: container.ActionDie,
	runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT: container.ActionDestroy,
}

// probeWindow is how long Watch waits for a runtime to refuse
// GetContainerEvents before taking the stream as open: a runtime that
// implements it sends nothing until a container changes.
const probeWindow = 500 * time.Millisecond

type received struct {
	ev  *runtimeapi.ContainerEventResponse
	err error
}

// Watch implements container.Source. It streams GetContainerEvents; a
// runtime that does not implement it (Unimplemented) is polled every
// PollInterval instead, for as long as ctx lasts.
func (c *Client) Watch(ctx context.Context, fn func(container.RuntimeEvent)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rs.GetContainerEvents(ctx, &runtimeapi.GetEventsRequest{})
	if err != nil {
		return fmt.Errorf("cri GetContainerEvents: %w", err)
	}
	// A bounded hand-off: when fn is slow the reader waits, and gRPC's
	// flow control holds the runtime back; nothing is dropped.
	in := make(chan received, 64)
	go func() {
		for {
			ev, err := stream.Recv()
			select {
			case in <- received{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var pending *received
	select {
	case r := <-in:
		if status.Code(r.err) == codes.Unimplemented {
			return c.poll(ctx, fn)
		}
		pending = &r
	case <-time.After(probeWindow):
	case <-ctx.Done():
		return ctx.Err()
	}
	fn(container.RuntimeEvent{Action: container.ActionConnected})
	for {
		var r received
		if pending != nil {
			r, pending = *pending, nil
		} else {
			select {
			case r = <-in:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if r.err == io.EOF {
			return fmt.Errorf("cri GetContainerEvents: %w", io.ErrUnexpectedEOF)
		}
		if r.err != nil {
			return fmt.Errorf("cri GetContainerEvents: %w", r.err)
		}
		if a, ok := eventActions[r.ev.GetContainerEventType()]; ok && r.ev.GetContainerId() != "" {
			fn(container.RuntimeEvent{ID: r.ev.GetContainerId(), Action: a})
		}
	}
}

// poll follows lifecycle changes by listing every container (any state)
// and comparing with the previous list: a new container is created or
// started, one that left the running state died, one that vanished was
// removed.
func (c *Client) poll(ctx context.Context, fn func(container.RuntimeEvent)) error {
	prev, err := c.states(ctx)
	if err != nil {
		return err
	}
	fn(container.RuntimeEvent{Action: container.ActionConnected})
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		cur, err := c.states(ctx)
		if err != nil {
			return err
		}
		for _, ev := range diffStates(prev, cur) {
			fn(ev)
		}
		prev = cur
	}
}

// states lists every container's state.
func (c *Client) states(ctx context.Context) (map[string]runtimeapi.ContainerState, error) {
	resp, err := c.rs.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return nil, fmt.Errorf("cri ListContainers: %w", err)
	}
	m := make(map[string]runtimeapi.ContainerState, len(resp.GetContainers()))
	for _, ct := range resp.GetContainers() {
		m[ct.GetId()] = ct.GetState()
	}
	return m, nil
}

// diffStates turns two lists into the events between them.
func diffStates(prev, cur map[string]runtimeapi.ContainerState) []container.RuntimeEvent {
	var out []container.RuntimeEvent
	for id, st := range cur {
		was, known := prev[id]
		switch {
		case !known && st == runtimeapi.ContainerState_CONTAINER_CREATED:
			out = append(out, container.RuntimeEvent{ID: id, Action: container.ActionCreate})
		case (!known || was == runtimeapi.ContainerState_CONTAINER_CREATED) && st == runtimeapi.ContainerState_CONTAINER_RUNNING:
			out = append(out, container.RuntimeEvent{ID: id, Action: container.ActionStart})
		case known && was == runtimeapi.ContainerState_CONTAINER_RUNNING && st == runtimeapi.ContainerState_CONTAINER_EXITED:
			out = append(out, container.RuntimeEvent{ID: id, Action: container.ActionDie})
		}
	}
	for id := range prev {
		if _, ok := cur[id]; !ok {
			out = append(out, container.RuntimeEvent{ID: id, Action: container.ActionDestroy})
		}
	}
	return out
}
