package fanguard

import (
	"bytes"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/hostfs"
)

// threadGroupOf returns the thread-group id of thread tid. pidfd_open
// refuses threads that do not lead their group (EINVAL before 6.9, ENOENT
// after), so one cheap syscall settles the common case (single-threaded
// exec'ing processes); only other threads pay for reading
// /proc/<tid>/status. A thread that is gone reports itself.
func threadGroupOf(tid uint32) uint32 {
	fd, err := unix.PidfdOpen(int(tid), 0)
	if err == nil {
		unix.Close(fd)
		return tid
	}
	if err == unix.ESRCH {
		return tid
	}
	if tgid, ok := statusTgid(tid); ok {
		return tgid
	}
	return tid
}

// statusTgid reads the Tgid line of /proc/<tid>/status; it sits in the first
// few lines, so one small read is enough.
func statusTgid(tid uint32) (uint32, bool) {
	var pathBuf [128]byte
	path := strconv.AppendUint(append(append(pathBuf[:0], hostfs.Proc()...), '/'), uint64(tid), 10)
	path = append(path, "/status"...)
	fd, err := unix.Open(string(path), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	var buf [512]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil || n <= 0 {
		return 0, false
	}
	return parseTgid(buf[:n])
}

func parseTgid(status []byte) (uint32, bool) {
	i := bytes.Index(status, []byte("\nTgid:"))
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(status[i+len("\nTgid:"):], " \t")
	end := bytes.IndexByte(rest, '\n')
	if end < 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(rest[:end]), 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// fdPath names the file behind our fd through /proc/self/fd.
func fdPath(fd int32) string {
	var pathBuf [40]byte
	link := strconv.AppendInt(append(pathBuf[:0], "/proc/self/fd/"...), int64(fd), 10)
	var buf [unix.PathMax]byte
	n, err := unix.Readlink(string(link), buf[:])
	if err != nil || n <= 0 {
		return ""
	}
	return string(buf[:n])
}
