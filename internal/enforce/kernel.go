package enforce

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// ScopeKind says which processes a kernel policy entry applies to.
type ScopeKind uint8

// Scopes a rule condition can be narrowed to in the kernel.
const (
	ScopeHost          ScopeKind = iota + 1 // processes outside containers
	ScopeAllContainers                      // every container
	ScopeContainer                          // one container, by id
)

// Scope is where a kernel policy entry applies.
type Scope struct {
	Kind        ScopeKind
	ContainerID string // for ScopeContainer
}

// String names the scope for status output and diagnostics.
func (s Scope) String() string {
	switch s.Kind {
	case ScopeHost:
		return "host"
	case ScopeAllContainers:
		return "containers"
	case ScopeContainer:
		return "container " + s.ContainerID
	}
	return "unknown"
}

// NetRule is one entry of a connect policy compiled from a rule.
type NetRule struct {
	Scope  Scope
	Prefix netip.Prefix // the destination network; !IsValid() means any
	Port   uint16       // the destination port; 0 means any
	Proto  uint8        // 6 (tcp), 17 (udp) or 0 for both
	Allow  bool         // an exception inside a blocked range
}

// ExecRule is one entry of an in-kernel kill policy compiled from a rule:
// a program, by name or by path, in a scope.
type ExecRule struct {
	Scope Scope
	Comm  string // the task name (at most 15 bytes), or ""
	Path  string // the executable's absolute path, or ""
	Memfd bool   // any executable that is a memfd: fileless execution
}

// notKernel explains why a condition cannot be compiled for the kernel,
// at the place in the rule file that prevents it.
type notKernel struct {
	pos lang.Pos
	why string
}

func (e *notKernel) Error() string {
	if e.pos.Line == 0 {
		return e.why
	}
	return e.pos.String() + ": " + e.why
}

func notKernelf(pos lang.Pos, format string, args ...any) error {
	return &notKernel{pos: pos, why: fmt.Sprintf(format, args...)}
}

// connectTypes are the event types a connect policy covers: the cgroup
// programs see connect, and sendto/sendmsg on unconnected sockets.
var connectTypes = map[string]bool{"connect": true, "sendto": true, "sendmsg": true}

// execTypes are the event types an exec policy covers.
var execTypes = map[string]bool{"execve": true, "execveat": true}

// resultFields describe an operation's outcome. A policy decides before
// the operation, when every outcome is still possible, so tests on them
// are dropped: the rule then blocks what it would have reported.
var resultFields = map[string]bool{"evt.rawres": true, "evt.res": true, "evt.failed": true}

// compileNet turns a rule condition into connect policy entries.
func compileNet(e lang.Expr) ([]NetRule, error) {
	dnf, err := toDNF(e, false)
	if err != nil {
		return nil, err
	}
	var out []NetRule
	for _, conj := range dnf {
		rules, err := netConjunction(conj)
		if err != nil {
			return nil, err
		}
		out = append(out, rules...)
	}
	if len(out) == 0 {
		return nil, notKernelf(e.Pos(), "the condition never matches a connect")
	}
	return out, nil
}

func netConjunction(conj conjunction) ([]NetRule, error) {
	var (
		nets, except []netip.Prefix
		haveNets     bool
		ports        []uint16
		proto        uint8
		scopes       []Scope
	)
	for _, l := range conj {
		c := l.cmp
		name := fieldName(c)
		switch {
		case name == "evt.type":
			types, err := typeTest(l)
			if err != nil {
				return nil, err
			}
			if !anyOf(types, connectTypes) {
				return nil, nil // this alternative is about other events
			}
		case resultFields[name]:
		case name == "fd.sockfamily" || name == "fd.typechar":
			vals, ok := values(c)
			if !ok || c.Op != lang.OpEq || len(vals) != 1 {
				return nil, notKernelf(c.Pos(), "%s: only = is supported", name)
			}
			ip := vals[0] == "ip" || vals[0] == "4" || vals[0] == "6"
			if ip == l.neg {
				return nil, nil // not an IP socket: cgroup programs do not apply
			}
		case name == "fd.l4proto":
			vals, ok := values(c)
			if !ok || l.neg || c.Op != lang.OpEq || len(vals) != 1 {
				return nil, notKernelf(c.Pos(), "fd.l4proto: only = tcp or = udp is supported")
			}
			switch vals[0] {
			case "tcp":
				proto = 6
			case "udp":
				proto = 17
			default:
				return nil, notKernelf(c.Pos(), "fd.l4proto %q cannot be enforced on connect", vals[0])
			}
		case isNetField(name):
			ps, err := prefixes(c)
			if err != nil {
				return nil, err
			}
			if negated(l) {
				except = append(except, ps...)
				continue
			}
			if haveNets {
				return nil, notKernelf(c.Pos(), "two destination tests in one alternative cannot be enforced in the kernel")
			}
			nets, haveNets = ps, true
		case isPortField(name):
			if negated(l) {
				return nil, notKernelf(c.Pos(), "%s: a negated port test cannot be enforced in the kernel", name)
			}
			if ports != nil {
				return nil, notKernelf(c.Pos(), "two port tests in one alternative cannot be enforced in the kernel")
			}
			var err error
			if ports, err = portValues(c); err != nil {
				return nil, err
			}
		case name == "container.id":
			s, err := scopeTest(l)
			if err != nil {
				return nil, err
			}
			scopes = s
		default:
			return nil, notKernelf(c.Pos(), "%s cannot be evaluated in the kernel at connect", describeField(c))
		}
	}
	if scopes == nil {
		scopes = []Scope{{Kind: ScopeHost}, {Kind: ScopeAllContainers}}
	}
	if !haveNets {
		nets = []netip.Prefix{{}}
	}
	if ports == nil {
		ports = []uint16{0}
	}
	var out []NetRule
	for _, s := range scopes {
		for _, port := range ports {
			for _, n := range nets {
				out = append(out, NetRule{Scope: s, Prefix: n, Port: port, Proto: proto})
			}
			for _, n := range except {
				out = append(out, NetRule{Scope: s, Prefix: n, Port: port, Proto: proto, Allow: true})
			}
		}
	}
	return out, nil
}

