// Package detect runs compiled Falco-style rules on the agent's events and
// turns matches into alerts.
//
// Load reads rule files (or the embedded defaults) and compiles them
// against the field registry; Syscalls derives the kernel syscall filter
// the loaded rules need. A Detector's Handle is the agent's event handler:
// per event it builds a fields.Context, finds the rules indexed under the
// event's type and evaluates them. Each match becomes an [alert.Alert],
// handed to the emit function the Detector was configured with: in `vigil
// run`, the dispatcher of internal/outputs, whose bounded per-output queues
// keep slow outputs from ever blocking the event path (alerts that do not
// fit are dropped and counted).
package detect
