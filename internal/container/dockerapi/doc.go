// Package dockerapi is a small typed client for the few Docker Engine API
// endpoints Vigil needs (/containers/json, /containers/{id}/json,
// /images/{id}/json, /events), spoken over the engine's unix socket. Podman
// serves the same API on its own socket, so one client covers both.
//
// It is written against net/http rather than the official client
// (github.com/docker/docker/client), which resolves and builds here but
// pulls about sixty modules, OpenTelemetry instrumentation among them,
// into a static security agent that needs four read-only endpoints. Paths
// are unversioned, so the daemon answers in its own API version: the
// fields read here have been stable since API 1.24, and pinning a version
// would break on engines that dropped it (Docker 29 refuses below 1.44).
//
// Client implements container.Source.
package dockerapi
