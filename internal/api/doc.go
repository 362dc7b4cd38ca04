// Package api is the agent's versioned JSON HTTP API (/api/v1/...) and
// the server of the web console: the connection map, recent alerts and
// their live stream, workloads with their baselines, vulnerabilities and
// the enforcement state, read from the running agent through small
// source interfaces (Sources).
//
// The server listens on loopback by default. Any other address requires
// bearer tokens (read-only and admin roles) and TLS; tokens and a
// self-signed certificate are generated into the data directory on first
// start when none are configured. Every parameter is validated and every
// error is JSON ({"error": "...", "field": "..."}); a state change is
// logged and raises an audit alert. docs/api.md documents the endpoints.
package api
