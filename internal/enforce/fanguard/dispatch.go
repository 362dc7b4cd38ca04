package fanguard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// pending is an event handed to the workers. Whoever flips answered first
// (worker, deadline timer, Close) writes the one response and closes the fd.
type pending struct {
	req       Request
	fd        int32
	key       cacheKey
	cacheable bool // key is valid: the cache is on and Scope did not fail
	gen       uint64
	answered  atomic.Bool
	timer     *time.Timer
}

func (p *pending) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

// answerHow says what answered an event, for the counters.
type answerHow uint8

const (
	answerProtected answerHow = iota
	answerCache
	answerDecided
	answerFailure
	answerClosing
)

// handle answers or dispatches one record. It runs on the reader.
func (g *Guard) handle(ev rawEvent, received time.Time) {
	if ev.mask&unix.FAN_Q_OVERFLOW != 0 {
		g.stats.overflows.Add(1)
		g.reportFailure(Failure{Reason: KernelOverflow, Allowed: true})
		if ev.fd >= 0 {
			unix.Close(int(ev.fd))
		}
		return
	}
	if ev.fd < 0 {
		g.stats.ignored.Add(1)
		return
	}
	kind, ok := kindOf(ev.mask)
	if !ok {
		// Not a permission event: nothing waits for an answer.
		g.stats.ignored.Add(1)
		unix.Close(int(ev.fd))
		return
	}
	if kind == Exec {
		g.stats.execEvents.Add(1)
	} else {
		g.stats.openEvents.Add(1)
	}

	tid := uint32(ev.pid)
	tgid := tid
	if g.reportTID {
		tgid = threadGroupOf(tid)
	}
	if g.closing.Load() {
		g.respond(ev.fd, true, received, answerClosing)
		return
	}
	if g.isProtected(tgid) {
		g.respond(ev.fd, true, received, answerProtected)
		return
	}

	p := &pending{fd: ev.fd, req: Request{Kind: kind, PID: tgid, TID: tid, Received: received}}
	var st unix.Stat_t
	if err := unix.Fstat(int(ev.fd), &st); err != nil {
		p.req.Path = fdPath(ev.fd)
		g.failEvent(p, StatError, err)
		return
	}
	fillStat(&p.req, &st)

	if g.cache != nil {
		if scope, ok := g.scopeOf(tgid); ok {
			p.key = cacheKey{kind: kind, dev: p.req.Dev, ino: p.req.Ino,
				mtime: p.req.Mtime.UnixNano(), ctime: p.req.Ctime.UnixNano(), scope: scope}
			p.cacheable = true
			p.gen = g.cache.generation()
			if allow, hit := g.cache.get(p.key, received); hit {
				g.respond(ev.fd, allow, received, answerCache)
				return
			}
		}
	}

	p.req.Path = fdPath(ev.fd)
	g.inflightMu.Lock()
	g.inflight[p] = struct{}{}
	g.inflightMu.Unlock()
	// The deadline runs from the read, so time spent queued counts.
	p.timer = time.AfterFunc(g.cfg.Timeout-time.Since(received), func() { g.expire(p) })
	select {
	case g.queue <- p:
	default:
		p.timer.Stop()
		g.stats.queueDrops.Add(1)
		g.failEvent(p, QueueFull, nil)
	}
}

func fillStat(r *Request, st *unix.Stat_t) {
	r.Dev, r.Ino = st.Dev, st.Ino
	r.Mode, r.UID, r.GID, r.Size = st.Mode, st.Uid, st.Gid, st.Size
	r.Mtime = time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
	r.Ctime = time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
}

// scopeOf calls Config.Scope, treating a panic as "no scope known": the
// event then skips the cache rather than share another scope's verdict.
func (g *Guard) scopeOf(tgid uint32) (scope uint64, ok bool) {
	if g.cfg.Scope == nil {
		return 0, true
	}
	defer func() {
		if recover() != nil {
			g.stats.scopePanics.Add(1)
			scope, ok = 0, false
		}
	}()
	return g.cfg.Scope(tgid), true
}

// expire answers an event whose Decider missed the deadline.
func (g *Guard) expire(p *pending) {
	if g.claim(p) {
		g.stats.timeouts.Add(1)
		g.answerFailure(p, Timeout, nil)
	}
}

