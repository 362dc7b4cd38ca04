// Package fanguard answers fanotify permission events so that Vigil can stop
// an exec or an open before it happens.
//
// A Guard holds one FAN_CLASS_CONTENT group. Mount marks with
// FAN_OPEN_EXEC_PERM cover every exec from a file system (the host root, a
// container's root through /proc/<pid>/root); inode marks with FAN_OPEN_PERM
// cover chosen files and directories. The reader goroutine answers what it
// can on the spot (our own process, cached verdicts) and hands the rest to a
// bounded pool of workers that call the Decider under a deadline. Every event
// is answered exactly once and its fd closed; anything that goes wrong
// answers by the failure policy (allow unless FailClosed) and is counted.
//
// # The process running a Guard must not exec watched files itself
//
// os/exec starts children with vfork: the forking thread keeps its P
// (scheduler slot) until the child's execve returns, and that execve waits
// for this very process to answer. If a stop-the-world (any GC) begins in
// that window it waits for the forking thread, while the goroutines that
// would answer wait for the world: the process and every watched exec on
// the machine hang for good. GOMAXPROCS such execs at once do the same
// without a GC. So a process running a Guard should start programs that
// live on a watched mount through something that is not itself: a spawner
// process started before the marks, or a path on an unwatched mount (a
// bind mount is a mount of its own), or it should run the Guard in a
// dedicated process. Closing the Guard answers everything it holds; it
// does not count on the kernel allowing the rest when the group closes,
// because a child forked by this process and blocked in its exec still
// holds the group's fd.
package fanguard
