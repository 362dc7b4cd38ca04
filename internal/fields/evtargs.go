package fields

import (
	"strconv"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/syscalls/flags"
)

// shape is an event's parameter layout: which arguments evt.arg.* and
// evt.args see. The fixed layouts below come first; each generic syscall
// has a layout of its own after them (see evtsys.go).
type shape uint16

const (
	shapeUnknown shape = iota // not computed yet for this event
	shapeNone
	shapeOpen
	shapeOpenAt
	shapeOpenAt2
	shapeCreat
	shapeConnect
	shapeAccept
	shapeBind
	shapeListen
	shapeExec
	shapeFork
	shapeExit
	numFixedShapes
)

var nrOpen, nrOpenAt, nrOpenAt2, nrCreat = sysnr("open"), sysnr("openat"), sysnr("openat2"), sysnr("creat")

func sysnr(name string) int32 {
	nr, ok := syscalls.Number(name)
	if !ok {
		return -2 // never an event's syscall number
	}
	return nr
}

// shapeOf returns the event's parameter layout, computed once per event.
func (c *Context) shapeOf() shape {
	if c.shape != shapeUnknown {
		return c.shape
	}
	ev := c.Event
	s := shapeNone
	switch ev.Kind {
	case event.KindFork:
		s = shapeFork
	case event.KindExit:
		s = shapeExit
	case event.KindExec:
		s = shapeExec
	case event.KindOpen:
		switch ev.Syscall {
		case nrOpen:
			s = shapeOpen
		case nrOpenAt:
			s = shapeOpenAt
		case nrOpenAt2:
			s = shapeOpenAt2
		case nrCreat:
			s = shapeCreat
		}
	case event.KindSocket:
		switch ev.Socket.Op {
		case event.OpConnect:
			s = shapeConnect
		case event.OpAccept:
			s = shapeAccept
		case event.OpBind:
			s = shapeBind
		case event.OpListen:
			s = shapeListen
		}
	case event.KindSyscall:
		if ev.Syscall >= 0 && ev.Syscall < maxNr && sysShape[ev.Syscall] != 0 {
			s = sysShape[ev.Syscall]
		}
	}
	c.shape = s
	return s
}

// param is one event argument. value renders it as evt.arg.NAME and
// evt.arg[N] give it; listed, when set, as evt.args shows it; doc says
// what it renders as, for docs/events.md.
type param struct {
	name   string
	value  func(c *Context, dst []byte) []byte
	listed func(c *Context, dst []byte) []byte
	// raw, when set, returns what value renders without copying it: a
	// string the event already holds (a path, argv[0]), so that rules
	// testing it on every exec or open do not render it each time.
	raw func(c *Context) string
	doc string
}

var (
	pFD    = param{name: "fd", value: appendEventFD}
	pDirFD = param{name: "dirfd", value: appendDirFD}
	pName  = param{name: "name", value: func(c *Context, dst []byte) []byte { return append(dst, c.Event.Open.RawPath...) },
		raw: func(c *Context) string { return c.Event.Open.RawPath }}
	pFlags   = param{name: "flags", value: func(c *Context, dst []byte) []byte { return appendOpenFlags(dst, c.Event.Open.Flags) }, listed: appendListedFlags}
	pMode    = param{name: "mode", value: func(c *Context, dst []byte) []byte { return appendMode(dst, c.Event.Open.Mode) }}
	pResolve = param{name: "resolve", value: func(c *Context, dst []byte) []byte {
		return flags.Resolve.Append(dst, c.Event.Open.Resolve)
	}}
	pRes     = param{name: "res", value: func(c *Context, dst []byte) []byte { return appendResult(dst, c.Event.Ret) }}
	pTuple   = param{name: "tuple", value: func(c *Context, dst []byte) []byte { return appendTuple(dst, c.fd()) }}
	pAddr    = param{name: "addr", value: appendSockAddr}
	pBacklog = param{name: "backlog", value: func(c *Context, dst []byte) []byte {
		return strconv.AppendInt(dst, int64(c.Event.Socket.Backlog), 10)
	}}
)

// shapeParams lists each layout's parameters in order, following Falco's
// exit events where they exist; the generic syscalls' layouts follow the
// fixed ones.
var shapeParams = append(fixedShapes[:], genericShapes...)

