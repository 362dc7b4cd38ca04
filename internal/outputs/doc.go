// Package outputs delivers alerts to the places people read them: stdout,
// files, syslog, a program's stdin, HTTP webhooks, NATS and Kafka.
//
// Every output is a [Sink] behind its own bounded queue and writer
// goroutine ([Queue]), so a slow or dead destination fills only its own
// queue and counts what it drops; the [Dispatcher] hands each
// [alert.Alert] to every queue without ever blocking the detection path.
// A [Limiter] in front of the Dispatcher bounds alert floods per rule and
// reports what it suppressed in periodic summary alerts, so nothing
// disappears without a trace.
//
// A [Manager] owns that path in `vigil run`: [Manager.Emit] is the
// detector's emit function, and a reload replaces the outputs and the
// rate limit while alerts flow ([Manager.Prepare], then [Pending.Commit]
// or [Pending.Discard]), the counters carrying over by output name.
package outputs
