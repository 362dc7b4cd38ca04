package execguard

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// encodePending lays e out as the kernel does (struct pending_exec).
func encodePending(e Exec) []byte {
	b := make([]byte, pendingSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], e.KtimeNS)
	le.PutUint32(b[8:], uint32(e.Dirfd))
	le.PutUint32(b[12:], e.Flags)
	le.PutUint32(b[16:], e.Syscall)
	le.PutUint16(b[20:], uint16(copy(b[pendingHeaderSize:pendingHeaderSize+filenameMax-1], e.Filename)))
	args := b[pendingHeaderSize+filenameMax:]
	n := 0
	for _, a := range e.Argv {
		n += copy(args[n:], a) + 1
	}
	le.PutUint16(b[22:], uint16(n))
	le.PutUint16(b[24:], uint16(len(e.Argv)))
	if e.Truncated {
		le.PutUint16(b[26:], pendingTruncated)
	}
	return b
}

// encodeKillRecord lays r out as the kernel does (struct kill_record).
func encodeKillRecord(r KillRecord) []byte {
	b := make([]byte, recordHeaderSize+len(r.Filename))
	le := binary.LittleEndian
	le.PutUint64(b[0:], r.KtimeNS)
	le.PutUint64(b[8:], r.CgroupID)
	le.PutUint64(b[16:], r.Dev)
	le.PutUint64(b[24:], r.Ino)
	for i, v := range []uint32{r.PID, r.TGID, r.PPID, r.UID, r.EUID, r.RuleID} {
		le.PutUint32(b[32+4*i:], v)
	}
	var flags uint32
	if r.Audit {
		flags |= recAudit
	}
	if r.SignalFailed {
		flags |= recSignalErr
	}
	if r.Memfd {
		flags |= recMemfd
	}
	le.PutUint32(b[56:], flags)
	le.PutUint16(b[60:], uint16(len(r.Filename)))
	copy(b[64:80], r.Comm)
	copy(b[80:], r.Filename)
	return b
}

var pendingSeeds = []Exec{
	{Filename: "/usr/bin/curl", Argv: []string{"curl", "", "-s", "http://127.0.0.1/"}, Dirfd: -100, Syscall: 59, KtimeNS: 123},
	{Filename: "", Argv: []string{"x"}, Dirfd: 3, Flags: 0x1000, Syscall: 322, KtimeNS: 1},
	{Filename: "./rel", Argv: nil, Dirfd: -100, Syscall: 59, Truncated: true},
	{Filename: strings.Repeat("p", filenameMax-1), Argv: []string{strings.Repeat("a", argsMax-1)}, Syscall: 59, Truncated: true},
}

func TestPendingRoundTrip(t *testing.T) {
	for _, e := range pendingSeeds {
		for _, b := range [][]byte{encodePending(e), expandPending(compactPending(e))} {
			got, err := decodePending(b)
			if err != nil {
				t.Fatalf("%q: %v", e.Filename, err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("round trip\n got %+v\nwant %+v", summary(got), summary(e))
			}
		}
	}
	bad := map[string][]byte{
		"short":          make([]byte, 31),
		"argc no bytes":  withPendingField(encodePending(Exec{}), 24, 2),
		"argc too many":  withPendingField(encodePending(Exec{Argv: []string{"a"}}), 24, 2),
		"argv len":       withPendingField(encodePending(Exec{}), 22, argsMax+1),
		"filename len":   withPendingField(encodePending(Exec{}), 20, filenameMax),
		"truncated blob": encodePending(Exec{Argv: []string{"a"}})[:pendingHeaderSize+filenameMax+1],
	}
	for name, b := range bad {
		if _, err := decodePending(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func withPendingField(b []byte, off int, v uint16) []byte {
	binary.LittleEndian.PutUint16(b[off:], v)
	return b
}

// compactPending is encodePending without the unused tails of the filename
// and argv areas: header, filename bytes, argv bytes. Full-size values make
// the fuzzer spend its time minimizing 8 KiB inputs.
func compactPending(e Exec) []byte {
	full := encodePending(e)
	le := binary.LittleEndian
	fl, al := int(le.Uint16(full[20:])), int(le.Uint16(full[22:]))
	out := append([]byte{}, full[:pendingHeaderSize+fl]...)
	return append(out, full[pendingHeaderSize+filenameMax:][:al]...)
}

// expandPending undoes compactPending for any input: the header's
// filename length (bounded by what is there) splits the rest into the
// filename and argv areas of a kernel-sized value.
func expandPending(b []byte) []byte {
	full := make([]byte, pendingSize)
	copy(full, b[:min(len(b), pendingHeaderSize)])
	if len(b) <= pendingHeaderSize {
		return full
	}
	rest := b[pendingHeaderSize:]
	fl := min(int(binary.LittleEndian.Uint16(full[20:])), filenameMax, len(rest))
	copy(full[pendingHeaderSize:], rest[:fl])
	copy(full[pendingHeaderSize+filenameMax:], rest[fl:])
	return full
}

func FuzzDecodePending(f *testing.F) {
	for _, e := range pendingSeeds {
		f.Add(compactPending(e))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > pendingSize {
			return // kernel values are exactly pendingSize; longer adds nothing
		}
		for _, in := range [][]byte{b, expandPending(b)} {
			e, err := decodePending(in)
			if err != nil {
				continue
			}
			if len(e.Filename) >= filenameMax || len(e.Argv) > argcMax {
				t.Fatalf("decoded past the bounds: %d-byte filename, %d args", len(e.Filename), len(e.Argv))
			}
			again, err := decodePending(encodePending(e))
			if err != nil || !reflect.DeepEqual(again, e) {
				t.Fatalf("re-encoding changed %+v into %+v (%v)", summary(e), summary(again), err)
			}
		}
	})
}

var recordSeeds = []KillRecord{
	{KtimeNS: 9, PID: 10, TGID: 10, PPID: 1, Comm: "nc", CgroupID: 4242, Filename: "/usr/bin/nc", Dev: 2049, Ino: 77, RuleID: 5},
	{PID: 1, TGID: 1, Comm: "0123456789abcde", Filename: "", Audit: true},
	{Comm: "x", Filename: "/dev/fd/3", SignalFailed: true, UID: 1000, EUID: 0},
	{Comm: "3", Filename: "/dev/fd/3", Memfd: true, RuleID: 21},
}

func TestKillRecordRoundTrip(t *testing.T) {
	for _, r := range recordSeeds {
		got, err := decodeKillRecord(encodeKillRecord(r))
		if err != nil || got != r {
			t.Errorf("round trip of %+v: %+v, %v", r, got, err)
		}
	}
	long := encodeKillRecord(KillRecord{Filename: "abc"})
	for name, b := range map[string][]byte{"short": long[:79], "filename past end": long[:82]} {
		if _, err := decodeKillRecord(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func FuzzDecodeKillRecord(f *testing.F) {
	for _, r := range recordSeeds {
		f.Add(encodeKillRecord(r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeKillRecord(b)
		if err != nil {
			return
		}
		if len(r.Comm) > 16 || strings.IndexByte(r.Comm, 0) >= 0 || len(r.Filename) >= filenameMax {
			t.Fatalf("decoded past the bounds: %+v", r)
		}
		again, err := decodeKillRecord(encodeKillRecord(r))
		if err != nil || again != r {
			t.Fatalf("re-encoding changed %+v into %+v (%v)", r, again, err)
		}
	})
}
