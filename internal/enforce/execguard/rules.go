package execguard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
)

// ScopeKind says which processes a kill rule applies to.
type ScopeKind uint8

const (
	// ScopeAny applies everywhere.
	ScopeAny ScopeKind = iota
	// ScopeHost applies to processes whose cgroup is not registered as a
	// container (see SetContainer).
	ScopeHost
	// ScopeContainers applies to processes in any registered container
	// cgroup.
	ScopeContainers
	// ScopeCgroup applies to processes in exactly one cgroup v2 id.
	ScopeCgroup
)

func (k ScopeKind) String() string {
	switch k {
	case ScopeAny:
		return "any"
	case ScopeHost:
		return "host"
	case ScopeContainers:
		return "containers"
	case ScopeCgroup:
		return "cgroup"
	}
	return fmt.Sprintf("ScopeKind(%d)", uint8(k))
}

// Scope limits a rule to part of the machine. The zero value is ScopeAny.
type Scope struct {
	Kind ScopeKind
	// CgroupID is the cgroup v2 id for ScopeCgroup (the inode number of
	// its directory); zero for the other kinds.
	CgroupID uint64
}

// KillRule denies one program: by Comm, by the executable's (Dev, Ino) as
// InodeOf reports them, or every program run from a memfd (Memfd).
// Exactly one of the three must be set.
type KillRule struct {
	// ID is reported in the KillRecord of every match.
	ID    uint32
	Scope Scope
	// Comm is the new task's comm: the basename of the exec'd path, cut to
	// 15 bytes (longer values are cut the same way).
	Comm string
	// Dev and Ino identify the executable file, robust to relative paths,
	// symlinks and renames. For scripts the kernel runs the interpreter,
	// so these are the interpreter's.
	Dev, Ino uint64
	// Memfd matches any executable that is a memfd (memfd_create, then
	// execveat or /proc/self/fd): fileless execution, which has no path
	// or lasting inode to name.
	Memfd bool
	// Audit reports a match without killing.
	Audit bool
}

// Kernel constants from bpf/execguard.h. The offsets of struct kill_key
// and struct kill_val are checked against the C header by layout_test.go.
const (
	keyKindComm  = 1
	keyKindInode = 2
	keyKindMemfd = 3
	ruleAudit    = 1
	commMax      = 15

	keyKindOff   = 0
	keyScopeOff  = 1
	keyCgroupOff = 8
	keyCommOff   = 16 // a union with dev and ino
	keyDevOff    = 16
	keyInoOff    = 24
	keySize      = 32

	valRuleOff  = 0
	valFlagsOff = 4
	valSize     = 8
)

type killKey [keySize]byte

func (r KillRule) key() (killKey, error) {
	var k killKey
	hasComm, hasInode := r.Comm != "", r.Ino != 0
	switch {
	case r.Memfd && (hasComm || hasInode || r.Dev != 0):
		return k, errors.New("sets memfd with a comm or dev/ino")
	case hasComm && (hasInode || r.Dev != 0):
		return k, errors.New("sets both comm and dev/ino")
	case !hasComm && !hasInode && !r.Memfd:
		if r.Dev != 0 {
			return k, errors.New("sets dev without ino")
		}
		return k, errors.New("sets neither comm, dev/ino nor memfd")
	}
	switch r.Scope.Kind {
	case ScopeAny, ScopeHost, ScopeContainers:
		if r.Scope.CgroupID != 0 {
			return k, fmt.Errorf("scope %s with a cgroup id", r.Scope.Kind)
		}
	case ScopeCgroup:
		if r.Scope.CgroupID == 0 {
			return k, errors.New("cgroup scope without a cgroup id")
		}
	default:
		return k, fmt.Errorf("unknown scope %s", r.Scope.Kind)
	}
	k[keyScopeOff] = byte(r.Scope.Kind) + 1 // EG_SCOPE_* start at 1
	binary.LittleEndian.PutUint64(k[keyCgroupOff:], r.Scope.CgroupID)
	if r.Memfd {
		k[keyKindOff] = keyKindMemfd
		return k, nil
	}
	if hasComm {
		if strings.ContainsAny(r.Comm, "/\x00") {
			return k, fmt.Errorf("comm %q holds '/' or NUL: an exec'd comm never does", r.Comm)
		}
		k[keyKindOff] = keyKindComm
		copy(k[keyCommOff:keyCommOff+commMax], r.Comm)
		return k, nil
	}
	k[keyKindOff] = keyKindInode
	binary.LittleEndian.PutUint64(k[keyDevOff:], r.Dev)
	binary.LittleEndian.PutUint64(k[keyInoOff:], r.Ino)
	return k, nil
}

