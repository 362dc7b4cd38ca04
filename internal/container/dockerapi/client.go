package dockerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"

	"github.com/vigilsec/vigil/internal/container"
)

// maxBody bounds how much of one answer is read, so that a confused or
// hostile peer on the socket cannot make the agent buffer without end.
const maxBody = 8 << 20

// maxImages bounds the cache of image details (digests) by image id.
const maxImages = 512

// Client talks to one engine socket.
type Client struct {
	socket string
	rt     container.Runtime
	http   *http.Client // requests; each carries its caller's deadline

	mu     sync.Mutex
	images map[string]imageInspect
}

// DefaultDockerSocket and DefaultPodmanSocket are where the engines listen
// when run as root.
const (
	DefaultDockerSocket = "/var/run/docker.sock"
	DefaultPodmanSocket = "/run/podman/podman.sock"
)

// New returns a client for the engine listening on socket. rt says which
// runtime it is (container.RuntimeDocker or container.RuntimePodman); it
// is what the containers it describes are reported as.
func New(socket string, rt container.Runtime) *Client {
	dialer := &net.Dialer{}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns:       4,
		DisableCompression: true,
	}
	return &Client{socket: socket, rt: rt, http: &http.Client{Transport: tr}, images: map[string]imageInspect{}}
}

// Runtime implements container.Source.
func (c *Client) Runtime() container.Runtime { return c.rt }

// Name implements container.Source.
func (c *Client) Name() string { return c.rt.String() + " at " + c.socket }

// Ping checks that the engine answers.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.do(ctx, "/_ping", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// APIError is a non-2xx answer.
type APIError struct {
	Status  int
	Message string
}

// Error implements error.
func (e *APIError) Error() string { return fmt.Sprintf("engine API: %d %s", e.Status, e.Message) }

// do sends a GET and returns the response of a 2xx answer. Other answers
// become *APIError, 404 also container.ErrNotFound.
func (c *Client) do(ctx context.Context, path string, query url.Values) (*http.Response, error) {
	u := url.URL{Scheme: "http", Host: "engine", Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, apiError(resp)
}

// apiError turns a non-2xx answer into *APIError, 404 also
// container.ErrNotFound. Its message is read best effort: a body that is
// not the engine's JSON leaves it empty, and the status still says what
// failed.
func apiError(resp *http.Response) error {
	var msg struct{ Message string }
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&msg)
	apiErr := &APIError{Status: resp.StatusCode, Message: msg.Message}
	if resp.StatusCode == http.StatusNotFound {
		return errors.Join(container.ErrNotFound, apiErr)
	}
	return apiErr
}

// getJSON decodes the answer to a GET into v.
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, v any) error {
	resp, err := c.do(ctx, path, query)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// List implements container.Source: the ids of running containers.
func (c *Client) List(ctx context.Context) ([]string, error) {
	var list []struct {
		ID string `json:"Id"`
	}
	if err := c.getJSON(ctx, "/containers/json", nil, &list); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list))
	for _, e := range list {
		ids = append(ids, e.ID)
	}
	return ids, nil
}

// Inspect implements container.Source.
func (c *Client) Inspect(ctx context.Context, id string) (*container.Info, error) {
	raw, err := c.InspectRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	var in containerInspect
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("decode inspect of %s: %w", id, err)
	}
	var img *imageInspect
	if in.Image != "" {
		img = c.image(ctx, in.Image)
	}
	return in.info(img), nil
}

// InspectRaw returns the engine's JSON for one container, unparsed.
func (c *Client) InspectRaw(ctx context.Context, id string) ([]byte, error) {
	resp, err := c.do(ctx, "/containers/"+url.PathEscape(id)+"/json", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}

// image returns an image's tags and digests, cached by id. Failure is not
// an error for the caller: the container is described without a digest.
func (c *Client) image(ctx context.Context, id string) *imageInspect {
	c.mu.Lock()
	img, ok := c.images[id]
	c.mu.Unlock()
	if ok {
		return &img
	}
	if err := c.getJSON(ctx, "/images/"+url.PathEscape(id)+"/json", nil, &img); err != nil {
		return nil
	}
	c.mu.Lock()
	if len(c.images) >= maxImages {
		clear(c.images) // images change rarely; refilling is cheap
	}
	c.images[id] = img
	c.mu.Unlock()
	return &img
}

// Detect returns a client for each engine whose socket exists at its
// default path (Docker's, then podman's), so that a host without podman
// does not log a failing podman stream forever.
func Detect() []container.Source {
	var out []container.Source
	for _, e := range []struct {
		sock string
		rt   container.Runtime
	}{{DefaultDockerSocket, container.RuntimeDocker}, {DefaultPodmanSocket, container.RuntimePodman}} {
		if st, err := os.Stat(e.sock); err == nil && st.Mode()&os.ModeSocket != 0 {
			out = append(out, New(e.sock, e.rt))
		}
	}
	return out
}
