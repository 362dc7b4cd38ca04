package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/baseline/store"
	"github.com/vigilsec/vigil/internal/workload"
)

// DocumentSchema names the JSON format of Document; a reader refuses
// other values.
const DocumentSchema = "vigil.dev/baseline/v1"

// Document is one workload's baseline in the form `vigil baseline export
// --format json` writes and `vigil baseline import` reads: every list
// sorted, so that a baseline kept in version control diffs cleanly.
type Document struct {
	Schema      string      `json:"schema"`
	Workload    DocWorkload `json:"workload"`
	Mode        string      `json:"mode"`
	Created     time.Time   `json:"created"`
	LearnSince  time.Time   `json:"learn_since"`
	ModeChanged time.Time   `json:"mode_changed"`
	LastChange  time.Time   `json:"last_change"`

	Executables    []DocExec `json:"executables"`
	ExecEdges      []DocEdge `json:"exec_edges"`
	FilesWritten   []string  `json:"files_written"`
	SensitiveReads []string  `json:"sensitive_reads"`
	Listening      []DocPort `json:"listening"`
	Outbound       []DocPeer `json:"outbound"`
	Inbound        []DocPeer `json:"inbound"`
	Syscalls       []string  `json:"syscalls"`
	Capabilities   []string  `json:"capabilities"`
	Users          []string  `json:"users"`
}

// DocWorkload is the workload a Document is for.
type DocWorkload struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Inferred bool   `json:"inferred"`
}

// DocExec is an executable: a path or pattern and, for an exact path, the
// identity of the file ("" for any file).
type DocExec struct {
	Path     string `json:"path"`
	Identity string `json:"identity,omitempty"`
}

// DocEdge is a parent -> child executable edge (patterns).
type DocEdge struct {
	Parent string `json:"parent"`
	Child  string `json:"child"`
}

// DocPort is a listening port, or the range port..port_end.
type DocPort struct {
	Proto   string `json:"proto"`
	Port    uint16 `json:"port"`
	PortEnd uint16 `json:"port_end,omitempty"`
}

// DocPeer is a network peer: an address or CIDR (peer) or a DNS name
// (dns), a protocol and a port (0: any).
type DocPeer struct {
	Peer  string `json:"peer,omitempty"`
	DNS   string `json:"dns,omitempty"`
	Proto string `json:"proto"`
	Port  uint16 `json:"port"`
}

// newDocument builds a document from a workload's items.
func newDocument(w *workload.Workload, m Mode, created, learnSince, modeChanged, lastChange int64, items []Item) *Document {
	t := func(ns int64) time.Time { return time.Unix(0, ns).UTC() }
	d := &Document{
		Schema:   DocumentSchema,
		Workload: DocWorkload{ID: w.ID, Name: w.Name, Kind: w.Kind.String(), Inferred: w.Inferred},
		Mode:     m.String(), Created: t(created), LearnSince: t(learnSince), ModeChanged: t(modeChanged), LastChange: t(lastChange),
		Executables: []DocExec{}, ExecEdges: []DocEdge{}, FilesWritten: []string{}, SensitiveReads: []string{},
		Listening: []DocPort{}, Outbound: []DocPeer{}, Inbound: []DocPeer{}, Syscalls: []string{}, Capabilities: []string{}, Users: []string{},
	}
	for _, it := range items {
		switch it.Dim {
		case DimExec:
			d.Executables = append(d.Executables, DocExec{it.A, it.B})
		case DimExecEdge:
			d.ExecEdges = append(d.ExecEdges, DocEdge{it.A, it.B})
		case DimFileWrite:
			d.FilesWritten = append(d.FilesWritten, it.A)
		case DimFileRead:
			d.SensitiveReads = append(d.SensitiveReads, it.A)
		case DimListen:
			if r, err := parsePortItem(it); err == nil {
				dp := DocPort{Proto: r.proto.String(), Port: r.lo}
				if r.hi != r.lo {
					dp.PortEnd = r.hi
				}
				d.Listening = append(d.Listening, dp)
			}
		case DimOutbound, DimInbound:
			p, name, err := parsePeerItem(it)
			if err != nil {
				continue
			}
			dp := DocPeer{DNS: name, Proto: p.proto.String(), Port: p.port}
			if name == "" {
				dp.Peer = p.prefix.String()
			}
			if it.Dim == DimOutbound {
				d.Outbound = append(d.Outbound, dp)
			} else {
				d.Inbound = append(d.Inbound, dp)
			}
		case DimSyscall:
			d.Syscalls = append(d.Syscalls, it.A)
		case DimCapability:
			d.Capabilities = append(d.Capabilities, it.A)
		case DimUser:
			d.Users = append(d.Users, it.A)
		}
	}
	d.sort()
	return d
}

