package fanguard

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Kind says which operation a permission event asks about.
type Kind uint8

const (
	// Exec is an execve (or uselib) opening a file on an exec-watched mount.
	Exec Kind = iota
	// Open is an open of a file watched with WatchOpen.
	Open
)

// String names the kind as it appears in reports and metrics.
func (k Kind) String() string {
	switch k {
	case Exec:
		return "exec"
	case Open:
		return "open"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Request is one permission event, as handed to the Decider.
//
// The original open flags are not part of it: fanotify reports only the
// event's file, opened again for us with our own flags.
type Request struct {
	Kind Kind
	// PID is the thread-group id of the process asking; TID the thread.
	// Without FAN_REPORT_TID support TID equals PID.
	PID, TID uint32
	// Path is the file as our mount namespace names it (readlink of the
	// event fd). A file in another mount namespace whose mount is not
	// reachable from ours is named relative to its own mount's root. A
	// deleted file ends in " (deleted)", as the kernel prints it.
	Path string
	// Dev, Ino, Mode, UID, GID, Size, Mtime and Ctime come from fstat of the
	// event fd: the exact file, whatever its path.
	Dev, Ino     uint64
	Mode         uint32
	UID, GID     uint32
	Size         int64
	Mtime, Ctime time.Time
	// Received is when the listener read the event from the kernel.
	Received time.Time
}

// rawEvent is one fanotify_event_metadata record.
type rawEvent struct {
	mask uint64
	fd   int32
	pid  int32
}

// metadataLen is sizeof(struct fanotify_event_metadata).
const metadataLen = unix.FAN_EVENT_METADATA_LEN

// nextEvent parses the record at the start of buf and returns it with the
// rest of the buffer. Info records between metadata_len and event_len (added
// by newer reporting flags) are skipped. An error means the buffer cannot be
// walked any further; it names the offset of the bad record.
func nextEvent(buf []byte, offset int) (rawEvent, []byte, error) {
	if len(buf) < metadataLen {
		return rawEvent{}, nil, fmt.Errorf("fanguard: event at offset %d: %d bytes left, a record needs %d", offset, len(buf), metadataLen)
	}
	eventLen := binary.NativeEndian.Uint32(buf[0:4])
	vers := buf[4]
	metaLen := binary.NativeEndian.Uint16(buf[6:8])
	if vers != unix.FANOTIFY_METADATA_VERSION {
		return rawEvent{}, nil, fmt.Errorf("fanguard: event at offset %d: metadata version %d, this build reads %d", offset, vers, unix.FANOTIFY_METADATA_VERSION)
	}
	if int(metaLen) < metadataLen {
		return rawEvent{}, nil, fmt.Errorf("fanguard: event at offset %d: metadata_len %d is shorter than %d", offset, metaLen, metadataLen)
	}
	if eventLen < uint32(metaLen) || uint64(eventLen) > uint64(len(buf)) {
		return rawEvent{}, nil, fmt.Errorf("fanguard: event at offset %d: event_len %d outside [%d, %d]", offset, eventLen, metaLen, len(buf))
	}
	ev := rawEvent{
		mask: binary.NativeEndian.Uint64(buf[8:16]),
		fd:   int32(binary.NativeEndian.Uint32(buf[16:20])),
		pid:  int32(binary.NativeEndian.Uint32(buf[20:24])),
	}
	return ev, buf[eventLen:], nil
}

// kindOf maps a permission mask to its Kind. An exec that also matches an
// open mark arrives as two events (the kernel asks about exec first), so a
// mask with both bits is treated as the exec.
func kindOf(mask uint64) (Kind, bool) {
	switch {
	case mask&unix.FAN_OPEN_EXEC_PERM != 0:
		return Exec, true
	case mask&unix.FAN_OPEN_PERM != 0:
		return Open, true
	}
	return 0, false
}
