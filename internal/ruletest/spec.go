package ruletest

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// procSpec is a synthetic process as a fixture describes it.
type procSpec struct {
	pid                 uint32
	name, exepath, exe  string
	exeSet              bool // argv[0] was given, possibly empty
	args                []string
	cwd                 string
	uid, gid, loginuid  uint32
	loginuidSet         bool
	tty, sid, pgid      uint32
	flags               event.ExecFlags
	loaderEnv           []string
	capEff, capPerm     uint64
	userName, groupName string
	// stdio is what an exec's record says of fds 0-2 (flags has
	// event.ExecStdio once a fixture sets any of it).
	stdio event.Stdio
}

// eventSpec is a synthetic event: its process and what the event carries.
type eventSpec struct {
	typ    string
	res    int64
	resSet bool
	tid    uint32
	proc   procSpec

	path, raw string
	flags     uint32
	flagsSet  bool
	mode      uint32
	dirfd     int32
	filename  string

	// args are the evt.arg.NAME settings, read once the event type is
	// known: the same name means different things in different calls.
	args map[string]Setting
	// cont is the container the event's process runs in, nil for the host.
	cont *container.Info

	local, remote netip.AddrPort
	server        *netip.AddrPort // fd.sip/fd.sport, placed by the operation
	client        *netip.AddrPort
	l4proto       string
}

// setter applies one fixture setting.
type setter func(e *eventSpec, p *procSpec, s Setting) error

func bad(s Setting, format string, args ...any) error {
	return &lang.Error{Pos: s.Pos, Msg: s.Field + ": " + fmt.Sprintf(format, args...)}
}

func uintSetter(set func(p *procSpec, n uint32)) setter {
	return func(_ *eventSpec, p *procSpec, s Setting) error {
		n, err := strconv.ParseUint(s.Value, 10, 32)
		if err != nil {
			return bad(s, "%q is not an unsigned number", s.Value)
		}
		set(p, uint32(n))
		return nil
	}
}

func boolSetter(flag event.ExecFlags) setter {
	return func(_ *eventSpec, p *procSpec, s Setting) error {
		v, err := strconv.ParseBool(s.Value)
		if err != nil {
			return bad(s, "%q is not true or false", s.Value)
		}
		if v {
			p.flags |= flag
		}
		return nil
	}
}

func capsSetter(set func(p *procSpec, caps uint64)) setter {
	return func(_ *eventSpec, p *procSpec, s Setting) error {
		caps, err := fields.ParseCaps(s.Value)
		if err != nil {
			return bad(s, "%v", err)
		}
		set(p, caps)
		return nil
	}
}

// stdioTypeNames are the proc.stdin.type values an exec record can carry.
var stdioTypeNames = map[string]event.StdioType{
	"file": event.StdioFile, "directory": event.StdioDir, "pipe": event.StdioPipe,
	"ipv4": event.StdioIPv4, "ipv6": event.StdioIPv6, "unix": event.StdioUnix,
}

// stdioSetters set what an exec's record says of fds 0, 1 and 2. The
// record holds one socket's ends: every fd given a remote end shares them.
func stdioSetters(m map[string]setter) {
	for fd, name := range [...]string{"stdin", "stdout", "stderr"} {
		m["proc."+name+".type"] = func(_ *eventSpec, p *procSpec, s Setting) error {
			t, ok := stdioTypeNames[s.Value]
			if !ok {
				return bad(s, "%q is not one of file, directory, pipe, ipv4, ipv6, unix", s.Value)
			}
			p.stdio.Type[fd] = t
			p.flags |= event.ExecStdio
			return nil
		}
		m["proc."+name+".rip"] = func(_ *eventSpec, p *procSpec, s Setting) error {
			a, err := netip.ParseAddr(s.Value)
			if err != nil {
				return bad(s, "%q is not an IP address", s.Value)
			}
			r := &p.stdio.Remote
			if r.Addr().IsValid() && r.Addr() != a {
				return bad(s, "the exec record holds one socket's ends, and another fd has %s", r.Addr())
			}
			*r = netip.AddrPortFrom(a, r.Port())
			p.stdio.Addr[fd] = true
			p.flags |= event.ExecStdio
			return nil
		}
		m["proc."+name+".rport"] = func(_ *eventSpec, p *procSpec, s Setting) error {
			n, err := strconv.ParseUint(s.Value, 10, 16)
			if err != nil {
				return bad(s, "%q is not a port", s.Value)
			}
			r := &p.stdio.Remote
			if r.Port() != 0 && r.Port() != uint16(n) {
				return bad(s, "the exec record holds one socket's ends, and another fd has port %d", r.Port())
			}
			*r = netip.AddrPortFrom(r.Addr(), uint16(n))
			p.stdio.Addr[fd] = true
			p.flags |= event.ExecStdio
			return nil
		}
	}
}

