package workload

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
)

// Kind says what a workload identity is made of.
type Kind uint8

// Kinds.
const (
	// KindK8s is a Kubernetes workload: an owner in a namespace, and the
	// container's name in the pod spec.
	KindK8s Kind = iota + 1
	// KindImage is a container outside Kubernetes: its image and name.
	KindImage
	// KindUnit is a host process in a systemd unit.
	KindUnit
	// KindExe is a host process outside any stable unit, named by the
	// executable of its session leader.
	KindExe
)

var kindNames = [...]string{"", "k8s", "image", "unit", "exe"}

// String returns the kind's name as the id grammar and JSON spell it.
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Owner kinds of a Kubernetes workload, as they appear in ids.
const (
	OwnerDeployment            = "deployment"
	OwnerStatefulSet           = "statefulset"
	OwnerDaemonSet             = "daemonset"
	OwnerJob                   = "job"
	OwnerCronJob               = "cronjob"
	OwnerReplicaSet            = "replicaset"
	OwnerReplicationController = "replicationcontroller"
	OwnerPod                   = "pod" // a pod without a controller
)

var ownerKinds = map[string]bool{
	OwnerDeployment: true, OwnerStatefulSet: true, OwnerDaemonSet: true, OwnerJob: true,
	OwnerCronJob: true, OwnerReplicaSet: true, OwnerReplicationController: true, OwnerPod: true,
}

// Workload is one workload's identity. A *Workload handed out by a
// Resolver is immutable and shared; callers must not modify it.
type Workload struct {
	// ID is the stable identity, one of:
	//
	//	k8s/<namespace>/<owner kind>/<owner name>/<container>
	//	image/<repository>@<digest>/<container>
	//	image/<repository>:<tag>/<container>
	//	host/unit/<systemd unit>
	//	host/exe/<executable path without its leading slash>
	//
	// Owner kinds are deployment, statefulset, daemonset, job, cronjob,
	// replicaset, replicationcontroller and pod (a pod without a
	// controller, named by the pod). Kubernetes names, container names
	// and unit names never contain '/', which keeps the grammar
	// unambiguous; a repository may, so an image id is read from both
	// ends.
	ID string
	// Name is a short description for people, e.g.
	// "deployment shop/web, container app".
	Name string
	Kind Kind
	// Inferred says the Kubernetes owner was guessed from the pod's name
	// because the API server did not describe the pod (see InferOwner).
	Inferred bool

	// Kubernetes identity (KindK8s).
	Namespace string
	OwnerKind string
	Owner     string
	// Container is the container's name: in the pod spec for KindK8s, or
	// the runtime's (or the compose service's) for KindImage.
	Container string

	// Image is the image reference for KindImage: "repo@sha256:..." or
	// "repo:tag".
	Image string

	// Unit is the systemd unit (KindUnit); Exe the session leader's
	// executable (KindExe).
	Unit string
	Exe  string

	// Hash is a hash of ID, computed once, for sharded maps.
	Hash uint64
}

var seed = maphash.MakeSeed()

// HashID returns the hash Workload.Hash holds for an id.
func HashID(id string) uint64 { return maphash.String(seed, id) }

// IsHost reports whether the workload is a host process.
func (w *Workload) IsHost() bool { return w.Kind == KindUnit || w.Kind == KindExe }

// NewK8s returns a Kubernetes workload.
func NewK8s(namespace, ownerKind, owner, container string, inferred bool) *Workload {
	w := &Workload{Kind: KindK8s, Namespace: namespace, OwnerKind: ownerKind, Owner: owner,
		Container: container, Inferred: inferred}
	w.ID = "k8s/" + namespace + "/" + ownerKind + "/" + owner + "/" + container
	w.Name = ownerKind + " " + namespace + "/" + owner + ", container " + container
	if inferred {
		w.Name += " (owner inferred from the pod name)"
	}
	return w.seal()
}

// NewImage returns a plain container workload. image is "repo@digest" or
// "repo:tag".
func NewImage(image, container string) *Workload {
	w := &Workload{Kind: KindImage, Image: image, Container: container}
	w.ID = "image/" + image + "/" + container
	w.Name = "image " + image + ", container " + container
	return w.seal()
}

// NewUnit returns a host workload in a systemd unit.
func NewUnit(unit string) *Workload {
	w := &Workload{Kind: KindUnit, Unit: unit, ID: "host/unit/" + unit, Name: "systemd unit " + unit}
	return w.seal()
}

// NewExe returns a host workload named by an executable path.
func NewExe(exe string) *Workload {
	w := &Workload{Kind: KindExe, Exe: exe, ID: "host/exe/" + strings.TrimPrefix(exe, "/"), Name: "host program " + exe}
	return w.seal()
}

func (w *Workload) seal() *Workload {
	w.Hash = HashID(w.ID)
	return w
}

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("not a workload id")

// Parse reads an id written in the grammar of Workload.ID, as a command
// line names a workload. It checks the grammar only: whether such a
// workload exists is the caller's question. Inferred is false in the
// result: the id does not record it.
func Parse(id string) (*Workload, error) {
	bad := func(format string, args ...any) (*Workload, error) {
		return nil, fmt.Errorf("%w: %q: %s", ErrSyntax, id, fmt.Sprintf(format, args...))
	}
	if strings.ContainsAny(id, "\x00\n") {
		return bad("contains a NUL or newline")
	}
	scheme, rest, _ := strings.Cut(id, "/")
	switch scheme {
	case "k8s":
		parts := strings.Split(rest, "/")
		if len(parts) != 4 || anyEmpty(parts) {
			return bad("want k8s/<namespace>/<owner kind>/<owner name>/<container>")
		}
		if !ownerKinds[parts[1]] {
			return bad("unknown owner kind %q", parts[1])
		}
		return NewK8s(parts[0], parts[1], parts[2], parts[3], false), nil
	case "image":
		i := strings.LastIndexByte(rest, '/')
		if i <= 0 || i == len(rest)-1 {
			return bad("want image/<repository>@<digest>/<container> or image/<repository>:<tag>/<container>")
		}
		img := rest[:i]
		if !strings.Contains(img, "@") && !hasTag(img) {
			return bad("the image needs a @digest or a :tag")
		}
		return NewImage(img, rest[i+1:]), nil
	case "host":
		kind, name, _ := strings.Cut(rest, "/")
		if name == "" {
			return bad("want host/unit/<unit> or host/exe/<path>")
		}
		switch kind {
		case "unit":
			if strings.Contains(name, "/") {
				return bad("a unit name has no '/'")
			}
			return NewUnit(name), nil
		case "exe":
			return NewExe("/" + name), nil
		}
		return bad("want host/unit/<unit> or host/exe/<path>")
	}
	return bad("want an id starting with k8s/, image/ or host/")
}

func anyEmpty(p []string) bool {
	for _, s := range p {
		if s == "" {
			return true
		}
	}
	return false
}

// hasTag reports whether an image reference ends in a :tag (a colon after
// the last slash, so that a registry's port does not count).
func hasTag(ref string) bool {
	last := ref[strings.LastIndexByte(ref, '/')+1:]
	i := strings.LastIndexByte(last, ':')
	return i > 0 && i < len(last)-1
}
