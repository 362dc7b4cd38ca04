// Package vulnrank ranks vulnerability findings by what actually runs.
//
// A finding from internal/vulndb says that an installed package is
// vulnerable. Whether that matters now depends on runtime facts: is a file
// of the package executed or memory-mapped by a running process, does that
// process listen on a non-loopback address, does it run as root or in a
// privileged container, and is a fix available. Rank combines the
// finding's severity with these facts into a score, and records every
// factor as a human-readable reason (docs/scan.md has the formula).
//
// Runtime facts come through the Source interface. CollectProc gathers
// them from /proc at scan time, so that `vigil scan` works without a
// running agent; the agent can feed the same Facts from its own view.
package vulnrank