func (d *Document) sort() {
	slices.SortFunc(d.Executables, func(a, b DocExec) int { return cmp2(a.Path, b.Path, a.Identity, b.Identity) })
	slices.SortFunc(d.ExecEdges, func(a, b DocEdge) int { return cmp2(a.Parent, b.Parent, a.Child, b.Child) })
	slices.Sort(d.FilesWritten)
	slices.Sort(d.SensitiveReads)
	slices.SortFunc(d.Listening, func(a, b DocPort) int { return cmp2(a.Proto, b.Proto, pad(a.Port), pad(b.Port)) })
	peers := func(a, b DocPeer) int {
		return cmp2(a.Peer+"\x00"+a.DNS, b.Peer+"\x00"+b.DNS, a.Proto+pad(a.Port), b.Proto+pad(b.Port))
	}
	slices.SortFunc(d.Outbound, peers)
	slices.SortFunc(d.Inbound, peers)
	slices.Sort(d.Syscalls)
	slices.Sort(d.Capabilities)
	slices.SortFunc(d.Users, func(a, b string) int { return cmp2(strconv.Itoa(len(a)), strconv.Itoa(len(b)), a, b) })
}

func cmp2(a1, b1, a2, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}

func pad(port uint16) string { return fmt.Sprintf("%05d", port) }

// Items returns the document's entries as items. A document from
// ParseDocument is valid; items of an invalid one are skipped.
func (d *Document) Items() []Item {
	var out []Item
	for _, x := range d.Executables {
		out = append(out, Item{Dim: DimExec, A: x.Path, B: x.Identity})
	}
	for _, x := range d.ExecEdges {
		out = append(out, Item{Dim: DimExecEdge, A: x.Parent, B: x.Child})
	}
	for _, p := range d.FilesWritten {
		out = append(out, Item{Dim: DimFileWrite, A: p})
	}
	for _, p := range d.SensitiveReads {
		out = append(out, Item{Dim: DimFileRead, A: p})
	}
	for _, x := range d.Listening {
		b := strconv.Itoa(int(x.Port))
		if x.PortEnd != 0 && x.PortEnd != x.Port {
			b += "-" + strconv.Itoa(int(x.PortEnd))
		}
		out = append(out, Item{Dim: DimListen, A: x.Proto, B: b})
	}
	for _, dl := range []struct {
		dim  Dimension
		list []DocPeer
	}{{DimOutbound, d.Outbound}, {DimInbound, d.Inbound}} {
		dim := dl.dim
		for _, x := range dl.list {
			proto, _ := ParseProto(x.Proto)
			a := x.Peer
			if x.DNS != "" {
				a = "dns:" + x.DNS
			}
			out = append(out, Item{Dim: dim, A: a, B: portProto(proto, x.Port)})
		}
	}
	for _, s := range d.Syscalls {
		out = append(out, Item{Dim: DimSyscall, A: s})
	}
	for _, s := range d.Capabilities {
		out = append(out, Item{Dim: DimCapability, A: s})
	}
	for _, s := range d.Users {
		out = append(out, Item{Dim: DimUser, A: s})
	}
	return out
}

// JSON renders the document, indented, with a trailing newline.
func (d *Document) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Document returns a workload's baseline as a document.
func (e *Engine) Document(id string) (*Document, error) {
	p := e.lookup(id)
	if p == nil {
		return nil, fmt.Errorf("%q: %w", id, ErrUnknownWorkload)
	}
	return newDocument(p.w, p.getMode(), p.created, p.learnSince.Load(), p.modeChanged.Load(), p.lastChange.Load(),
		p.view.Load().items()), nil
}

