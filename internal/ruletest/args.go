package ruletest

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/syscalls/flags"
)

// Event arguments (evt.arg.NAME) and the container of a fixture event.
// Arguments are read once the event type is known, because a name means
// different things in different calls: flags are O_* for an open and AT_*
// for unlinkat.

// openArgs are the arguments a fixture may give an open, openat, openat2
// or creat; execArgs those of an exec.
var (
	openArgs = map[string]bool{"name": true, "flags": true, "mode": true, "dirfd": true}
	execArgs = map[string]bool{"filename": true}
)

// readArgs checks the event's evt.arg settings against its type and reads
// those of opens and execs into the spec.
func (e *eventSpec) readArgs(h syscalls.Handler) error {
	var allowed map[string]bool
	switch {
	case h >= syscalls.Open && h <= syscalls.Creat:
		allowed = openArgs
	case h == syscalls.Execve || h == syscalls.ExecveAt:
		allowed = execArgs
	case h == syscalls.Generic:
		spec, _ := syscalls.SpecFor(e.typ)
		allowed = map[string]bool{}
		for _, a := range spec.Args {
			allowed[a.Name] = true
		}
	default:
		allowed = map[string]bool{}
	}
	for _, name := range sortedKeys(e.args) {
		s := e.args[name]
		if !allowed[name] {
			return bad(s, "%s has no argument %q a fixture can set (it can set: %s)", e.typ, name, orNone(sortedKeys(allowed)))
		}
		var err error
		switch name {
		case "name":
			if h != syscalls.Generic {
				e.raw = s.Value
			}
		case "filename":
			if h != syscalls.Generic {
				e.filename = s.Value
			}
		case "flags":
			if h != syscalls.Generic {
				e.flags, err = fields.ParseOpenFlags(s.Value)
				e.flagsSet = err == nil
			}
		case "mode":
			if h != syscalls.Generic {
				var n uint64
				n, err = strconv.ParseUint(s.Value, 8, 32)
				if err != nil {
					return bad(s, "%q is not an octal mode such as 0644", s.Value)
				}
				e.mode = uint32(n)
			}
		case "dirfd":
			if h != syscalls.Generic {
				var n int64
				n, err = strconv.ParseInt(s.Value, 10, 32)
				if err != nil {
					return bad(s, "%q is not an fd", s.Value)
				}
				e.dirfd = int32(n)
			}
		}
		if err != nil {
			return bad(s, "%v", err)
		}
	}
	return nil
}

// sysArgs fills a generic syscall event's raw arguments and decoded slots
// from the fixture: paths are made absolute against the working directory
// (the kernel joins them to the cwd or the dirfd), an fd argument takes the
// path of the file it refers to, and numbers may be written as the
// argument renders (AT_REMOVEDIR, 0755) or in decimal, hex or octal.
func (e *eventSpec) sysArgs(ev *event.Event, cwd string) error {
	spec, _ := syscalls.SpecFor(e.typ)
	slots := 0
	for i, a := range spec.Args {
		s, ok := e.args[a.Name]
		if !ok {
			continue
		}
		slot := event.Slot{Index: uint8(i), Type: event.SlotType(a.Slot), Value: s.Value}
		switch a.Slot {
		case syscalls.SlotPath, syscalls.SlotPathAt:
			slot.Path = s.Value
			if !path.IsAbs(slot.Path) {
				slot.Path = path.Join(cwd, slot.Path)
			}
			slot.Path = path.Clean(slot.Path)
		case syscalls.SlotStr:
		case syscalls.SlotFD:
			if n, err := strconv.ParseInt(s.Value, 10, 32); err == nil {
				ev.Sys.Args[i] = uint64(n) // a bare number: an fd the kernel could not name
				continue
			}
			ev.Sys.Args[i] = 3
			slot.Value, slot.Path = "", path.Clean(s.Value)
		case syscalls.SlotNone:
			v, err := rawArg(e.typ, a.Name, s.Value)
			if err != nil {
				return bad(s, "%v", err)
			}
			ev.Sys.Args[i] = v
			continue
		default:
			return bad(s, "%s's %s cannot be set in a fixture", e.typ, a.Name)
		}
		if slots == len(ev.Sys.Slots) {
			return bad(s, "%s: too many decoded arguments", e.typ)
		}
		ev.Sys.Slots[slots] = slot
		slots++
	}
	return nil
}

// rawArg parses a raw argument: a number, or names of its flag table
// joined by |.
func rawArg(sys, name, v string) (uint64, error) {
	if n, err := strconv.ParseInt(v, 0, 64); err == nil {
		return uint64(n), nil
	}
	if n, err := strconv.ParseUint(v, 0, 64); err == nil {
		return n, nil
	}
	t := flags.ForArg(sys, name)
	if t == nil {
		return 0, fmt.Errorf("%q is not a number", v)
	}
	var out uint64
	for _, part := range strings.Split(v, "|") {
		n, ok := t.Lookup(strings.TrimSpace(part))
		if !ok {
			return 0, fmt.Errorf("%q is not a value of %s's %s", part, sys, name)
		}
		out |= n
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// fixtureCgroup is the cgroup id a fixture's containerised process runs in.
const fixtureCgroup = 4242

// ensureContainer returns the event's container, creating a Docker one.
func (e *eventSpec) ensureContainer() *container.Info {
	if e.cont == nil {
		e.cont = &container.Info{ID: strings.Repeat("c0ffee", 10) + "c0ff", Runtime: container.RuntimeDocker, Name: "fixture"}
	}
	return e.cont
}

// containerSetters put the event's process in a container. Setting any of
// them is enough; the others keep a Docker container's defaults.
var containerSetters = map[string]setter{
	"container.id": func(e *eventSpec, _ *procSpec, s Setting) error {
		if s.Value == "" || s.Value == "host" {
			return bad(s, "give a container id; leave the container fields out for the host")
		}
		e.ensureContainer().ID = s.Value
		return nil
	},
	"container.name": func(e *eventSpec, _ *procSpec, s Setting) error { e.ensureContainer().Name = s.Value; return nil },
	"container.image.repository": func(e *eventSpec, _ *procSpec, s Setting) error {
		c := e.ensureContainer()
		c.Image.Repository, c.Image.Name = s.Value, s.Value+":latest"
		return nil
	},
	"container.privileged": func(e *eventSpec, _ *procSpec, s Setting) error {
		v, err := strconv.ParseBool(s.Value)
		if err != nil {
			return bad(s, "%q is not true or false", s.Value)
		}
		e.ensureContainer().Privileged = v
		return nil
	},
	// container.mounts: a list of SOURCE:DEST, bind mounts of the host.
	"container.mounts": func(e *eventSpec, _ *procSpec, s Setting) error {
		items := s.List
		if items == nil {
			items = strings.Fields(s.Value)
		}
		c := e.ensureContainer()
		for _, it := range items {
			src, dst, ok := strings.Cut(it, ":")
			if !ok || !path.IsAbs(src) || !path.IsAbs(dst) {
				return bad(s, "%q is not SOURCE:DEST with absolute paths", it)
			}
			c.Mounts = append(c.Mounts, container.Mount{Type: "bind", Source: src, Dest: dst, RW: true})
		}
		return nil
	},
}

// fixtureContainers answers container lookups for a fixture: its one
// container, and the host for everything else.
type fixtureContainers struct{ info *container.Info }

// Lookup implements container.Lookuper.
func (f fixtureContainers) Lookup(cgroupID uint64) (*container.Info, container.State) {
	if cgroupID == fixtureCgroup && f.info != nil {
		return f.info, container.StateComplete
	}
	return container.Host, container.StateHost
}