// processSetters are the fields a fixture may set on any process.
var processSetters = map[string]setter{
	"proc.pid":     uintSetter(func(p *procSpec, n uint32) { p.pid = n }),
	"proc.name":    func(_ *eventSpec, p *procSpec, s Setting) error { p.name = s.Value; return nil },
	"proc.exepath": func(_ *eventSpec, p *procSpec, s Setting) error { p.exepath = s.Value; return nil },
	"proc.exe":     func(_ *eventSpec, p *procSpec, s Setting) error { p.exe, p.exeSet = s.Value, true; return nil },
	"proc.args": func(_ *eventSpec, p *procSpec, s Setting) error {
		if s.List != nil {
			p.args = s.List
		} else {
			p.args = strings.Fields(s.Value)
		}
		return nil
	},
	"proc.cwd":                     func(_ *eventSpec, p *procSpec, s Setting) error { p.cwd = s.Value; return nil },
	"proc.tty":                     uintSetter(func(p *procSpec, n uint32) { p.tty = n }),
	"proc.sid":                     uintSetter(func(p *procSpec, n uint32) { p.sid = n }),
	"proc.vpgid":                   uintSetter(func(p *procSpec, n uint32) { p.pgid = n }),
	"proc.is_exe_from_memfd":       boolSetter(event.ExecFromMemfd),
	"proc.is_exe_upper_layer":      boolSetter(event.ExecUpperLayer),
	"proc.is_secure_exec":          boolSetter(event.ExecSecure),
	"proc.is_loader_env_truncated": boolSetter(event.ExecEnvTruncated),
	"proc.loader_env": func(_ *eventSpec, p *procSpec, s Setting) error {
		if s.List != nil {
			p.loaderEnv = s.List
		} else {
			p.loaderEnv = strings.Fields(s.Value)
		}
		for _, e := range p.loaderEnv {
			if !strings.Contains(e, "=") {
				return bad(s, "%q is not NAME=value", e)
			}
		}
		return nil
	},
	"user.uid":   uintSetter(func(p *procSpec, n uint32) { p.uid = n }),
	"group.gid":  uintSetter(func(p *procSpec, n uint32) { p.gid = n }),
	"user.name":  func(_ *eventSpec, p *procSpec, s Setting) error { p.userName = s.Value; return nil },
	"group.name": func(_ *eventSpec, p *procSpec, s Setting) error { p.groupName = s.Value; return nil },
	"user.loginuid": func(_ *eventSpec, p *procSpec, s Setting) error {
		n, err := strconv.ParseInt(s.Value, 10, 64)
		if err != nil || n < -1 || n > 1<<32-2 {
			return bad(s, "%q is not a uid or -1", s.Value)
		}
		p.loginuid, p.loginuidSet = uint32(n), true // -1 wraps to the kernel's "unset"
		return nil
	},
	"thread.cap_effective": capsSetter(func(p *procSpec, c uint64) { p.capEff = c }),
	"thread.cap_permitted": capsSetter(func(p *procSpec, c uint64) { p.capPerm = c }),
}

