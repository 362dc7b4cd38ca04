package baseline

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// File identity. An executable's identity is the SHA-256 of its content,
// "sha256:<hex>", so that the same binary has the same identity in every
// replica (each on its own overlay mount, with its own device and inode)
// and a binary replaced at the same path, even with the same size and
// times, does not. Hashing reads the whole file, so it is done once per
// file: results are cached by (device, inode, size, mtime, ctime), which
// changes whenever the content can have (ctime cannot be set from user
// space). A file larger than MaxHashSize gets "sha256-head:<hex>:<size>",
// the digest of its first HeadSize bytes and its size: weaker, but
// bounded. See docs/baselines.md for the measurements.

// Sizes for identities.
const (
	MaxHashSize = 256 << 20
	HeadSize    = 1 << 20
)

type fileKey struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
}

func keyOf(st *unix.Stat_t) fileKey {
	return fileKey{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}
}

// Identifier computes and caches file identities. Its methods are safe
// for concurrent use.
type Identifier struct {
	procRoot string
	shards   [16]struct {
		mu sync.RWMutex
		m  map[fileKey]string
	}
	perShard int

	jobs    chan idJob
	wg      sync.WaitGroup
	closeMu sync.RWMutex // held for reading by senders, for writing by Close
	stopped bool

	hashed, hits, queued, refused atomic.Uint64
}

type idJob struct {
	f    *os.File
	key  fileKey
	done func(id string)
}

// NewIdentifier returns an identifier that caches up to maxEntries files
// (65536 when 0) and hashes in the background on workers goroutines
// (1 when 0) from a queue of queueLen files (256 when 0). procRoot is
// where /proc is mounted ("/proc" when "").
func NewIdentifier(procRoot string, maxEntries, workers, queueLen int) *Identifier {
	if procRoot == "" {
		procRoot = "/proc"
	}
	if maxEntries <= 0 {
		maxEntries = 65536
	}
	if workers <= 0 {
		workers = 1
	}
	if queueLen <= 0 {
		queueLen = 256
	}
	id := &Identifier{procRoot: procRoot, perShard: max(maxEntries/16, 16), jobs: make(chan idJob, queueLen)}
	for i := range id.shards {
		id.shards[i].m = make(map[fileKey]string)
	}
	for range workers {
		id.wg.Add(1)
		go id.work()
	}
	return id
}

// Close stops the workers after the queued files are hashed.
func (id *Identifier) Close() {
	id.closeMu.Lock()
	if !id.stopped {
		id.stopped = true
		close(id.jobs)
	}
	id.closeMu.Unlock()
	id.wg.Wait()
}

func (id *Identifier) cached(k fileKey) (string, bool) {
	sh := &id.shards[(k.ino^k.dev)%16]
	sh.mu.RLock()
	v, ok := sh.m[k]
	sh.mu.RUnlock()
	return v, ok
}

func (id *Identifier) store(k fileKey, v string) {
	sh := &id.shards[(k.ino^k.dev)%16]
	sh.mu.Lock()
	if len(sh.m) >= id.perShard {
		sh.m = make(map[fileKey]string)
	}
	sh.m[k] = v
	sh.mu.Unlock()
}

// FromFile returns the identity of an open file, hashing it now if it
// is not cached. Pre-exec decisions use it with the file fanotify hands
// over; it takes as long as reading the file.
func (id *Identifier) FromFile(f *os.File) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", err
	}
	k := keyOf(&st)
	if v, ok := id.cached(k); ok {
		id.hits.Add(1)
		return v, nil
	}
	v, err := digest(f, st.Size)
	if err != nil {
		return "", err
	}
	id.hashed.Add(1)
	id.store(k, v)
	return v, nil
}

// IDState says how OfProcess answered.
type IDState uint8

// States.
const (
	// IDCached: the identity is known.
	IDCached IDState = iota
	// IDPending: the file is open and not hashed yet; hand the Pending to
	// Hash or Close it.
	IDPending
	// IDUnavailable: the process is gone (or its file unreadable).
	IDUnavailable
)

// Pending is an open executable waiting to be hashed.
type Pending struct {
	f   *os.File
	key fileKey
}

// Close releases a Pending that is not handed to Hash.
func (p Pending) Close() {
	if p.f != nil {
		_ = p.f.Close() // read-only: closing loses nothing
	}
}

// OfProcess returns the identity of the file process pid is running,
// through /proc/<pid>/exe (the very file, even if it was replaced or
// deleted since). A cached file costs one stat; a file not hashed yet
// comes back open, as a Pending.
func (id *Identifier) OfProcess(pid uint32) (string, Pending, IDState) {
	path := id.procRoot + "/" + strconv.FormatUint(uint64(pid), 10) + "/exe"
	// One stat answers the common case; the file is opened only when it
	// has to be read.
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", Pending{}, IDUnavailable
	}
	if v, ok := id.cached(keyOf(&st)); ok {
		id.hits.Add(1)
		return v, Pending{}, IDCached
	}
	f, err := os.Open(path)
	if err != nil {
		return "", Pending{}, IDUnavailable
	}
	// The process may have exec'd again since the stat: key the digest
	// by the file that is open.
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		_ = f.Close() // read-only: closing loses nothing
		return "", Pending{}, IDUnavailable
	}
	return "", Pending{f: f, key: keyOf(&st)}, IDPending
}

// Hash hashes a pending file on a background worker and calls done with
// its identity ("" if it could not be read) from that worker. It reports
// false, and closes the file, when the queue is full.
func (id *Identifier) Hash(p Pending, done func(id string)) bool {
	if id.submit(idJob{f: p.f, key: p.key, done: done}) {
		return true
	}
	p.Close()
	return false
}

// submit queues a job without blocking.
func (id *Identifier) submit(j idJob) bool {
	id.closeMu.RLock()
	defer id.closeMu.RUnlock()
	if id.stopped {
		return false
	}
	select {
	case id.jobs <- j:
		id.queued.Add(1)
		return true
	default:
		id.refused.Add(1)
		return false
	}
}

func (id *Identifier) work() {
	defer id.wg.Done()
	for j := range id.jobs {
		v, ok := id.cached(j.key)
		if !ok {
			var err error
			v, err = digest(j.f, j.key.size)
			if err == nil {
				id.hashed.Add(1)
				id.store(j.key, v)
			}
		}
		_ = j.f.Close() // read-only: closing loses nothing
		j.done(v)
	}
}

// digest computes a file's identity.
func digest(f *os.File, size int64) (string, error) {
	h := sha256.New()
	r := io.NewSectionReader(f, 0, min(size, MaxHashSize))
	if size > MaxHashSize {
		r = io.NewSectionReader(f, 0, HeadSize)
	}
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if size > MaxHashSize {
		return "sha256-head:" + sum + ":" + strconv.FormatInt(size, 10), nil
	}
	return "sha256:" + sum, nil
}

// IdentifierStats are an identifier's counters.
type IdentifierStats struct {
	Hashed  uint64 // files read and hashed
	Hits    uint64 // identities answered from the cache
	Queued  uint64 // files handed to the background workers
	Refused uint64 // files not hashed because the queue was full
}

// Stats returns the counters.
func (id *Identifier) Stats() IdentifierStats {
	return IdentifierStats{Hashed: id.hashed.Load(), Hits: id.hits.Load(), Queued: id.queued.Load(), Refused: id.refused.Load()}
}
