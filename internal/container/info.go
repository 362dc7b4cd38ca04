package container

import "strings"

// Info is a container's identity. An Info is immutable once the resolver
// has published it: new metadata produces a new Info, so a pointer handed
// to a caller never changes under it. Callers must not modify one.
//
// Fields the runtime did not give are zero. Lookups never return nil: a
// host process gets Host, an unresolved cgroup gets an Info with an empty
// ID.
type Info struct {
	ID      string // full container id (64 hex digits for the usual runtimes); "host" for Host
	Runtime Runtime
	Name    string // without Docker's leading slash
	Image   Image
	Labels  map[string]string

	Privileged  bool
	CapAdd      []string // as the runtime reports them, e.g. ["ALL"]
	CapDrop     []string
	Mounts      []Mount
	NetworkMode string // "default", "bridge", "host", "container:<id>", ...
	User        string // the configured user, "" for the image default
	PID         uint32 // host pid of the container's first process, 0 if not running
	StartTS     int64  // start time in Unix nanoseconds, 0 if unknown

	// Pod is the Kubernetes identity, nil outside Kubernetes.
	Pod *Pod

	mountsText string // container.mounts, rendered once
}

// Image describes the image a container runs.
type Image struct {
	Name       string // as the container was created with, e.g. "registry:5000/app:1.2"
	Repository string // "registry:5000/app"
	Tag        string // "1.2"; "latest" when the name had neither tag nor digest
	Digest     string // "sha256:...", "" when unknown
	ID         string // the image id, "sha256:..."
}

// ShortID returns the image id as Falco's container.image.id shows it: the
// first 12 hex digits, without the "sha256:" prefix. It does not allocate.
func (im *Image) ShortID() string {
	id := strings.TrimPrefix(im.ID, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Mount is one of a container's mounts.
type Mount struct {
	Type        string // bind, volume, tmpfs, ...
	Source      string
	Dest        string
	Mode        string // the mode string given at creation ("ro", "z", ...)
	RW          bool
	Propagation string
}

// Host is the Info of every process outside a container, as Falco reports
// it: id and name "host", type "host".
var Host = &Info{ID: "host", Name: "host", Runtime: RuntimeHost}

// unresolved is what a lookup returns before anything is known.
var unresolved = &Info{Runtime: RuntimeUnknown}

// ShortID returns the first 12 characters of the id (container.id in
// Falco), or the whole id when it is shorter. It does not allocate.
func (i *Info) ShortID() string {
	if len(i.ID) > 12 {
		return i.ID[:12]
	}
	return i.ID
}

// Type returns the runtime's name (container.type).
func (i *Info) Type() string { return i.Runtime.String() }

// Label returns a container label.
func (i *Info) Label(key string) (string, bool) {
	v, ok := i.Labels[key]
	return v, ok
}

// MountsString renders every mount as Falco's container.mounts does:
// "source:dest:mode:rw:propagation" items joined by commas. It is computed
// once when the Info is published, so it does not allocate.
func (i *Info) MountsString() string { return i.mountsText }

// Mount returns the i-th mount (0-based), as container.mount[0] asks.
func (i *Info) Mount(n int) (*Mount, bool) {
	if n < 0 || n >= len(i.Mounts) {
		return nil, false
	}
	return &i.Mounts[n], true
}

// MountBySource returns the first mount whose source is src
// (container.mount.dest[/host/path]).
func (i *Info) MountBySource(src string) (*Mount, bool) {
	for k := range i.Mounts {
		if i.Mounts[k].Source == src {
			return &i.Mounts[k], true
		}
	}
	return nil, false
}

// MountByDest returns the first mount whose destination is dst
// (container.mount.source[/container/path]).
func (i *Info) MountByDest(dst string) (*Mount, bool) {
	for k := range i.Mounts {
		if i.Mounts[k].Dest == dst {
			return &i.Mounts[k], true
		}
	}
	return nil, false
}

// String renders the mount as Falco does: source:dest:mode:rw:propagation.
func (m *Mount) String() string {
	rw := "false"
	if m.RW {
		rw = "true"
	}
	return m.Source + ":" + m.Dest + ":" + m.Mode + ":" + rw + ":" + m.Propagation
}

// Seal computes the derived strings of an Info built outside the
// resolver (a rule test's container), before anything reads it.
func (i *Info) Seal() *Info { return i.seal() }

// seal computes the derived strings. It runs once, before the Info is
// published, which is what keeps the accessors allocation-free.
func (i *Info) seal() *Info {
	text := ""
	for k := range i.Mounts {
		if k > 0 {
			text += ","
		}
		text += i.Mounts[k].String()
	}
	i.mountsText = text
	if i.Pod != nil {
		i.Pod.seal()
	}
	return i
}
