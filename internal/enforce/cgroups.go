package enforce

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/hostfs"
)

// containerCgroups tracks which cgroup v2 ids belong to containers, for
// the kernel policies: their maps scope entries by cgroup id, and the
// kernel cannot tell a container's cgroup from a host service's by
// itself. It learns them by walking the cgroup tree (at start and then
// periodically) and from events whose cgroup it has not seen.
type containerCgroups struct {
	root string // the cgroup v2 mount

	mu    sync.Mutex
	known map[uint64]string // cgroup id -> container id ("" for host cgroups)
	pids  map[uint64]uint32 // cgroup id -> a process seen in it on an event
	dirs  map[uint64]string // cgroup id -> directory, for container cgroups found by scan
	// byContainer lists the cgroups of each container (a container may
	// have sub-cgroups below its own).
	byContainer map[string][]uint64
	onChange    []func(cgroupID uint64, containerID string, added bool)
	pending     []cgroupChange // changes to announce once mu is released
	// announce serializes announcements, so subscribers see changes in
	// order, without holding mu (they may call back into cc).
	announce sync.Mutex
}

type cgroupChange struct {
	cg    uint64
	id    string
	added bool
}

// maxCgroupDepth bounds the walk: container cgroups sit a few levels
// below the root even under Kubernetes' kubepods hierarchy.
const maxCgroupDepth = 6

func newContainerCgroups(root string) *containerCgroups {
	return &containerCgroups{root: root, known: map[uint64]string{}, dirs: map[uint64]string{}, pids: map[uint64]uint32{},
		byContainer: map[string][]uint64{}}
}

// subscribe registers fn for every container cgroup added or removed,
// and calls it at once for those already known.
func (cc *containerCgroups) subscribe(fn func(cgroupID uint64, containerID string, added bool)) {
	cc.announce.Lock()
	defer cc.announce.Unlock()
	cc.mu.Lock()
	cc.onChange = append(cc.onChange, fn)
	var now []cgroupChange
	for cg, id := range cc.known {
		if id != "" {
			now = append(now, cgroupChange{cg, id, true})
		}
	}
	cc.mu.Unlock()
	for _, ch := range now {
		fn(ch.cg, ch.id, ch.added)
	}
}

// stop drops the subscribers once no announcement is running, so that the
// mechanisms they update can be closed.
func (cc *containerCgroups) stop() {
	cc.announce.Lock()
	defer cc.announce.Unlock()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.onChange, cc.pending = nil, nil
}

// flush announces pending changes to the subscribers.
func (cc *containerCgroups) flush() {
	cc.announce.Lock()
	defer cc.announce.Unlock()
	cc.mu.Lock()
	changes, subs := cc.pending, cc.onChange
	cc.pending = nil
	cc.mu.Unlock()
	for _, ch := range changes {
		for _, fn := range subs {
			fn(ch.cg, ch.id, ch.added)
		}
	}
}

// scan walks the cgroup tree, adding container cgroups that appeared and
// removing those that are gone.
func (cc *containerCgroups) scan() {
	seen := map[uint64]string{}
	dirs := map[uint64]string{}
	err := filepath.WalkDir(cc.root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && p == cc.root:
			return err
		case err != nil:
			return nil // cgroups come and go during a walk
		case !d.IsDir():
			return nil
		}
		rel := strings.TrimPrefix(p, cc.root)
		if strings.Count(rel, "/") > maxCgroupDepth {
			return filepath.SkipDir
		}
		if m, ok := container.ParseCgroupPath(rel); ok {
			if id, ok := inodeOf(p); ok {
				seen[id], dirs[id] = m.ID, p
			}
		}
		return nil
	})
	if err != nil {
		// An unreadable root is no answer: forgetting every container
		// on it would end their enforcement until the next scan.
		return
	}
	defer cc.flush()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for cg, id := range cc.known {
		if _, ok := seen[cg]; !ok && id != "" {
			cc.removeLocked(cg, id)
		}
	}
	for cg, id := range seen {
		cc.dirs[cg] = dirs[cg]
		if old, ok := cc.known[cg]; !ok || old != id {
			cc.addLocked(cg, id)
		}
	}
}

