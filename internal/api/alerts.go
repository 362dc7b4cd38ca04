package api

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// stored is one alert in the ring, with what filters and the map need
// computed once.
type stored struct {
	ID        uint64       `json:"id"`
	Alert     *alert.Alert `json:"alert"`
	Workload  string       `json:"workload,omitempty"`
	Namespace string       `json:"namespace,omitempty"`

	prio int
	text string     // lower-case rule, output and workload, for q
	peer netip.Addr // the remote address of a network alert
	port uint16     // and its port
}

// alertStore is the ring of recent alerts, the per-minute counts behind
// the overview, and the live subscribers. Emit takes its lock briefly
// and never waits for a subscriber.
type alertStore struct {
	mu    sync.Mutex
	ring  []*stored
	next  int // where the next alert goes
	full  bool
	seq   uint64
	total uint64

	minutes [minutesKept]minuteCounts
	subs    map[*subscriber]struct{}
	now     func() time.Time
}

// minutesKept is how far back the overview's counts go: a day.
const minutesKept = 24 * 60

type minuteCounts struct {
	minute int64 // Unix minute this slot holds
	counts [8]uint32
}

func newAlertStore(size int, now func() time.Time) *alertStore {
	return &alertStore{ring: make([]*stored, size), subs: map[*subscriber]struct{}{}, now: now}
}

// add stores an alert and hands it to the subscribers.
func (st *alertStore) add(s *stored) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	st.total++
	s.ID = st.seq
	st.ring[st.next] = s
	st.next = (st.next + 1) % len(st.ring)
	if st.next == 0 {
		st.full = true
	}
	t := s.Alert.Time
	if t.IsZero() {
		t = st.now()
	}
	m := t.Unix() / 60
	slot := &st.minutes[m%minutesKept]
	if slot.minute != m {
		*slot = minuteCounts{minute: m}
	}
	slot.counts[s.prio]++
	for sub := range st.subs {
		sub.offer(s)
	}
}

// newestFirst calls fn for each stored alert from the newest until fn
// returns false. The lock is held: fn must be quick.
func (st *alertStore) newestFirst(fn func(*stored) bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := st.next
	if st.full {
		n = len(st.ring)
	}
	for i := range n {
		s := st.ring[(st.next-1-i+len(st.ring))%len(st.ring)]
		if !fn(s) {
			return
		}
	}
}

// get returns alert id if it is still held.
func (st *alertStore) get(id uint64) *stored {
	var found *stored
	st.newestFirst(func(s *stored) bool {
		if s.ID == id {
			found = s
		}
		return s.ID > id
	})
	return found
}

// oldest returns the time of the oldest alert held and whether older
// alerts were dropped from the ring.
func (st *alertStore) oldest() (time.Time, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.full {
		if st.next == 0 {
			return time.Time{}, false
		}
		return st.ring[0].Alert.Time, false
	}
	return st.ring[st.next].Alert.Time, true
}

// matches reports whether s passes q's filters (the cursor aside).
func (q *alertQuery) matches(s *stored) bool {
	if len(q.Priorities) > 0 && !slices.Contains(q.Priorities, s.prio) {
		return false
	}
	if s.prio > q.MinPriority {
		return false
	}
	if len(q.Rules) > 0 && !slices.Contains(q.Rules, s.Alert.Rule) {
		return false
	}
	if len(q.Workloads) > 0 && !slices.Contains(q.Workloads, s.Workload) {
		return false
	}
	if len(q.Namespaces) > 0 && !slices.Contains(q.Namespaces, s.Namespace) {
		return false
	}
	if !q.Since.IsZero() && s.Alert.Time.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && s.Alert.Time.After(q.Until) {
		return false
	}
	return q.Text == "" || strings.Contains(s.text, q.Text)
}

// query returns up to q.Limit matching alerts, newest first, older than
// the cursor, and the cursor of the next page ("" at the end).
func (st *alertStore) query(q *alertQuery) ([]*stored, string) {
	out := []*stored{}
	more := false
	st.newestFirst(func(s *stored) bool {
		if q.Cursor != 0 && s.ID >= q.Cursor {
			return true
		}
		if !q.matches(s) {
			return true
		}
		if len(out) == q.Limit {
			more = true
			return false
		}
		out = append(out, s)
		return true
	})
	if !more || len(out) == 0 {
		return out, ""
	}
	return out, strconv.FormatUint(out[len(out)-1].ID, 10)
}

// prepare computes what the store keeps beside an alert.
func (s *Server) prepare(a *alert.Alert) *stored {
	st := &stored{Alert: a, prio: len(priorities) - 1}
	if i, ok := priorityIndex(a.Priority); ok {
		st.prio = i
	}
	if s.src.WorkloadOf != nil {
		st.Workload, st.Namespace = s.src.WorkloadOf(a)
	} else {
		st.Workload, st.Namespace = defaultWorkloadOf(a)
	}
	st.text = strings.ToLower(a.Rule + "\x00" + a.Output + "\x00" + st.Workload)
	st.peer, st.port = alertPeer(a)
	return st
}

// defaultWorkloadOf reads the workload a baseline alert names, and the
// Kubernetes namespace of the alert's context.
func defaultWorkloadOf(a *alert.Alert) (string, string) {
	id, _ := a.OutputFields["baseline.workload"].(string)
	return id, a.Context.Identity.Namespace
}

// alertPeer finds the remote end of a network alert: the value of a
// baseline drift of a network dimension ("10.0.0.5:443/tcp (name)"), or
// the fd.rip/fd.rport (else fd.sip/fd.sport) fields of a rule's.
func alertPeer(a *alert.Alert) (netip.Addr, uint16) {
	of := a.OutputFields
	if d, _ := of["baseline.dimension"].(string); d == "outbound" || d == "inbound" {
		v, _ := of["baseline.value"].(string)
		v, _, _ = strings.Cut(v, "/")
		if ap, err := netip.ParseAddrPort(v); err == nil {
			return ap.Addr().Unmap(), ap.Port()
		}
	}
	for _, f := range [][2]string{{"fd.rip", "fd.rport"}, {"fd.sip", "fd.sport"}} {
		ip, ok := of[f[0]].(string)
		if !ok {
			continue
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			continue
		}
		var port uint16
		switch p := of[f[1]].(type) {
		case float64:
			port = uint16(p)
		case int64:
			port = uint16(p)
		case uint64:
			port = uint16(p)
		case int:
			port = uint16(p)
		case string:
			n, _ := strconv.ParseUint(p, 10, 16)
			port = uint16(n)
		}
		return addr.Unmap(), port
	}
	return netip.Addr{}, 0
}