// failEvent answers p by the failure policy and reports it.
func (g *Guard) failEvent(p *pending, reason FailureReason, err error) {
	if g.claim(p) {
		g.answerFailure(p, reason, err)
	}
}

func (g *Guard) answerFailure(p *pending, reason FailureReason, err error) {
	allow := !g.cfg.FailClosed
	g.respond(p.fd, allow, p.req.Received, answerFailure)
	g.reportFailure(Failure{Reason: reason, Request: &p.req, Allowed: allow, Err: err})
}

// claim makes the caller the one that answers p.
func (g *Guard) claim(p *pending) bool {
	if !p.answered.CompareAndSwap(false, true) {
		return false
	}
	g.inflightMu.Lock()
	delete(g.inflight, p)
	g.inflightMu.Unlock()
	return true
}

// takeInflight claims every event not yet answered.
func (g *Guard) takeInflight() []*pending {
	g.inflightMu.Lock()
	defer g.inflightMu.Unlock()
	var ps []*pending
	for p := range g.inflight {
		if p.answered.CompareAndSwap(false, true) {
			ps = append(ps, p)
		}
		delete(g.inflight, p)
	}
	return ps
}

// answer claims and answers p; it reports whether this call answered it.
func (g *Guard) answer(p *pending, allow bool, how answerHow) bool {
	if !g.claim(p) {
		return false
	}
	g.respond(p.fd, allow, p.req.Received, how)
	return true
}

// work runs decisions until the guard closes.
func (g *Guard) work() {
	for {
		select {
		case p := <-g.queue:
			g.decide(p)
		case <-g.done:
			return
		}
	}
}

func (g *Guard) decide(p *pending) {
	if p.answered.Load() {
		return // timed out while queued
	}
	v, err := g.callDecider(&p.req)
	if err != nil {
		g.stats.deciderPanics.Add(1)
		if g.claim(p) {
			p.stopTimer()
			g.answerFailure(p, DeciderPanic, err)
		} else {
			g.stats.late.Add(1)
		}
		return
	}
	if !g.answer(p, v.Allow, answerDecided) {
		g.stats.late.Add(1)
		return
	}
	p.stopTimer()
	if v.Cacheable && p.cacheable {
		g.cache.put(p.key, v.Allow, p.gen, time.Now())
	}
}

func (g *Guard) callDecider(r *Request) (v Verdict, err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("fanguard: decider panicked: %v", x)
		}
	}()
	return g.cfg.Decide(r), nil
}

// respond writes the one response for fd, closes fd and counts the outcome.
// A deny the kernel refuses is retried once as allow, so no process is left
// waiting on a verdict we could not deliver.
func (g *Guard) respond(fd int32, allow bool, received time.Time, how answerHow) {
	defer unix.Close(int(fd))
	err := g.writeResponse(fd, allow)
	if errors.Is(err, os.ErrClosed) {
		g.stats.abandoned.Add(1)
		return
	}
	delivered := err == nil
	if err != nil && !allow {
		if err2 := g.writeResponse(fd, true); err2 == nil {
			allow, delivered = true, true
			err = fmt.Errorf("deny refused, allowed instead: %w", err)
		}
	}
	g.stats.observe(time.Since(received))
	if err != nil {
		g.stats.writeErrors.Add(1)
		g.reportFailure(Failure{Reason: WriteError, Allowed: allow, Err: err})
	}
	if !delivered {
		return
	}
	if allow {
		g.stats.allowed.Add(1)
	} else {
		g.stats.denied.Add(1)
	}
	switch how {
	case answerProtected:
		g.stats.protected.Add(1)
	case answerCache:
		g.stats.cacheHits.Add(1)
	case answerDecided:
		g.stats.decided.Add(1)
	case answerClosing:
		g.stats.closed.Add(1)
	case answerFailure:
		if allow {
			g.stats.failOpen.Add(1)
		} else {
			g.stats.failClosed.Add(1)
		}
	}
}

// writeResponse writes struct fanotify_response {__s32 fd; __u32 response}.
func (g *Guard) writeResponse(fd int32, allow bool) error {
	var b [8]byte
	resp := uint32(unix.FAN_DENY)
	if allow {
		resp = unix.FAN_ALLOW
	}
	binary.NativeEndian.PutUint32(b[0:4], uint32(fd))
	binary.NativeEndian.PutUint32(b[4:8], resp)
	_, err := g.file.Write(b[:])
	return err
}
