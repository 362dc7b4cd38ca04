package fields

import (
	"sort"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/syscalls/flags"
)

// The parameters of generic syscall events: res, then the arguments the
// syscall spec names, in order. A parameter renders from the decoded slot
// when the kernel decoded one, otherwise from the raw argument, by its
// flag table or by what its name says it is.

// sysShape is each generic syscall's layout, by syscall number; 0 is none.
var sysShape [maxNr]shape

// genericShapes are the generic syscalls' layouts, in the order of
// syscalls.Supported, after the fixed ones.
var genericShapes = func() [][]param {
	var out [][]param
	names := syscalls.Supported()
	sort.Strings(names)
	for _, name := range names {
		spec, ok := syscalls.SpecFor(name)
		nr, known := syscalls.Number(name)
		if !ok || !known || nr < 0 || nr >= maxNr {
			continue
		}
		sysShape[nr] = shape(int(numFixedShapes) + len(out))
		out = append(out, sysParams(name, spec, nr))
	}
	return out
}()

func sysParams(name string, spec syscalls.Spec, nr int32) []param {
	ps := []param{{name: "res", value: appendSysResult, doc: "result"}}
	for i, a := range spec.Args {
		ps = append(ps, sysParam(name, i, a, nr))
	}
	switch name {
	case "pipe", "pipe2", "socketpair":
		// Falco names the two fds separately.
		ps = append(ps,
			param{name: "fd1", value: func(c *Context, dst []byte) []byte { return appendPairFD(c, dst, 0) }, doc: "fd"},
			param{name: "fd2", value: func(c *Context, dst []byte) []byte { return appendPairFD(c, dst, 1) }, doc: "fd"})
	case "bpf":
		ps = append(ps, param{name: "res_or_fd", value: appendSysResult, doc: "result"})
	}
	return ps
}

// Raw arguments that are not numbers to print in decimal, by name.
var (
	fdArgs    = map[string]bool{"fd": true, "oldfd": true, "newfd": true, "group_fd": true}
	dirfdArgs = map[string]bool{"dirfd": true, "olddirfd": true, "newdirfd": true, "linkdirfd": true, "olddir": true, "newdir": true}
	intArgs   = map[string]bool{"pid": true, "tgid": true, "tid": true, "cpu": true, "length": true, "arg": true}
	idArgs    = map[string]bool{"uid": true, "gid": true, "ruid": true, "euid": true, "suid": true, "rgid": true, "egid": true, "sgid": true}
	ptrArgs   = map[string]bool{"newsp": true, "parent_tid": true, "child_tid": true, "tls": true, "cl_args": true,
		"hdrp": true, "datap": true, "addr": true, "data": true, "msg": true, "attr": true, "img": true, "params": true, "mask": true, "src_addr": true}
)