// eventSetters are processSetters (for the event's process) and the
// fields of the event itself.
var eventSetters = func() map[string]setter {
	m := map[string]setter{
		"evt.type": func(e *eventSpec, _ *procSpec, s Setting) error { e.typ = s.Value; return nil },
		"evt.rawres": func(e *eventSpec, _ *procSpec, s Setting) error {
			n, err := strconv.ParseInt(s.Value, 10, 64)
			if err != nil {
				return bad(s, "%q is not a number", s.Value)
			}
			e.res, e.resSet = n, true
			return nil
		},
		"evt.res": func(e *eventSpec, _ *procSpec, s Setting) error {
			n, err := fields.ParseResult(s.Value)
			if err != nil {
				return bad(s, "%v", err)
			}
			e.res, e.resSet = n, true
			return nil
		},
		"thread.tid": func(e *eventSpec, _ *procSpec, s Setting) error {
			n, err := strconv.ParseUint(s.Value, 10, 32)
			if err != nil {
				return bad(s, "%q is not a thread id", s.Value)
			}
			e.tid = uint32(n)
			return nil
		},
		"fd.name":    func(e *eventSpec, _ *procSpec, s Setting) error { e.path = s.Value; return nil },
		"fd.nameraw": func(e *eventSpec, _ *procSpec, s Setting) error { e.raw = s.Value; return nil },
		// Any evt.arg.NAME: read by argSettings once the type is known.
		argWildcard: func(e *eventSpec, _ *procSpec, s Setting) error {
			if e.args == nil {
				e.args = map[string]Setting{}
			}
			e.args[strings.TrimPrefix(s.Field, "evt.arg.")] = s
			return nil
		},
		"fd.l4proto": func(e *eventSpec, _ *procSpec, s Setting) error {
			if s.Value != "tcp" && s.Value != "udp" {
				return bad(s, "want tcp or udp, not %q", s.Value)
			}
			e.l4proto = s.Value
			return nil
		},
	}
	endpoint := func(ip bool, get func(e *eventSpec) *netip.AddrPort) setter {
		return func(e *eventSpec, _ *procSpec, s Setting) error {
			ap := get(e)
			if ip {
				a, err := netip.ParseAddr(s.Value)
				if err != nil {
					return bad(s, "%q is not an IP address", s.Value)
				}
				*ap = netip.AddrPortFrom(a, ap.Port())
				return nil
			}
			n, err := strconv.ParseUint(s.Value, 10, 16)
			if err != nil {
				return bad(s, "%q is not a port", s.Value)
			}
			*ap = netip.AddrPortFrom(ap.Addr(), uint16(n))
			return nil
		}
	}
	ensure := func(p **netip.AddrPort) *netip.AddrPort {
		if *p == nil {
			*p = new(netip.AddrPort)
		}
		return *p
	}
	m["fd.lip"] = endpoint(true, func(e *eventSpec) *netip.AddrPort { return &e.local })
	m["fd.lport"] = endpoint(false, func(e *eventSpec) *netip.AddrPort { return &e.local })
	m["fd.rip"] = endpoint(true, func(e *eventSpec) *netip.AddrPort { return &e.remote })
	m["fd.rport"] = endpoint(false, func(e *eventSpec) *netip.AddrPort { return &e.remote })
	m["fd.sip"] = endpoint(true, func(e *eventSpec) *netip.AddrPort { return ensure(&e.server) })
	m["fd.sport"] = endpoint(false, func(e *eventSpec) *netip.AddrPort { return ensure(&e.server) })
	m["fd.cip"] = endpoint(true, func(e *eventSpec) *netip.AddrPort { return ensure(&e.client) })
	m["fd.cport"] = endpoint(false, func(e *eventSpec) *netip.AddrPort { return ensure(&e.client) })
	for k, v := range processSetters {
		m[k] = v
	}
	stdioSetters(m)
	for k, v := range containerSetters {
		m[k] = v
	}
	return m
}()

// argWildcard is the setters' key for every evt.arg.NAME.
const argWildcard = "evt.arg.*"

// lookupSetter finds the setter of a field: by its name, or the wildcard
// for an event argument.
func lookupSetter(m map[string]setter, field string) (setter, bool) {
	if f, ok := m[field]; ok {
		return f, true
	}
	if strings.HasPrefix(field, "evt.arg.") && len(field) > len("evt.arg.") {
		f, ok := m[argWildcard]
		return f, ok
	}
	return nil, false
}

func setterNames(m map[string]setter) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	return strings.Join(sortedCopy(names), ", ")
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// apply reads settings into a spec; the process part goes to p.
func apply(settings []Setting, setters map[string]setter, e *eventSpec, p *procSpec) error {
	for _, s := range settings {
		f, _ := lookupSetter(setters, s.Field)
		if err := f(e, p, s); err != nil {
			return err
		}
	}
	return nil
}
