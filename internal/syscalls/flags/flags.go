// Package flags renders syscall arguments symbolically, as Falco prints
// them: O_WRONLY|O_CREAT|O_TRUNC, AF_PACKET, PTRACE_ATTACH, SIGKILL. It
// holds the tables (facts about the Linux ABI on x86-64) and the one
// routine that reads them; which argument uses which table is in args.go.
package flags

import "strconv"

// Name is one named value or bit pattern.
type Name struct {
	Value uint64
	Name  string
}

// Table renders one kind of argument.
type Table struct {
	// EnumMask selects the bits that hold a value rather than flags: the
	// access mode of open flags, a socket's type. Enum names those
	// values. A plain enumeration has EnumMask ^0 and no Bits.
	EnumMask uint64
	Enum     []Name
	// Bits names flags in rendering order; a composite (O_SYNC includes
	// O_DSYNC) comes before its parts, which it then hides.
	Bits []Name
	// Ignore are bits left out of the rendering, such as the exit signal
	// in clone's flags.
	Ignore uint64
	// Wide tables read all 64 bits; the others only the low 32, as the
	// kernel reads an int argument whatever the upper half holds.
	Wide bool
}

// Append renders v: the enum name, then the flag names, separated by |.
// Bits no name covers are appended in hex, so that nothing is silently
// lost; an enumeration value without a name is printed in decimal; a
// value that renders as nothing is "0".
func (t *Table) Append(dst []byte, v uint64) []byte {
	if !t.Wide {
		v = uint64(uint32(v))
	}
	v &^= t.Ignore
	start := len(dst)
	if t.EnumMask != 0 {
		e := v & t.EnumMask
		if name, ok := lookup(t.Enum, e); ok {
			dst = append(dst, name...)
			v &^= t.EnumMask
		} else if t.EnumMask == ^uint64(0) {
			return strconv.AppendUint(dst, v, 10)
		}
	}
	for _, f := range t.Bits {
		if f.Value == 0 || v&f.Value != f.Value {
			continue
		}
		if len(dst) > start {
			dst = append(dst, '|')
		}
		dst, v = append(dst, f.Name...), v&^f.Value
	}
	if v != 0 {
		if len(dst) > start {
			dst = append(dst, '|')
		}
		dst = strconv.AppendUint(append(dst, "0x"...), v, 16)
	}
	if len(dst) == start {
		dst = append(dst, '0')
	}
	return dst
}

// Lookup returns the value of a name the table renders, for parsing
// symbolic values back.
func (t *Table) Lookup(name string) (uint64, bool) {
	for _, n := range t.Enum {
		if n.Name == name {
			return n.Value, true
		}
	}
	for _, n := range t.Bits {
		if n.Name == name {
			return n.Value, true
		}
	}
	return 0, false
}

func lookup(names []Name, v uint64) (string, bool) {
	for _, n := range names {
		if n.Value == v {
			return n.Name, true
		}
	}
	return "", false
}