// sysParam builds the parameter for argument i of a generic syscall.
func sysParam(sys string, i int, a syscalls.Arg, nr int32) param {
	idx := uint8(i)
	p := param{name: a.Name}
	raw := func(c *Context) uint64 { return c.Event.Sys.Args[i] }
	switch {
	case a.Slot == syscalls.SlotPath || a.Slot == syscalls.SlotPathAt:
		p.doc = "absolute path"
		p.raw = func(c *Context) string {
			if s := slotAt(c.Event, idx); s != nil {
				if s.Path != "" {
					return s.Path
				}
				return s.Value
			}
			return ""
		}
		p.value = func(c *Context, dst []byte) []byte { return append(dst, p.raw(c)...) }
	case a.Slot == syscalls.SlotStr:
		p.doc = "string"
		p.raw = func(c *Context) string {
			if s := slotAt(c.Event, idx); s != nil {
				return s.Value
			}
			return ""
		}
		p.value = func(c *Context, dst []byte) []byte { return append(dst, p.raw(c)...) }
	case a.Slot == syscalls.SlotSockaddr:
		p.doc = "address"
		p.value = func(c *Context, dst []byte) []byte {
			if s := slotAt(c.Event, idx); s != nil {
				return appendRawSockaddr(dst, s.Value)
			}
			return dst
		}
	case a.Slot == syscalls.SlotBuf:
		p.doc = "payload"
		p.value = func(c *Context, dst []byte) []byte {
			if s := slotAt(c.Event, idx); s != nil {
				return appendPrintable(dst, s.Value)
			}
			return dst
		}
	case a.Slot == syscalls.SlotFDPair:
		p.doc = "[fd,fd]"
		p.value = func(c *Context, dst []byte) []byte {
			r, w, ok := slotPair(c.Event)
			if !ok {
				return dst
			}
			dst = strconv.AppendInt(append(dst, '['), int64(r), 10)
			return append(strconv.AppendInt(append(dst, ','), int64(w), 10), ']')
		}
	case int(sysFDArg[nr]) == i:
		p.value, p.doc = appendEventFD, "fd" // the fd the event is about, as fd.* see it
	case fdArgs[a.Name]:
		p.doc = "fd"
		p.value = func(c *Context, dst []byte) []byte {
			return appendFDArg(c, dst, int64(int32(uint32(raw(c)))), sysFDBefore[nr])
		}
	default:
		p.value, p.doc = rawParam(sys, a.Name, raw)
	}
	return p
}

// rawParam renders a raw argument: by its flag table, or by what its name
// says it holds. It returns the renderer and how it renders.
func rawParam(sys, name string, raw func(*Context) uint64) (func(*Context, []byte) []byte, string) {
	if t := flags.ForArg(sys, name); t != nil {
		return func(c *Context, dst []byte) []byte { return t.Append(dst, raw(c)) }, namePattern(t)
	}
	switch {
	case dirfdArgs[name]:
		return func(c *Context, dst []byte) []byte {
			fd := int64(int32(uint32(raw(c))))
			dst = strconv.AppendInt(dst, fd, 10)
			if fd == -100 {
				dst = append(dst, "(AT_FDCWD)"...)
			}
			return dst
		}, "dirfd"
	case name == "mode" && (sys == "mknod" || sys == "mknodat"):
		// The file type is what mknod is about: 060600 is a block device.
		return func(c *Context, dst []byte) []byte { return appendMode(dst, uint32(raw(c))&0o177777) }, "octal, with the file type"
	case name == "mode":
		return func(c *Context, dst []byte) []byte { return appendMode(dst, uint32(raw(c))&0o7777) }, "octal"
	case intArgs[name]:
		return func(c *Context, dst []byte) []byte { return strconv.AppendInt(dst, int64(int32(uint32(raw(c)))), 10) }, "number"
	case idArgs[name]:
		return func(c *Context, dst []byte) []byte { return strconv.AppendUint(dst, uint64(uint32(raw(c))), 10) }, "id"
	case ptrArgs[name]:
		return func(c *Context, dst []byte) []byte { return strconv.AppendUint(append(dst, "0x"...), raw(c), 16) }, "address in hex"
	}
	return func(c *Context, dst []byte) []byte { return strconv.AppendUint(dst, raw(c), 10) }, "number"
}

// namePattern summarises the names a table renders for the docs: their
// common prefixes, as CLOSE_RANGE_* or O_*, UFFD_USER_MODE_ONLY.
func namePattern(t *flags.Table) string {
	var groups []string // the common prefix of names that share one
	var sizes []int
	for _, n := range append(append([]flags.Name{}, t.Enum...), t.Bits...) {
		found := false
		for i, g := range groups {
			if p := commonPrefix(g, n.Name); len(p) >= 2 {
				groups[i], sizes[i], found = p, sizes[i]+1, true
				break
			}
		}
		if !found {
			groups, sizes = append(groups, n.Name), append(sizes, 1)
		}
	}
	for i, g := range groups {
		if sizes[i] == 1 {
			continue
		}
		if k := strings.LastIndexByte(g, '_'); k >= 0 {
			g = g[:k+1]
		}
		groups[i] = g + "*"
	}
	return strings.Join(groups, ", ")
}

func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}
