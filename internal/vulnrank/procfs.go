package vulnrank

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/hostfs"
)

// ProcOptions select and bound the processes CollectProc reads.
type ProcOptions struct {
	// Proc is the proc file system (default "/proc").
	Proc string
	// RootPID selects the target: the processes sharing this process's
	// mount namespace, i.e. those that see the same root file system. 0
	// means Vigil's own process, which is the host for `vigil scan host`.
	// For a container, its first process.
	RootPID int
	// Container, when set, is copied into the facts.
	Container *ContainerFacts
	// MaxProcesses bounds the processes read (0: 65536); the rest are
	// counted in Facts.Skipped.
	MaxProcesses int
	// MaxFileSize bounds each maps file and net table read (0: 16 MiB).
	MaxFileSize int64
	// MaxFDs bounds the descriptors looked at per process (0: 65536).
	MaxFDs int
}

func (o *ProcOptions) defaults() {
	if o.Proc == "" {
		o.Proc = hostfs.Proc()
	}
	if o.RootPID == 0 {
		o.RootPID = os.Getpid()
	}
	if o.MaxProcesses <= 0 {
		o.MaxProcesses = 65536
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 16 << 20
	}
	if o.MaxFDs <= 0 {
		o.MaxFDs = 65536
	}
}

// ProcSource is a Source reading /proc when asked.
type ProcSource struct{ Options ProcOptions }

// Facts implements Source.
func (s ProcSource) Facts(ctx context.Context) (*Facts, error) { return CollectProc(ctx, s.Options) }

// CollectProc reads the running processes of one target from /proc: the
// executable, mapped files, uid and listening sockets of every process in
// the mount namespace of opts.RootPID. Per-process problems are counted
// in Facts.Errors; only an unreadable target or a cancelled context
// fail the call.
func CollectProc(ctx context.Context, opts ProcOptions) (*Facts, error) {
	opts.defaults()
	want, err := os.Readlink(filepath.Join(opts.Proc, strconv.Itoa(opts.RootPID), "ns", "mnt"))
	if err != nil {
		return nil, fmt.Errorf("mount namespace of pid %d: %w", opts.RootPID, err)
	}
	pids, err := listPIDs(opts.Proc)
	if err != nil {
		return nil, err
	}
	c := &collector{opts: opts, nets: map[string]map[uint64]Listener{}}
	facts := &Facts{Container: opts.Container}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := filepath.Join(opts.Proc, strconv.Itoa(pid))
		ns, err := os.Readlink(filepath.Join(dir, "ns", "mnt"))
		if err != nil {
			if !os.IsNotExist(err) { // an exited process is not an error
				facts.Errors++
			}
			continue
		}
		if ns != want {
			continue
		}
		if len(facts.Processes) == opts.MaxProcesses {
			facts.Skipped++
			continue
		}
		p, errs := c.process(pid, dir)
		facts.Errors += errs
		if p != nil {
			facts.Processes = append(facts.Processes, *p)
		}
	}
	return facts, nil
}

func listPIDs(proc string) ([]int, error) {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", proc, err)
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

type collector struct {
	opts ProcOptions
	// nets caches each network namespace's listening sockets by inode:
	// the tables are per namespace, and most processes share one.
	nets map[string]map[uint64]Listener
}

// process reads one process. Kernel threads (no exe) are left out.
func (c *collector) process(pid int, dir string) (*Process, int) {
	errs := 0
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil {
		if !os.IsNotExist(err) {
			errs++
		}
		return nil, errs
	}
	p := &Process{PID: pid, Exe: strings.TrimSuffix(exe, " (deleted)")}
	if b, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
		p.Comm = strings.TrimSpace(string(b))
	}
	if uid, err := effectiveUID(filepath.Join(dir, "status")); err == nil {
		p.UID = uid
	} else {
		errs++
	}
	if data, err := c.readBounded(filepath.Join(dir, "maps")); err == nil {
		mapped, perr := parseMaps(data)
		if perr != nil {
			errs++
		}
		for _, m := range mapped {
			if m != p.Exe {
				p.Mapped = append(p.Mapped, m)
			}
		}
	} else {
		errs++
	}
	listening, err := c.netListeners(dir)
	if err != nil {
		errs++
	}
	if len(listening) > 0 {
		l, err := c.socketListeners(dir, listening)
		if err != nil {
			errs++
		}
		p.Listeners = l
	}
	return p, errs
}

// effectiveUID reads the second value of the Uid: line of status.
func effectiveUID(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			fs := strings.Fields(rest)
			if len(fs) < 2 {
				break
			}
			u, err := strconv.ParseUint(fs[1], 10, 32)
			return uint32(u), err
		}
	}
	return 0, fmt.Errorf("%s: no Uid line", path)
}

// netListeners returns the listening sockets of the process's network
// namespace, read once per namespace.
func (c *collector) netListeners(dir string) (map[uint64]Listener, error) {
	ns, err := os.Readlink(filepath.Join(dir, "ns", "net"))
	if err != nil {
		return nil, err
	}
	if m, ok := c.nets[ns]; ok {
		return m, nil
	}
	m := map[uint64]Listener{}
	var firstErr error
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := c.readBounded(filepath.Join(dir, "net", proto))
		if err != nil {
			if !os.IsNotExist(err) && firstErr == nil { // no IPv6 is fine
				firstErr = err
			}
			continue
		}
		socks, err := parseNet(data)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", proto, err)
		}
		udp := strings.HasPrefix(proto, "udp")
		for _, s := range socks {
			if (!udp && s.State == stateListen) || (udp && s.State == stateClose && s.Remote.Port() == 0) {
				m[s.Inode] = Listener{Proto: proto, Addr: s.Local}
			}
		}
	}
	c.nets[ns] = m
	return m, firstErr
}

// socketListeners matches the process's socket descriptors against the
// namespace's listening sockets.
func (c *collector) socketListeners(dir string, listening map[uint64]Listener) ([]Listener, error) {
	fdDir := filepath.Join(dir, "fd")
	f, err := os.Open(fdDir)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	names, err := f.Readdirnames(c.opts.MaxFDs)
	if err != nil && err != io.EOF {
		return nil, err
	}
	var out []Listener
	seen := map[uint64]bool{}
	for _, n := range names {
		link, err := os.Readlink(filepath.Join(fdDir, n))
		if err != nil {
			continue // closed meanwhile
		}
		inoText, ok := strings.CutPrefix(link, "socket:[")
		if !ok {
			continue
		}
		ino, err := strconv.ParseUint(strings.TrimSuffix(inoText, "]"), 10, 64)
		if err != nil || seen[ino] {
			continue
		}
		if l, ok := listening[ino]; ok {
			seen[ino] = true
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// readBounded reads a proc file up to MaxFileSize; proc files report a
// size of 0, so the bound is applied while reading.
func (c *collector) readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(f, c.opts.MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if n > c.opts.MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, c.opts.MaxFileSize)
	}
	return buf.Bytes(), nil
}