// SetKillRules replaces the deny set. The new set is built in a fresh kernel
// map and swapped in with one update, so an exec is checked against the old
// set or the new one, never a mix. On error the old set stays in force.
func (g *Guard) SetKillRules(rules []KillRule) error {
	if len(rules) > g.cfg.MaxRules {
		return fmt.Errorf("execguard: %d kill rules, more than the %d allowed (Config.MaxRules)", len(rules), g.cfg.MaxRules)
	}
	keys := make(map[killKey]int, len(rules))
	for i, r := range rules {
		k, err := r.key()
		if err != nil {
			return fmt.Errorf("execguard: kill rule %d (id %d): %w", i, r.ID, err)
		}
		if j, dup := keys[k]; dup {
			return fmt.Errorf("execguard: kill rules %d (id %d) and %d (id %d) match the same programs in the same scope",
				j, rules[j].ID, i, r.ID)
		}
		keys[k] = i
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	zero := uint32(0)
	if len(rules) == 0 {
		if err := g.objs.Deny.Delete(&zero); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("execguard: clear deny set: %w", err)
		}
		g.rules = 0
		g.generation++
		return nil
	}
	set, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "eg_deny_set",
		Type:       ebpf.Hash,
		KeySize:    keySize,
		ValueSize:  valSize,
		MaxEntries: uint32(len(rules)),
	})
	if err != nil {
		return fmt.Errorf("execguard: create deny set: %w", err)
	}
	defer set.Close() //nolint:errcheck // only our descriptor: the outer map holds its own reference
	for k, i := range keys {
		var v [valSize]byte
		binary.LittleEndian.PutUint32(v[valRuleOff:], rules[i].ID)
		if rules[i].Audit {
			binary.LittleEndian.PutUint32(v[valFlagsOff:], ruleAudit)
		}
		if err := set.Update(k[:], v[:], ebpf.UpdateNoExist); err != nil {
			return fmt.Errorf("execguard: kill rule %d (id %d): %w", i, rules[i].ID, err)
		}
	}
	if err := g.objs.Deny.Update(&zero, set, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("execguard: swap in deny set: %w", err)
	}
	g.rules = len(rules)
	g.generation++
	return nil
}

// SetContainer registers (or, with isContainer false, forgets) a cgroup v2
// id as a container's, for ScopeHost and ScopeContainers rules.
func (g *Guard) SetContainer(cgroupID uint64, isContainer bool) error {
	if !isContainer {
		if err := g.objs.Containers.Delete(&cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("execguard: forget container cgroup %d: %w", cgroupID, err)
		}
		return nil
	}
	if err := g.objs.Containers.Update(&cgroupID, uint8(1), ebpf.UpdateAny); err != nil {
		return fmt.Errorf("execguard: register container cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// Protect exempts thread group tgid from every rule, audit rules included.
// Vigil's own process (Config.IgnorePID) is always exempt.
func (g *Guard) Protect(tgid uint32) error {
	if err := g.objs.Protected.Update(&tgid, uint8(1), ebpf.UpdateAny); err != nil {
		return fmt.Errorf("execguard: protect tgid %d: %w", tgid, err)
	}
	return nil
}

// Unprotect undoes Protect.
func (g *Guard) Unprotect(tgid uint32) error {
	if err := g.objs.Protected.Delete(&tgid); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("execguard: unprotect tgid %d: %w", tgid, err)
	}
	return nil
}
