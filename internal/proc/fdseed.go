package proc

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// Seeding fds: /proc/<pid>/fd links name what each fd refers to,
// /proc/<pid>/fdinfo/<fd> gives its flags (close-on-exec among them), and
// sockets, which link to socket:[INODE], are looked up by inode in the
// socket tables of the process's network namespace.

// maxSeedLink bounds a link read; paths longer than PATH_MAX do not exist.
const maxSeedLink = 4096

// readFDs reads pid's fds from dir (/proc/<pid>). A process that vanished
// or hides its fds gives an empty set: the table then learns its fds from
// events, like those of a process first seen at exec.
func (s *seeder) readFDs(dir string) fdSet {
	d, err := os.Open(dir + "/fd")
	if err != nil {
		if !vanished(err) && !os.IsPermission(err) {
			s.errs++
		}
		return fdSet{}
	}
	names, err := d.Readdirnames(-1)
	_ = d.Close() // read-only: closing loses nothing
	if err != nil {
		return fdSet{}
	}
	var set fdSet
	var nets *netTables
	for _, name := range names {
		n, err := strconv.ParseUint(name, 10, 31)
		if err != nil {
			continue
		}
		fd := int32(n)
		if set.n >= MaxFDsPerProcess {
			s.dropped++
			continue
		}
		link, err := os.Readlink(dir + "/fd/" + name)
		if err != nil || len(link) > maxSeedLink {
			continue // closed since the listing
		}
		flags := s.fdFlags(dir + "/fdinfo/" + name)
		e := fdFromLink(link, flags)
		if ino, ok := bracketed(link, "socket:["); ok {
			if nets == nil {
				nets = s.netsOf(dir)
			}
			e = nets.lookup(ino, link)
		}
		e.Flags |= FDFromProc
		set = set.with(fd, e, flags&oCloexec != 0)
	}
	return set
}

// fdFlags reads the flags line of an fdinfo file, 0 if unreadable.
func (s *seeder) fdFlags(path string) uint64 {
	b, err := s.file(path, maxSmallFile)
	if err != nil {
		return 0
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if v, ok := bytes.CutPrefix(line, []byte("flags:")); ok {
			return parseOctal(trimSpace(v))
		}
	}
	return 0
}

// parseOctal parses the octal flags fdinfo prints, 0 if malformed.
func parseOctal(b []byte) uint64 {
	var v uint64
	if len(b) == 0 || len(b) > 21 {
		return 0
	}
	for _, c := range b {
		if c < '0' || c > '7' {
			return 0
		}
		v = v<<3 | uint64(c-'0')
	}
	return v
}

// bracketed extracts N from PREFIXN], as in socket:[123] and pipe:[123].
func bracketed(link, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(link, prefix)
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(num, 10, 64)
	return v, err == nil
}

// anonTypes maps the names of anonymous inodes, as fd links show them
// after "anon_inode:", to fd types.
var anonTypes = map[string]FDType{
	"[eventfd]": FDEvent, "[signalfd]": FDSignalfd, "[timerfd]": FDTimerfd,
	"inotify": FDInotify, "[eventpoll]": FDEventpoll, "[userfaultfd]": FDUserfaultfd,
	"[io_uring]": FDIOUring, "[pidfd]": FDPidfd,
	"bpf-map": FDBPF, "bpf-prog": FDBPF, "bpf_link": FDBPF, "bpf-link": FDBPF,
	"btf": FDBPF, "bpf_iter": FDBPF, "bpf-token": FDBPF, "bpf": FDBPF,
}

// fdFromLink describes an fd from the target of its /proc link and its
// open flags. Sockets are refined by the caller.
func fdFromLink(link string, flags uint64) *FD {
	switch {
	case strings.HasPrefix(link, "/memfd:"):
		name := strings.TrimSuffix(strings.TrimPrefix(link, "/"), " (deleted)")
		return &FD{Type: FDMemfd, Name: name}
	case strings.HasPrefix(link, "/"):
		if flags&oDirectory != 0 {
			return &FD{Type: FDDirectory, Name: link}
		}
		return &FD{Type: FDFile, Name: link}
	case strings.HasPrefix(link, "pipe:["):
		ino, _ := bracketed(link, "pipe:[")
		return &FD{Type: FDPipe, Name: link, Ino: ino}
	case strings.HasPrefix(link, "pidfd:"):
		return &FD{Type: FDPidfd, Name: link}
	}
	if kind, ok := strings.CutPrefix(link, "anon_inode:"); ok {
		return &FD{Type: anonTypes[kind], Name: link}
	}
	return &FD{Type: FDUnknown, Name: link} // namespaces, sockets until refined
}
