package proc

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/event"
)

// Size limits for /proc reads. maxSeedArgs matches what the tracer is
// expected to capture, so a seeded entry is no heavier than an exec'd one.
const (
	maxStatFile   = 4 << 10
	maxStatusFile = 16 << 10
	maxSeedArgs   = 4 << 10
	maxSmallFile  = 4 << 10
)

// Seed adds an entry for every process under procRoot (normally "/proc")
// that the table does not know yet; entries that events already created are
// fresher and are left alone. Processes that exit during the scan are
// skipped silently; other read errors are counted in Stats().SeedErrors and
// leave the affected fields empty. Only failing to list procRoot is
// returned as an error.
func (t *Table) Seed(procRoot string) error {
	pids, err := listPIDs(procRoot)
	if err != nil {
		return err
	}
	s := seeder{root: procRoot, off: bootOffset(), cgroups: newCgroupResolver(procRoot), noFDs: t.noFDs.Load()}
	for _, pid := range pids {
		p, err := s.read(pid)
		t.seedErrors.Add(s.errs)
		t.fdDropped.Add(s.dropped)
		s.errs, s.dropped = 0, 0
		if err != nil {
			if !vanished(err) {
				t.seedErrors.Add(1)
			}
			continue
		}
		t.insertSeeded(p)
	}
	return nil
}

func (t *Table) insertSeeded(p Process) {
	sh := t.shard(p.PID)
	sh.mu.Lock()
	if _, ok := sh.lockedGet(p.PID); !ok {
		p.Serial = sh.nextSerial()
		sh.put(&p)
		t.seeded.Add(1)
	}
	sh.mu.Unlock()
}

// seeder reads processes from /proc with one reusable buffer.
type seeder struct {
	root    string
	off     int64
	cgroups *cgroupResolver
	buf     []byte
	errs    uint64                // non-fatal errors for the process being read
	dropped uint64                // fds beyond MaxFDsPerProcess
	nets    map[string]*netTables // socket tables by network namespace
	noFDs   bool                  // fd tracking is off: give processes empty tables
}

// read builds the entry for one pid. It fails only if the process vanished
// or its stat line is unusable; lesser problems are counted in s.errs.
func (s *seeder) read(pid uint32) (Process, error) {
	dir := pidDir(s.root, pid)
	b, err := s.file(dir+"/stat", maxStatFile)
	if err != nil {
		return Process{}, err
	}
	st, err := parseStat(b)
	if err != nil {
		return Process{}, err
	}
	if st.PID != pid {
		return Process{}, errBadStat
	}
	img := &Image{
		Comm:     string(st.Comm), // replaced by /proc/<pid>/comm below when readable
		LoginUID: NoLoginUID,
		TTY:      st.TTY,
		SID:      st.SID,
		PGID:     st.PGID,
	}
	p := Process{
		PID:       pid,
		PPID:      st.PPID,
		StartTime: monotonicStart(st.StartTicks, s.off),
		Seeded:    true,
		Image:     img,
	}

	if b, err = s.file(dir+"/comm", maxSmallFile); err == nil {
		img.Comm = string(bytes.TrimSuffix(b, []byte("\n")))
	} else if s.gone(err) {
		return Process{}, err
	}

	if b, err = s.file(dir+"/status", maxStatusFile); err == nil {
		st, ok := parseStatus(b)
		if !ok {
			s.errs++
		}
		img.UID, img.EUID, img.GID, img.EGID = st.UID, st.EUID, st.GID, st.EGID
		img.CapEffective, img.CapPermitted = st.CapEffective, st.CapPermitted
	} else if s.gone(err) {
		return Process{}, err
	}

	var truncated bool
	if b, truncated, err = readFile(s.buf, dir+"/cmdline", maxSeedArgs); err == nil {
		s.buf = b
		img.Args = string(bytes.TrimSuffix(b, []byte{0}))
		if truncated {
			img.Flags |= event.ExecArgsTruncated
		}
	} else if s.gone(err) {
		return Process{}, err
	}

	s.readLoaderEnv(dir, img)

	// Kernel threads and zombies have no exe or cwd: ENOENT there is an
	// answer, not an error.
	img.Exe = s.link(dir + "/exe")
	if strings.HasPrefix(img.Exe, "/memfd:") {
		img.Flags |= event.ExecFromMemfd
	}
	img.Cwd = s.link(dir + "/cwd")
	img.MntNS = nsInode(s.link(dir + "/ns/mnt"))

	if b, err = s.file(dir+"/loginuid", maxSmallFile); err == nil {
		if v, ok := parseUint32(trimSpace(b)); ok {
			img.LoginUID = v
			img.Flags |= event.ExecLoginUIDSet
		} else {
			s.errs++
		}
	} else if !vanished(err) {
		s.errs++ // absent without CONFIG_AUDIT; anything else is odd
	}

	// The cgroup id is best effort: unknown is a valid answer.
	if b, err = s.file(dir+"/cgroup", maxStatusFile); err == nil {
		p.CgroupID = s.cgroups.id(b)
	}
	if s.noFDs {
		p.Files = newFiles(fdSet{}, 0)
	} else {
		p.Files = newFiles(s.readFDs(dir), 0)
	}
	return p, nil
}

// file reads a whole /proc file into the shared buffer.
func (s *seeder) file(path string, limit int) ([]byte, error) {
	b, _, err := readFile(s.buf, path, limit)
	s.buf = b
	return b, err
}

// gone reports whether err means the process vanished, counting it as a
// seed error otherwise. A process that is still there but unreadable keeps
// its entry with the field left empty.
func (s *seeder) gone(err error) bool {
	if vanished(err) {
		return true
	}
	s.errs++
	return false
}

// link reads a symlink, returning "" if it does not exist.
func (s *seeder) link(path string) string {
	target, err := os.Readlink(path)
	if err != nil {
		if !vanished(err) {
			s.errs++
		}
		return ""
	}
	return target
}

// nsInode extracts the inode from a namespace link such as "mnt:[4026531841]".
func nsInode(link string) uint32 {
	_, inner, ok := strings.Cut(link, "[")
	inner, ok2 := strings.CutSuffix(inner, "]")
	if !ok || !ok2 {
		return 0
	}
	v, err := strconv.ParseUint(inner, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(v)
}
