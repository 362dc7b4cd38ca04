package flows

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Names names external addresses for the map.
type Names interface {
	// Name returns what workload wid knows addr by: the Kubernetes
	// Service of a cluster IP, or a DNS name the workload resolved to
	// the address.
	Name(wid string, addr netip.Addr) (Name, bool)
}

// Name is a name of an address.
type Name struct {
	// Host is the DNS name, or the Service's "<namespace>/<name>".
	Host string
	// Service says Host names a Kubernetes Service.
	Service bool
}

// NameTable is a Names fed by DNS answers and by the Services of the
// cluster. It is safe for concurrent use and bounded: when full it drops
// the expired answers, and refuses new ones until some expire.
type NameTable struct {
	now    func() time.Time
	minTTL time.Duration
	max    int

	mu       sync.RWMutex
	answers  map[answerKey]answer
	any      map[netip.Addr]answer // the latest answer for the address, whoever asked
	services map[netip.Addr]string
}

type answerKey struct {
	wid  string
	addr netip.Addr
}

type answer struct {
	host    string
	expires int64
}

// NewNameTable returns a table that keeps a DNS answer for at least
// minTTL (answers often live seconds, flows an hour) and at most max
// answers; now nil is time.Now.
func NewNameTable(minTTL time.Duration, max int, now func() time.Time) *NameTable {
	if now == nil {
		now = time.Now
	}
	if max <= 0 {
		max = 65536
	}
	return &NameTable{now: now, minTTL: minTTL, max: max, answers: map[answerKey]answer{},
		any: map[netip.Addr]answer{}, services: map[netip.Addr]string{}}
}

// AddAnswer records that workload wid resolved host to addrs, valid for
// ttl (at least the table's minimum).
func (t *NameTable) AddAnswer(wid, host string, addrs []netip.Addr, ttl time.Duration) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return
	}
	now := t.now().UnixNano()
	exp := now + int64(max(ttl, t.minTTL))
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.answers)+len(addrs) > t.max {
		t.expire(now)
	}
	for _, a := range addrs {
		a = a.Unmap()
		k := answerKey{wid, a}
		if _, ok := t.answers[k]; !ok && len(t.answers) >= t.max {
			return
		}
		t.answers[k] = answer{host, exp}
		t.any[a] = answer{host, exp}
	}
}

func (t *NameTable) expire(now int64) {
	for k, a := range t.answers {
		if a.expires < now {
			delete(t.answers, k)
		}
	}
	for k, a := range t.any {
		if a.expires < now {
			delete(t.any, k)
		}
	}
}

// SetService records that addr is the cluster IP of Service
// namespace/name; an empty name forgets it.
func (t *NameTable) SetService(addr netip.Addr, namespace, name string) {
	addr = addr.Unmap()
	t.mu.Lock()
	defer t.mu.Unlock()
	if name == "" {
		delete(t.services, addr)
		return
	}
	t.services[addr] = namespace + "/" + name
}

// Name implements Names: a Service first, then what the workload itself
// resolved, then what any workload resolved.
func (t *NameTable) Name(wid string, addr netip.Addr) (Name, bool) {
	addr = addr.Unmap()
	now := t.now().UnixNano()
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s, ok := t.services[addr]; ok {
		return Name{Host: s, Service: true}, true
	}
	if a, ok := t.answers[answerKey{wid, addr}]; ok && a.expires >= now {
		return Name{Host: a.host}, true
	}
	if a, ok := t.any[addr]; ok && a.expires >= now {
		return Name{Host: a.host}, true
	}
	return Name{}, false
}
