// Package enforce carries out the actions of rules that have one (block,
// kill, kill-container): the part of Vigil that acts rather than reports.
//
// [Plan] gives each such rule, once per rule set, a mechanism that acts
// before the operation where the kernel allows it (a fanotify permission
// decision from package fanguard, a connect refused by package sockguard's
// cgroup programs, an exec killed in the kernel by package execguard) and
// one that acts after the detector matched the event (a kill through a
// pidfd, or the container stopped through its runtime). An [Enforcer]
// runs those mechanisms: it is the detector's [detect.Reactor], pairs
// each match with what a kernel mechanism already did to the same
// operation so that each operation yields one [alert.Alert], and learns
// container cgroups from the cgroup tree and from events.
//
// A [Manager] owns the running Enforcer and replaces it when a reload
// brings new rules ([Manager.Prepare], then [Pending.Commit] or
// [Pending.Discard]); it also exports the counters
// ([Manager.Collector]) and the live [Status] behind `vigil enforce
// status`. See docs/enforcement.md.
package enforce