// DocumentFromRecord returns a stored baseline as a document, for the
// commands that work on the store while the agent is down.
func DocumentFromRecord(r store.Record) (*Document, error) {
	w, err := workload.Parse(r.ID)
	if err != nil {
		return nil, err
	}
	w.Inferred = r.Inferred
	m, ok := ParseMode(r.Mode)
	if !ok {
		return nil, fmt.Errorf("%s: mode %q in the store", r.ID, r.Mode)
	}
	items := make([]Item, 0, len(r.Items))
	for _, si := range r.Items {
		if d, ok := ParseDimension(si.Dim); ok {
			items = append(items, Item{Dim: d, A: si.A, B: si.B})
		}
	}
	return newDocument(w, m, r.Created, r.LearnSince, r.ModeChanged, r.LastChange, items), nil
}

// Import replaces a workload's baseline and mode with a document's (a
// workload without a baseline gets one). The document's times are
// kept, so that learning resumes where it was.
func (e *Engine) Import(d *Document) error {
	w, err := workload.Parse(d.Workload.ID)
	if err != nil {
		return err
	}
	w.Inferred = d.Workload.Inferred
	m, ok := ParseMode(d.Mode)
	if !ok {
		return fmt.Errorf("mode %q: want learn, monitor or protect", d.Mode)
	}
	if m == Protect && !e.s().cfg.ProtectAllowed {
		return ErrProtectNotAllowed
	}
	if e.s().cfg.excluded(w.ID, w.Namespace) {
		return fmt.Errorf("%s is excluded by baselines.exclude", w.ID)
	}
	p := e.profile(w, false)
	if p == nil {
		if p = e.create(w, m); p == nil {
			return fmt.Errorf("%s: baselines.max_workloads reached", w.ID)
		}
	}
	var pend [NumDimensions][]Item
	for _, it := range d.Items() {
		pend[it.Dim] = append(pend[it.Dim], it)
	}
	v := emptyView
	for dim := range NumDimensions {
		v, _, _ = v.with(dim, pend[dim], e.s().cfg.limits(dim))
	}
	now := e.opts.Now().UnixNano()
	orNow := func(t time.Time) int64 {
		if t.IsZero() || t.Unix() <= 0 {
			return now
		}
		return t.UnixNano()
	}
	p.wmu.Lock()
	p.dropPending()
	p.view.Store(v)
	p.mode.Store(uint32(m))
	p.learnSince.Store(orNow(d.LearnSince))
	p.modeChanged.Store(now)
	p.lastChange.Store(orNow(d.LastChange))
	p.wmu.Unlock()
	err = e.put(store.Change{Op: store.OpClearItems, Workload: store.Workload{ID: w.ID}})
	err = errors.Join(err, e.persist(p, true))
	for _, c := range appendItemChanges(nil, w.ID, v.items(), nil, now) {
		err = errors.Join(err, e.put(c))
	}
	e.changed(w.ID)
	return err
}

// ImportChanges returns the store changes that replace a workload's
// baseline with a document's, for importing while the agent is down.
// The items are written as the document has them; the agent generalises
// them under its caps when it loads them.
func ImportChanges(d *Document) []store.Change {
	now := time.Now().UnixNano()
	w, err := workload.Parse(d.Workload.ID)
	name, kind := d.Workload.Name, d.Workload.Kind
	if err == nil {
		name, kind = w.Name, w.Kind.String()
	}
	orNow := func(t time.Time) int64 {
		if t.IsZero() || t.Unix() <= 0 {
			return now
		}
		return t.UnixNano()
	}
	out := []store.Change{
		{Op: store.OpClearItems, Workload: store.Workload{ID: d.Workload.ID}},
		{Op: store.OpPutWorkload, Workload: store.Workload{ID: d.Workload.ID, Name: name, Kind: kind,
			Inferred: d.Workload.Inferred, Mode: d.Mode, Created: orNow(d.Created), LearnSince: orNow(d.LearnSince),
			ModeChanged: now, LastChange: orNow(d.LastChange)}},
	}
	return appendItemChanges(out, d.Workload.ID, d.Items(), nil, now)
}
