// Package fields is the field registry rules are compiled against: it
// resolves Falco field names (evt.type, proc.aname[2], fd.sip, ...) to
// typed getters over a per-event Context. [New] returns the [Registry];
// its [Registry.Lookup] is the [compile.FieldResolver] the rule compiler
// uses, and its [Registry.Fields] lists every field for documentation.
//
// A [Context] is built once per event on the event path, so it is designed
// to cost nothing: it is reused (one per pipeline shard), [Context.Reset]
// only overwrites a few words and looks the process up in the table once,
// and everything more expensive is derived on first use and cached for the
// rest of the event. Derived strings (proc.cmdline, fd.name for a socket,
// rendered flags, ...) are built in an arena the Context owns and reuses,
// so once it has grown to the size events need, evaluating rules allocates
// nothing.
//
// Fields this agent cannot know yet (container.*, k8s.*) are registered
// with the values Falco gives a host process, so rule files that use them
// load and behave as they do for host processes under Falco.
package fields