// observe learns a cgroup seen on an event of process pid. It is cheap
// for cgroups already known, which is nearly every event.
func (cc *containerCgroups) observe(cgroupID uint64, pid uint32, info *container.Info) {
	if cgroupID == 0 {
		return
	}
	cc.mu.Lock()
	if _, ok := cc.known[cgroupID]; ok {
		cc.mu.Unlock()
		return
	}
	cc.mu.Unlock()
	defer cc.flush()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if _, ok := cc.known[cgroupID]; ok {
		return
	}
	id := ""
	if info != nil && info.ID != "host" {
		id = info.ID
	}
	if id == "" {
		cc.known[cgroupID] = ""
		return
	}
	// The subscribers reach the container's mounts through one of its
	// processes, and a cgroup learned from an event has no directory to
	// list them from: without this pid a container started after Vigil
	// would never be marked.
	cc.pids[cgroupID] = pid
	cc.addLocked(cgroupID, id)
}

// cgroupsOf returns the cgroup ids of a container (by full id or a
// prefix of at least 12 characters, as people write them).
func (cc *containerCgroups) cgroupsOf(id string) []uint64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cgs, ok := cc.byContainer[id]; ok {
		return append([]uint64(nil), cgs...)
	}
	if len(id) >= 12 {
		for full, cgs := range cc.byContainer {
			if strings.HasPrefix(full, id) {
				return append([]uint64(nil), cgs...)
			}
		}
	}
	return nil
}

// count returns how many container cgroups are known.
func (cc *containerCgroups) count() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	n := 0
	for _, cgs := range cc.byContainer {
		n += len(cgs)
	}
	return n
}

func (cc *containerCgroups) addLocked(cg uint64, id string) {
	cc.known[cg] = id
	cc.byContainer[id] = append(cc.byContainer[id], cg)
	cc.pending = append(cc.pending, cgroupChange{cg, id, true})
}

func (cc *containerCgroups) removeLocked(cg uint64, id string) {
	delete(cc.known, cg)
	delete(cc.dirs, cg)
	delete(cc.pids, cg)
	cgs := cc.byContainer[id]
	for i, c := range cgs {
		if c == cg {
			cgs = append(cgs[:i], cgs[i+1:]...)
			break
		}
	}
	if len(cgs) == 0 {
		delete(cc.byContainer, id)
	} else {
		cc.byContainer[id] = cgs
	}
	cc.pending = append(cc.pending, cgroupChange{cg, id, false})
}

// inodeOf returns a cgroup directory's inode number, which is its cgroup
// v2 id.
func inodeOf(path string) (uint64, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, false
	}
	return st.Ino, true
}

// all returns every known container cgroup.
func (cc *containerCgroups) all() []uint64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var out []uint64
	for _, cgs := range cc.byContainer {
		out = append(out, cgs...)
	}
	return out
}

// setPID remembers a process seen in a container cgroup, for cgroups
// learned from events rather than found by a scan.
func (cc *containerCgroups) setPID(cg uint64, pid uint32) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if _, ok := cc.pids[cg]; !ok && cc.known[cg] != "" {
		cc.pids[cg] = pid
	}
}

// firstPID returns a live process of cgroup cg, 0 if none is known.
func (cc *containerCgroups) firstPID(cg uint64) uint32 {
	cc.mu.Lock()
	dir, pid := cc.dirs[cg], cc.pids[cg]
	cc.mu.Unlock()
	if pid != 0 && processExists(pid) {
		return pid
	}
	if dir == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Fields(string(b)) {
		if n, err := strconv.ParseUint(line, 10, 32); err == nil && n > 0 {
			return uint32(n)
		}
	}
	return 0
}

func processExists(pid uint32) bool {
	_, err := os.Stat(hostfs.ProcPID(int(pid)))
	return err == nil
}

// lineage returns a process's parent, cgroup v2 id and task name from the
// table, or from /proc for a process the table has not caught up with (a
// child that execs or opens right after its fork).
func (e *Enforcer) lineage(pid uint32) (ppid uint32, cgroupID uint64, comm string) {
	if t := e.cfg.Detector.Env().Table; t != nil {
		if p, ok := t.Get(pid); ok {
			return p.PPID, p.CgroupID, p.Comm
		}
	}
	dir := e.cfg.ProcRoot + "/" + strconv.FormatUint(uint64(pid), 10)
	if b, err := os.ReadFile(dir + "/cgroup"); err == nil && e.cgroups != nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "0::"); ok {
				if id, ok := inodeOf(e.cgroups.root + rest); ok {
					cgroupID = id
				}
			}
		}
	}
	if st, err := readStat(e.cfg.ProcRoot, pid); err == nil {
		ppid = st.ppid
	}
	return ppid, cgroupID, ""
}
