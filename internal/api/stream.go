package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// subscriber is one open alert stream. The store offers it alerts
// without waiting: when its queue is full they are counted as missed and
// the stream says so.
type subscriber struct {
	q      alertQuery
	ch     chan *stored
	mu     sync.Mutex
	missed uint64
}

const (
	streamQueue     = 256
	streamKeepAlive = 15 * time.Second
)

func (sub *subscriber) offer(s *stored) {
	if !sub.q.matches(s) {
		return
	}
	select {
	case sub.ch <- s:
	default:
		sub.mu.Lock()
		sub.missed++
		sub.mu.Unlock()
	}
}

func (sub *subscriber) takeMissed() uint64 {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	n := sub.missed
	sub.missed = 0
	return n
}

// streamAlerts serves /api/v1/alerts/stream: Server-Sent Events, one
// "alert" event per alert with its id, after replaying the held alerts
// newer than Last-Event-ID (or ?after=). A "missed" event reports alerts
// a slow reader lost.
func (s *Server) streamAlerts(w http.ResponseWriter, r *http.Request, _ principal) error {
	raw, after, err := splitAfter(r)
	if err != nil {
		return err
	}
	q, err := parseAlertQuery(raw, true)
	if err != nil {
		return err
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("streaming unsupported by the response writer")
	}
	// A stream outlives the server's write timeout; the keep-alives
	// notice a client that went away.
	if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil {
		// The stream still works until the write timeout cuts it; the
		// client reconnects with Last-Event-ID.
		s.log.Warn("ui: alert stream keeps the write timeout", "err", err)
	}
	sub := &subscriber{q: q, ch: make(chan *stored, streamQueue)}
	var backlog []*stored
	st := s.alerts
	st.mu.Lock()
	if len(st.subs) >= s.cfg.MaxStreams {
		st.mu.Unlock()
		return errorf(http.StatusServiceUnavailable, "", "too many alert streams open (max_streams %d)", s.cfg.MaxStreams)
	}
	// Replay and subscribe under one lock, so that nothing falls between.
	n := st.next
	if st.full {
		n = len(st.ring)
	}
	for i := range n {
		a := st.ring[(st.next-1-i+len(st.ring))%len(st.ring)]
		if a.ID <= after {
			break
		}
		if q.matches(a) {
			backlog = append(backlog, a)
		}
	}
	st.subs[sub] = struct{}{}
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		delete(st.subs, sub)
		st.mu.Unlock()
	}()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: 2000\n\n"); err != nil {
		return nil // the client went away
	}
	for i := len(backlog) - 1; i >= 0; i-- {
		if err := writeEvent(w, backlog[i]); err != nil {
			return nil
		}
	}
	fl.Flush()
	tick := time.NewTicker(streamKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.done:
			return nil
		case a := <-sub.ch:
			if err := writeEvent(w, a); err != nil {
				return nil
			}
		case <-tick.C:
			if _, err := fmt.Fprintf(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
		}
		if m := sub.takeMissed(); m > 0 {
			if _, err := fmt.Fprintf(w, "event: missed\ndata: {\"missed\":%d}\n\n", m); err != nil {
				return nil
			}
		}
		fl.Flush()
	}
}

func writeEvent(w http.ResponseWriter, a *stored) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: alert\nid: %d\ndata: %s\n\n", a.ID, data)
	return err
}

// splitAfter takes the resume point (Last-Event-ID, or the after
// parameter) out of the query, which is otherwise the alert filters.
func splitAfter(r *http.Request) (string, uint64, error) {
	v := r.URL.Query()
	after := r.Header.Get("Last-Event-ID")
	field := "Last-Event-ID"
	if a := v.Get("after"); a != "" || v.Has("after") {
		after, field = a, "after"
	}
	raw := r.URL.RawQuery
	if v.Has("after") {
		p, err := parseParams(raw, append(alertParams[:8:8], "after")...)
		if err != nil {
			return "", 0, err
		}
		if _, err := p.one("after"); err != nil {
			return "", 0, err
		}
		p.v.Del("after")
		raw = p.v.Encode()
	}
	if after == "" {
		return raw, 0, nil
	}
	n, err := strconv.ParseUint(after, 10, 64)
	if err != nil {
		return "", 0, badParam(field, "want an alert id")
	}
	return raw, n, nil
}