// negated reports whether a literal excludes its values: a negated test,
// or !=.
// isTrue reports whether a rule literal means true, as bool fields read it.
func isTrue(v string) bool { return strings.EqualFold(v, "true") }

func negated(l literal) bool { return l.neg != (l.cmp.Op == lang.OpNe) }

func isNetField(name string) bool {
	switch name {
	case "fd.sip", "fd.rip", "fd.ip", "fd.snet", "fd.rnet", "fd.net":
		return true
	}
	return false
}

func isPortField(name string) bool {
	return name == "fd.sport" || name == "fd.rport" || name == "fd.port"
}

// prefixes reads the addresses or networks of a destination test.
func prefixes(c *lang.CompareExpr) ([]netip.Prefix, error) {
	if c.Op != lang.OpEq && c.Op != lang.OpNe && c.Op != lang.OpIn {
		return nil, notKernelf(c.OpPos, "%s: operator %s cannot be enforced in the kernel", fieldName(c), c.Op)
	}
	vals, ok := values(c)
	if !ok {
		return nil, notKernelf(c.Pos(), "%s: a comparison with another field cannot be enforced in the kernel", fieldName(c))
	}
	out := make([]netip.Prefix, 0, len(vals))
	for _, v := range vals {
		p, err := parsePrefix(v)
		if err != nil {
			return nil, notKernelf(c.Right.Pos(), "%s: %v", fieldName(c), err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func portValues(c *lang.CompareExpr) ([]uint16, error) {
	if c.Op != lang.OpEq && c.Op != lang.OpIn {
		return nil, notKernelf(c.OpPos, "%s: operator %s cannot be enforced in the kernel", fieldName(c), c.Op)
	}
	vals, ok := values(c)
	if !ok {
		return nil, notKernelf(c.Pos(), "%s: a comparison with another field cannot be enforced in the kernel", fieldName(c))
	}
	out := make([]uint16, 0, len(vals))
	for _, v := range vals {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || n == 0 {
			return nil, notKernelf(c.Right.Pos(), "%s: %q is not a port", fieldName(c), v)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

// typeTest returns the event types a literal on evt.type admits. A
// negated test admits every type but those, which is reported as nil
// (all) unless it excludes one of the types that matter; callers treat
// nil as "any".
func typeTest(l literal) ([]string, error) {
	vals, ok := values(l.cmp)
	if !ok || (l.cmp.Op != lang.OpEq && l.cmp.Op != lang.OpIn && l.cmp.Op != lang.OpNe) {
		return nil, notKernelf(l.cmp.Pos(), "evt.type: only =, != and in are supported")
	}
	if negated(l) {
		return nil, nil
	}
	return vals, nil
}

func anyOf(types []string, set map[string]bool) bool {
	if types == nil {
		return true
	}
	for _, t := range types {
		if set[t] {
			return true
		}
	}
	return false
}

// scopeTest reads container.id = host, != host or = <id>.
func scopeTest(l literal) ([]Scope, error) {
	c := l.cmp
	vals, ok := values(c)
	if !ok || len(vals) != 1 || (c.Op != lang.OpEq && c.Op != lang.OpNe) {
		return nil, notKernelf(c.Pos(), "container.id: only = host, != host or = <id> can be enforced in the kernel")
	}
	host := vals[0] == "host"
	switch {
	case host && !negated(l):
		return []Scope{{Kind: ScopeHost}}, nil
	case host:
		return []Scope{{Kind: ScopeAllContainers}}, nil
	case !negated(l):
		return []Scope{{Kind: ScopeContainer, ContainerID: vals[0]}}, nil
	}
	return nil, notKernelf(c.Pos(), "container.id != <id> cannot be enforced in the kernel")
}

func describeField(c *lang.CompareExpr) string {
	if f := lang.BaseField(c.Left); f != nil {
		if _, isField := c.Left.(*lang.FieldRef); !isField {
			return "a transformed " + f.Name
		}
		if f.Arg != nil {
			return f.Name + "[" + f.Arg.Text + "]"
		}
		return f.Name
	}
	return "the expression"
}

// compileExec turns a rule condition into in-kernel kill entries: the
// program's name or path, in a scope, and nothing else.
func compileExec(e lang.Expr) ([]ExecRule, error) {
	dnf, err := toDNF(e, false)
	if err != nil {
		return nil, err
	}
	var out []ExecRule
	for _, conj := range dnf {
		var comms, paths []string
		var scopes []Scope
		relevant, memfd := true, false
		for _, l := range conj {
			c := l.cmp
			name := fieldName(c)
			switch {
			case name == "evt.type":
				types, err := typeTest(l)
				if err != nil {
					return nil, err
				}
				relevant = relevant && anyOf(types, execTypes)
			case resultFields[name]:
			case name == "proc.name" || name == "proc.exepath":
				if negated(l) || (c.Op != lang.OpEq && c.Op != lang.OpIn) {
					return nil, notKernelf(c.Pos(), "%s: only = and in can be enforced in the kernel", name)
				}
				vals, ok := values(c)
				if !ok {
					return nil, notKernelf(c.Pos(), "%s: a comparison with another field cannot be enforced in the kernel", name)
				}
				if (name == "proc.name" && comms != nil) || (name == "proc.exepath" && paths != nil) {
					return nil, notKernelf(c.Pos(), "two %s tests in one alternative cannot be enforced in the kernel", name)
				}
				if name == "proc.name" {
					comms = vals
				} else {
					paths = vals
				}
			case name == "proc.is_exe_from_memfd":
				vals, ok := values(c)
				if negated(l) || c.Op != lang.OpEq || !ok || len(vals) != 1 || !isTrue(vals[0]) {
					return nil, notKernelf(c.Pos(), "proc.is_exe_from_memfd: only = true can be enforced in the kernel")
				}
				memfd = true
			case name == "container.id":
				s, err := scopeTest(l)
				if err != nil {
					return nil, err
				}
				scopes = s
			default:
				return nil, notKernelf(c.Pos(), "%s cannot be evaluated in the kernel at exec", describeField(c))
			}
		}
		if !relevant {
			continue
		}
		if comms != nil && paths != nil {
			return nil, notKernelf(conj[0].cmp.Pos(), "a test on both proc.name and proc.exepath cannot be enforced in the kernel")
		}
		if memfd && (comms != nil || paths != nil) {
			return nil, notKernelf(conj[0].cmp.Pos(), "a test on both the program and proc.is_exe_from_memfd cannot be enforced in the kernel")
		}
		if memfd {
			if scopes == nil {
				scopes = []Scope{{Kind: ScopeHost}, {Kind: ScopeAllContainers}}
			}
			for _, s := range scopes {
				out = append(out, ExecRule{Scope: s, Memfd: true})
			}
			continue
		}
		if comms == nil && paths == nil {
			return nil, notKernelf(conj[0].cmp.Pos(), "the condition does not name the program (proc.name or proc.exepath), so it cannot be enforced in the kernel")
		}
		if scopes == nil {
			scopes = []Scope{{Kind: ScopeHost}, {Kind: ScopeAllContainers}}
		}
		for _, s := range scopes {
			for _, cm := range comms {
				if len(cm) > 15 {
					cm = cm[:15] // the kernel keeps 15 bytes of a task name
				}
				out = append(out, ExecRule{Scope: s, Comm: cm})
			}
			for _, p := range paths {
				if !strings.HasPrefix(p, "/") {
					return nil, notKernelf(conj[0].cmp.Pos(), "proc.exepath %q is not absolute", p)
				}
				out = append(out, ExecRule{Scope: s, Path: p})
			}
		}
	}
	if len(out) == 0 {
		return nil, notKernelf(e.Pos(), "the condition never matches an exec")
	}
	return out, nil
}
