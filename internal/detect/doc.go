// Package detect runs compiled Falco-style rules on the agent's events and
// turns matches into alerts.
//
// [Load] reads rule files (or the embedded defaults), compiles them against
// the field registry and returns a [RuleSet] with the kernel syscall
// filter the loaded rules need ([Syscalls]); it is the one loader, for
// `vigil run`, its reloads and the rules commands. [Detector.Handle] is
// the agent's event handler: per event it builds a [fields.Context],
// finds the rules indexed under the event's type and evaluates them. Each
// match becomes an [alert.Alert], handed to the emit function of [Config]:
// in `vigil run`, the Emit of package outputs' Manager, whose bounded
// per-output queues keep slow outputs from ever blocking the event path
// (alerts that do not fit are dropped and counted). The match of a rule
// with an action goes to the [Reactor] (package enforce) before it is
// emitted. A reload swaps the compiled rules in with
// [Detector.SetProgram] while events flow.
package detect