var fixedShapes = [numFixedShapes][]param{
	shapeOpen:    {pFD, pName, pFlags, pMode},
	shapeOpenAt:  {pFD, pDirFD, pName, pFlags, pMode},
	shapeOpenAt2: {pFD, pDirFD, pName, pFlags, pMode, pResolve},
	shapeCreat:   {pFD, pName, pMode},
	shapeConnect: {pRes, pTuple, pFD, pAddr},
	shapeAccept:  {pFD, pTuple},
	shapeBind:    {pRes, pAddr, pFD},
	shapeListen:  {pRes, pFD, pBacklog},
	shapeExec: {
		pRes,
		{name: "exe", value: func(c *Context, dst []byte) []byte { return append(dst, argv0(c.Event.Exec.Args)...) },
			raw: func(c *Context) string { return argv0(c.Event.Exec.Args) }},
		{name: "args", value: func(c *Context, dst []byte) []byte { return appendArgs(dst, c.Event.Exec.Args) }},
		{name: "filename", value: func(c *Context, dst []byte) []byte { return append(dst, c.Event.Exec.Filename...) },
			raw: func(c *Context) string { return c.Event.Exec.Filename }},
		{name: "cwd", value: func(c *Context, dst []byte) []byte { return append(dst, c.Event.Exec.Cwd...) },
			raw: func(c *Context) string { return c.Event.Exec.Cwd }},
	},
	shapeFork: {{name: "res", value: func(c *Context, dst []byte) []byte {
		return strconv.AppendUint(dst, uint64(c.Event.Fork.ChildPID), 10)
	}}},
	shapeExit: {
		{name: "status", value: func(c *Context, dst []byte) []byte { return strconv.AppendUint(dst, uint64(c.Event.Exit.Code), 10) }},
		{name: "sig", value: func(c *Context, dst []byte) []byte { return strconv.AppendUint(dst, uint64(c.Event.Exit.Signal), 10) }},
		{name: "core", value: func(c *Context, dst []byte) []byte { return strconv.AppendBool(dst, c.Event.Exit.CoreDumped) }},
	},
}

// argAliases are other names for parameters, for rules written against
// syscalls that call them differently: evt.arg.path of an open is its
// name. A layout's own parameter of that name comes first.
var argAliases = map[string]string{"path": "name"}

func registerEvtArgs(r *Registry) {
	var names []string
	seen := map[string]bool{}
	for _, ps := range shapeParams {
		for _, p := range ps {
			if !seen[p.name] {
				seen[p.name] = true
				names = append(names, p.name)
			}
		}
	}
	for alias := range argAliases {
		if !seen[alias] {
			names = append(names, alias)
		}
	}
	for _, name := range names {
		r.add("evt.arg."+name, "the event's "+name+" argument, rendered as text", argByName(name))
	}
	r.addArg("evt.arg", "the event's N-th argument (from 0), rendered as text", compile.TypeString, func(a *lang.Arg) (Field, error) {
		n, err := index("evt.arg", a)
		if err != nil {
			return Field{}, err
		}
		return str(func(c *Context) (string, bool) {
			ps := shapeParams[c.shapeOf()]
			if n >= len(ps) {
				return "", false
			}
			return c.render(func(dst []byte) []byte { return ps[n].value(c, dst) }), true
		}), nil
	})
	r.add("evt.buffer", "the data a read, write, sendto or recvfrom moved, when payload capture is on (empty otherwise)",
		compile.Field[*Context]{Type: compile.TypeBytes, Str: eventBuffer})
	r.add("evt.args", "every argument as name=value pairs, as Falco prints them",
		str(func(c *Context) (string, bool) {
			return c.memo(slotEvtArgs, appendEvtArgs), shapeParams[c.shapeOf()] != nil
		}))
}

// argByName returns the field for evt.arg.NAME: the position of NAME (or
// of the parameter it is an alias for) in each layout is found once,
// here, not per event.
func argByName(name string) Field {
	at := make([]int8, len(shapeParams))
	for s, ps := range shapeParams {
		at[s] = -1
		for _, n := range [2]string{argAliases[name], name} {
			for i, p := range ps {
				if n != "" && p.name == n {
					at[s] = int8(i)
				}
			}
		}
	}
	return str(func(c *Context) (string, bool) {
		s := c.shapeOf()
		i := at[s]
		if i < 0 {
			return "", false
		}
		p := &shapeParams[s][i]
		if p.raw != nil {
			return p.raw(c), true
		}
		return c.render(func(dst []byte) []byte { return p.value(c, dst) }), true
	})
}

func appendEvtArgs(c *Context, dst []byte) []byte {
	for i, p := range shapeParams[c.shapeOf()] {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(append(dst, p.name...), '=')
		if p.listed != nil {
			dst = p.listed(c, dst)
		} else {
			dst = p.value(c, dst)
		}
	}
	return dst
}

// appendListedFlags renders flags as evt.args shows them: 577(O_WRONLY|O_CREAT|O_TRUNC).
func appendListedFlags(c *Context, dst []byte) []byte {
	dst = strconv.AppendUint(dst, uint64(c.Event.Open.Flags), 10)
	return append(appendOpenFlags(append(dst, '('), c.Event.Open.Flags), ')')
}

// appendEventFD renders the fd the event produced or used, with its type
// and name as Falco does: 3(<f>/etc/passwd), or -2(ENOENT) on failure. An
// fd nobody described is its number alone.
func appendEventFD(c *Context, dst []byte) []byte {
	v := c.fd()
	if !v.hasNum {
		return appendResult(dst, c.Event.Ret)
	}
	dst = strconv.AppendInt(dst, v.num, 10)
	if !v.described {
		return dst
	}
	dst = append(append(append(dst, "(<"...), v.typeChar()...), v.l4Char()...)
	// The name is rendered in place rather than through fdName's cache:
	// dst is the arena's tail, which the cache would append over.
	return append(appendTuple(append(dst, '>'), v), ')')
}

func appendDirFD(c *Context, dst []byte) []byte {
	dst = strconv.AppendInt(dst, int64(c.Event.Open.DirFD), 10)
	if c.Event.Open.DirFD == -100 {
		dst = append(dst, "(AT_FDCWD)"...)
	}
	return dst
}
