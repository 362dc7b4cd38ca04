package dockerapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/vigilsec/vigil/internal/container"
)

// Kill sends signal (such as "KILL") to a container's main process, which
// stops the container. Enforcement uses it for kill-container actions.
func (c *Client) Kill(ctx context.Context, id, signal string) error {
	u := url.URL{Scheme: "http", Host: "engine", Path: "/containers/" + url.PathEscape(id) + "/kill",
		RawQuery: url.Values{"signal": {signal}}.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	var msg struct{ Message string }
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&msg)
	apiErr := &APIError{Status: resp.StatusCode, Message: msg.Message}
	if resp.StatusCode == http.StatusNotFound {
		return errors.Join(container.ErrNotFound, apiErr)
	}
	return apiErr
}
