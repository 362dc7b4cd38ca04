package execguard

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
)

// Layout of struct kill_record in bpf/execguard.h (checked against the C
// header by layout_test.go).
const (
	recKtimeOff       = 0
	recCgroupOff      = 8
	recDevOff         = 16
	recInoOff         = 24
	recPIDOff         = 32
	recTGIDOff        = 36
	recPPIDOff        = 40
	recUIDOff         = 44
	recEUIDOff        = 48
	recRuleOff        = 52
	recFlagsOff       = 56
	recFilenameLenOff = 60
	recCommOff        = 64
	recordHeaderSize  = 80 // the filename follows
	commLen           = 16 // TASK_COMM_LEN

	recAudit     = 1
	recSignalErr = 2
	recMemfd     = 4
)

// KillRecord reports one exec that matched the deny set.
type KillRecord struct {
	KtimeNS uint64 // CLOCK_MONOTONIC at the check
	PID     uint32 // thread id (after exec, the thread group leader's)
	TGID    uint32
	PPID    uint32 // the real parent's tgid
	UID     uint32 // real uid of the new image's credentials
	EUID    uint32 // effective uid (set-uid applied)
	Comm    string // the new comm
	// CgroupID is the task's cgroup v2 id.
	CgroupID uint64
	// Filename is the path the exec was asked for (bprm->filename), e.g.
	// relative or through a symlink, or /dev/fd/N for execveat on an fd.
	Filename string
	// Dev and Ino identify the executed file, as InodeOf reports them.
	Dev, Ino uint64
	RuleID   uint32
	// Audit is set when the rule only reports: the process runs on.
	Audit bool
	// SignalFailed is set when bpf_send_signal refused; the process runs on.
	SignalFailed bool
	// Memfd is set when the executable is a memfd (fileless execution).
	Memfd bool
}

// Killed reports whether the process was killed.
func (r KillRecord) Killed() bool { return !r.Audit && !r.SignalFailed }

// decodeKillRecord parses one ring-buffer record.
func decodeKillRecord(b []byte) (KillRecord, error) {
	if len(b) < recordHeaderSize {
		return KillRecord{}, fmt.Errorf("execguard: kill record of %d bytes, shorter than its %d-byte header", len(b), recordHeaderSize)
	}
	le := binary.LittleEndian
	r := KillRecord{
		KtimeNS:  le.Uint64(b[recKtimeOff:]),
		CgroupID: le.Uint64(b[recCgroupOff:]),
		Dev:      le.Uint64(b[recDevOff:]),
		Ino:      le.Uint64(b[recInoOff:]),
		PID:      le.Uint32(b[recPIDOff:]),
		TGID:     le.Uint32(b[recTGIDOff:]),
		PPID:     le.Uint32(b[recPPIDOff:]),
		UID:      le.Uint32(b[recUIDOff:]),
		EUID:     le.Uint32(b[recEUIDOff:]),
		RuleID:   le.Uint32(b[recRuleOff:]),
	}
	flags := le.Uint32(b[recFlagsOff:])
	r.Audit = flags&recAudit != 0
	r.SignalFailed = flags&recSignalErr != 0
	r.Memfd = flags&recMemfd != 0
	n := int(le.Uint16(b[recFilenameLenOff:]))
	comm := b[recCommOff : recCommOff+commLen]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	r.Comm = string(comm)
	if n >= filenameMax || recordHeaderSize+n > len(b) {
		return KillRecord{}, fmt.Errorf("execguard: kill record filename length %d past the %d bytes present", n, len(b)-recordHeaderSize)
	}
	r.Filename = string(b[recordHeaderSize : recordHeaderSize+n])
	return r, nil
}

// Run reads kill records until ctx is done or the guard is closed, calling
// fn for each on Run's goroutine. A slow fn backs records up in the ring
// buffer; the kernel counts those it cannot store (Stats.RingDrops). Run
// must not be called twice.
func (g *Guard) Run(ctx context.Context, fn func(KillRecord)) error {
	err := g.ring.Run(ctx, func(b []byte) {
		if r, err := decodeKillRecord(b); err != nil {
			g.decodeErrors.Add(1)
		} else {
			fn(r)
		}
		g.received.Add(1) // after fn, so Received says the record was handled
	}, nil)
	if err != nil {
		return fmt.Errorf("execguard: %w", err)
	}
	return nil
}
