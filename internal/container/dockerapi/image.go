package dockerapi

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// SaveImage streams an image as a docker save archive (GET
// /images/{name}/get). name is a reference or an id; its slashes stay
// path separators, as the engine's route expects. The caller closes the
// stream and bounds what it reads: an image can be many gigabytes.
func (c *Client) SaveImage(ctx context.Context, name string) (io.ReadCloser, error) {
	if name == "" || strings.Contains(name, "..") {
		return nil, fmt.Errorf("invalid image reference %q", name)
	}
	resp, err := c.do(ctx, "/images/"+name+"/get", nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
