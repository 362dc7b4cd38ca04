// Package baseline learns each workload's normal behaviour, watches for
// departures from it and decides what protect mode denies.
//
// A baseline belongs to a workload (package workload names them) and has
// dimensions: executables with their content identity, parent -> child
// executables, files written, sensitive files read, listening ports,
// outbound and inbound peers, syscalls, capabilities and user ids. Every
// dimension is bounded: past its cap it generalises (paths into '*' and
// "**" patterns, addresses into networks, ports into ranges), so a
// profile converges instead of growing (see PathSet.With and
// docs/baselines.md).
//
// A workload is in one of three modes. In learn, new facts are queued and
// folded into the baseline by Engine.Flush; the workload moves to monitor
// by itself once nothing new has come for a while. In monitor, a new fact
// raises a drift alert in the shape of a rule alert. In protect, the
// pre-operation mechanisms ask AllowExec and AllowConnect, which deny
// what the baseline does not hold.
//
// The event path (Observer.Handle, Engine.Observe) reads an immutable
// view of each baseline through one atomic load: what the baseline holds
// costs no lock and no allocation. Learning builds new views off the
// event path, and the store (package store) receives the changes in
// batches. Export and import (Document) give the baseline as JSON, Falco
// rules and a seccomp profile.
package baseline
