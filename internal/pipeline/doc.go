// Package pipeline runs Vigil's sharded event pipeline: decoded events are
// spread over one worker per shard, each of which updates the process table
// ([proc.Table]) and hands the event to the [Handler] (the rule evaluator,
// in the agent).
//
// Events are sharded by the process they are about, so everything that
// happens to one process (its fork, its execs, its files, its exit) is
// handled by one worker, in the order it was submitted, while unrelated
// processes are handled in parallel. A fork is the one event that links
// two shards: it is handled on the child's, but only once the parent's
// shard has caught up with it, so a child is always built from its parent
// as it was at the fork.
//
// Queues are bounded. When a burst fills a shard's queue, [Pipeline.Submit]
// waits for room up to [Config.FullWait] (50 ms in the agent), so the burst
// stays in the kernel ring buffer, which is far larger and never waits.
// A worker that takes nothing for that long is marked stalled: its events
// are then dropped at once, counted per shard and kind, until it moves
// again, so one stuck worker costs one wait and cannot hold up the reader.
package pipeline
