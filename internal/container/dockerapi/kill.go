package dockerapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
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
		// Drained so the connection is reused; the kill is done already.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	return apiError(resp)
}
