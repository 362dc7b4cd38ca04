// Package engine runs Vigil's event pipeline: decoded events are spread
// over one worker per shard, each of which updates the process table and
// hands the event to the rule engine.
//
// Events are sharded by the process they are about, so everything that
// happens to one process (its fork, its execs, its files, its exit) is
// handled by one worker, in the order it was submitted, while unrelated
// processes are handled in parallel. A fork is the one event that links
// two shards: it is handled on the child's, but only once the parent's
// shard has caught up with it, so a child is always built from its parent
// as it was at the fork.
//
// Submit never blocks: a kernel ring buffer that is not drained loses
// events anyway, and losing them here, counted per shard and kind, keeps
// the reader going and the loss visible.
package engine
