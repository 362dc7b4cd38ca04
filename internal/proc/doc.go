// Package proc keeps Vigil's process table: one entry per live process
// (thread group), built from /proc when the agent starts and kept current by
// the fork, exec and exit events that follow.
//
// The table is sharded by pid. Writers take a per-shard mutex, and since
// pipeline workers each own a disjoint set of pids they rarely meet on one.
// Readers take no lock at all: each shard is an open-addressing table whose
// slots are guarded by sequence counters, so Get and Ancestors cost a few
// loads and never allocate.
//
// Lookups hand out a Process by value; the strings and credentials it
// refers to live in an Image that is never modified once published, so a
// caller may keep a Process as long as it likes and it will not change
// underneath. A fork shares the parent's Image, which makes it free of
// allocations; an exec publishes a new one.
//
// An exit removes the process from the live table at once, so the table's
// size follows the number of live processes. A small fixed ring of recently
// exited processes backs up ancestry and forks for events that are handled
// after a parent's exit (see Exited).
//
// Each entry also holds the process's fd table (Files): immutable versions
// of a persistent trie, published with an atomic pointer, so that readers
// take no lock, a fork shares its parent's fds in O(1), and a fork handled
// late still inherits the fds of its time (see files.go). The table is
// seeded from /proc and kept by the fd-changing calls in FDSyscalls.
package proc
