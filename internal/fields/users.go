package fields

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Users resolves user and group ids to names from passwd and group files.
// Lookups are lock-free reads of an immutable map; a lookup that misses
// re-reads a file if it changed, at most once per RecheckEvery, so that
// users created after start are found without letting a flood of unknown
// ids turn into a flood of file reads. Safe for concurrent use.
type Users struct {
	users  idFile
	groups idFile
}

// RecheckEvery bounds how often a miss may re-read a file.
const RecheckEvery = time.Second

// NewUsers returns a resolver for the given passwd and group files
// (usually /etc/passwd and /etc/group). Files that cannot be read resolve
// nothing; that is not an error, as containers and minimal hosts may lack
// them.
func NewUsers(passwdPath, groupPath string) *Users {
	u := &Users{users: idFile{path: passwdPath}, groups: idFile{path: groupPath}}
	u.users.reload(true)
	u.groups.reload(true)
	return u
}

// User returns the name of uid.
func (u *Users) User(uid uint32) (string, bool) { return u.users.lookup(uid) }

// Group returns the name of gid.
func (u *Users) Group(gid uint32) (string, bool) { return u.groups.lookup(gid) }

// idFile is one colon-separated file whose first field is a name and
// third an id, which is the layout of both passwd and group.
type idFile struct {
	path      string
	names     atomic.Pointer[map[uint32]string]
	nextCheck atomic.Int64 // unix nanoseconds before which a miss does not re-read

	mu   sync.Mutex // serializes reloads
	stat fileStamp
}

type fileStamp struct {
	mtime time.Time
	size  int64
}

func (f *idFile) lookup(id uint32) (string, bool) {
	if m := f.names.Load(); m != nil {
		if name, ok := (*m)[id]; ok {
			return name, true
		}
	}
	now := time.Now().UnixNano()
	next := f.nextCheck.Load()
	if now < next || !f.nextCheck.CompareAndSwap(next, now+int64(RecheckEvery)) {
		return "", false
	}
	if !f.reload(false) {
		return "", false
	}
	name, ok := (*f.names.Load())[id]
	return name, ok
}

// reload reads the file if it changed since the last read (or always,
// with force) and reports whether it did.
func (f *idFile) reload(force bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil {
		if f.names.Load() == nil {
			f.names.Store(&map[uint32]string{})
		}
		return false
	}
	stamp := fileStamp{mtime: st.ModTime(), size: st.Size()}
	if !force && stamp == f.stat {
		return false
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false
	}
	m := parseIDFile(data)
	f.names.Store(&m)
	f.stat = stamp
	return true
}

// parseIDFile reads name:x:id:... lines. Malformed lines are skipped: the
// file belongs to the system, and one bad line must not hide the rest.
// The first name for an id wins, as getpwuid's does.
func parseIDFile(data []byte) map[uint32]string {
	m := map[uint32]string{}
	// Split by hand, not with a bufio.Scanner: a line longer than its
	// buffer would stop it, and hide every line after.
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		parts := bytes.SplitN(line, []byte{':'}, 4)
		if len(parts) < 3 || len(parts[0]) == 0 {
			continue
		}
		id, err := strconv.ParseUint(string(parts[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, dup := m[uint32(id)]; !dup {
			m[uint32(id)] = string(parts[0])
		}
	}
	return m
}

// StaticUsers returns a resolver that knows exactly the given names and
// never reads a file: for rule tests, whose synthetic processes run as
// users the host may not have.
func StaticUsers(users, groups map[uint32]string) *Users {
	u := &Users{}
	u.users.names.Store(&users)
	u.groups.names.Store(&groups)
	// No file to re-read: push the next check out of reach.
	u.users.nextCheck.Store(math.MaxInt64)
	u.groups.nextCheck.Store(math.MaxInt64)
	return u
}
