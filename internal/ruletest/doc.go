// Package ruletest runs rule unit tests: YAML fixtures that describe a
// synthetic event (its process, ancestors, file or socket) and the rules
// that must or must not fire on it, with the exact output they must render.
// `vigil rules test` is its command line; the format is documented in
// docs/rules.md.
//
// A fixture event is built into a process table of its own the way the
// agent builds one (exec events applied in order) and evaluated by a
// [detect.Detector], so a fixture passes only if the agent, given that
// event, would raise the same alerts.
package ruletest
