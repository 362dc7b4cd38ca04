package fields

import (
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// level returns the process lv levels up: 0 is the process itself, 1 its
// parent, and so on; nil when the ancestry is not that deep. The pointer
// is into the context and valid until the next Reset; handing out
// pointers rather than copies matters, as ancestor fields are evaluated
// once per ancestor when quantified.
func (c *Context) level(lv int) *proc.Process {
	if lv == 0 {
		return &c.Proc
	}
	if lv < 0 || lv > len(c.ancestors(lv)) {
		return nil
	}
	return &c.anc[lv-1]
}

// anyAncestor runs test with the ancestor cursor on each ancestor in turn,
// nearest first: how Falco evaluates proc.aname and friends without an
// index.
func anyAncestor(c *Context, test func(*Context) bool) bool {
	n := len(c.ancestors(maxAncestors))
	defer func() { c.ancCursor = 0 }()
	for i := 1; i <= n; i++ {
		c.ancCursor = i
		if test(c) {
			return true
		}
	}
	return false
}

// ancestry describes one family of ancestor fields (aname, apid, ...) by
// how it reads a process.
type ancestry struct {
	typ compile.FieldType
	str func(c *Context, p *proc.Process) string
	num func(p *proc.Process) uint64
}

// at returns the field for a fixed level, or with lv < 0 for the
// ancestor under the cursor (the parent when not iterating).
func (a ancestry) at(lv int) Field {
	pick := func(c *Context) *proc.Process {
		if lv >= 0 {
			return c.level(lv)
		}
		return c.level(max(c.ancCursor, 1))
	}
	if a.typ == compile.TypeUint {
		get := a.num
		return num(func(c *Context) (uint64, bool) {
			if p := pick(c); p != nil {
				return get(p), true
			}
			return 0, false
		})
	}
	get := a.str
	return str(func(c *Context) (string, bool) {
		if p := pick(c); p != nil {
			return get(c, p), true
		}
		return "", false
	})
}

var (
	aname    = ancestry{typ: compile.TypeString, str: func(_ *Context, p *proc.Process) string { return p.Comm }}
	aexe     = ancestry{typ: compile.TypeString, str: func(_ *Context, p *proc.Process) string { return argv0(p.Args) }}
	aexepath = ancestry{typ: compile.TypeString, str: func(_ *Context, p *proc.Process) string { return p.Exe }}
	apid     = ancestry{typ: compile.TypeUint, num: func(p *proc.Process) uint64 { return uint64(p.PID) }}
	acmdline = ancestry{typ: compile.TypeString, str: func(c *Context, p *proc.Process) string {
		return c.render(func(dst []byte) []byte { return appendCmdline(dst, p.Comm, p.Args) })
	}}
)

func registerAncestors(r *Registry) {
	r.add("proc.pname", "the parent's name", aname.at(1))
	r.add("proc.pexe", "the parent's argv[0]", aexe.at(1))
	r.add("proc.pexepath", "the parent's executable path", aexepath.at(1))
	r.add("proc.pcmdline", "the parent's command line", acmdline.at(1))
	for _, f := range []struct {
		name, desc string
		a          ancestry
	}{
		{"proc.aname", "name", aname},
		{"proc.apid", "pid", apid},
		{"proc.aexe", "argv[0]", aexe},
		{"proc.aexepath", "executable path", aexepath},
		{"proc.acmdline", "command line", acmdline},
	} {
		name, a := f.name, f.a
		any := a.at(-1)
		any.Any = anyAncestor
		r.addOptArg(name, "the "+f.desc+" of the N-th ancestor ([0] is the process itself, [1] its parent); without [N], any ancestor matches",
			any, func(arg *lang.Arg) (Field, error) {
				n, err := index(name, arg)
				if err != nil {
					return Field{}, err
				}
				return a.at(n), nil
			})
	}
}
