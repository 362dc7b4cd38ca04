package workload

import (
	"strings"

	"github.com/vigilsec/vigil/internal/container"
)

// Compose's labels on the containers it creates: the service is what
// replicas (<project>-<service>-1, -2, ...) have in common.
const (
	labelComposeProject = "com.docker.compose.project"
	labelComposeService = "com.docker.compose.service"
)

// FromContainer returns the workload of a container, or false when the
// identity is not known well enough to name one (the runtime has not
// described the container yet, or could not).
func FromContainer(info *container.Info, st container.State) (*Workload, bool) {
	if info == nil || info == container.Host || st != container.StateComplete {
		return nil, false
	}
	if p := info.Pod; p != nil {
		return fromPod(info, p)
	}
	img := ImageRef(&info.Image)
	if img == "" {
		return nil, false
	}
	name := ContainerName(info)
	if name == "" {
		return nil, false
	}
	return NewImage(img, name), true
}

func fromPod(info *container.Info, p *container.Pod) (*Workload, bool) {
	if p.Namespace == "" || p.Name == "" {
		return nil, false
	}
	cname := p.ContainerName
	if cname == "" {
		cname = info.Name
	}
	if cname == "" || strings.Contains(cname, "/") {
		return nil, false
	}
	if p.FromAPI {
		kind, owner := APIOwner(p)
		return NewK8s(p.Namespace, kind, owner, cname, false), true
	}
	kind, owner := InferOwner(p.Name)
	return NewK8s(p.Namespace, kind, owner, cname, true), true
}

// APIOwner returns the kind and name of the controller at the top of a
// pod's owner chain as the API server described it; a pod without one is
// its own workload.
func APIOwner(p *container.Pod) (kind, name string) {
	o := &p.Owner
	switch {
	case o.Deployment != "":
		return OwnerDeployment, o.Deployment
	case o.ReplicaSet != "":
		return OwnerReplicaSet, o.ReplicaSet
	case o.StatefulSet != "":
		return OwnerStatefulSet, o.StatefulSet
	case o.DaemonSet != "":
		return OwnerDaemonSet, o.DaemonSet
	case o.CronJob != "":
		return OwnerCronJob, o.CronJob
	case o.Job != "":
		return OwnerJob, o.Job
	case o.ReplicationController != "":
		return OwnerReplicationController, o.ReplicationController
	}
	return OwnerPod, p.Name
}

// ImageRef names a container's image for its workload id: the repository
// with the digest when the runtime knows it (the same bytes whatever the
// tag says), else the repository and tag. It is "" when neither is known.
func ImageRef(im *container.Image) string {
	repo := im.Repository
	if repo == "" {
		repo, _ = splitRef(im.Name)
	}
	if repo == "" {
		return ""
	}
	if im.Digest != "" {
		return repo + "@" + im.Digest
	}
	tag := im.Tag
	if tag == "" {
		_, tag = splitRef(im.Name)
	}
	if tag == "" {
		tag = "latest"
	}
	return repo + ":" + tag
}

// splitRef splits "repo:tag" (or "repo@digest", giving no tag).
func splitRef(ref string) (repo, tag string) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		return ref[:i], ""
	}
	if hasTag(ref) {
		i := strings.LastIndexByte(ref, ':')
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

// ContainerName is the container part of a plain container's workload:
// the compose service when compose created it, else the runtime's name
// without a trailing replica number ("web-2" and "web_3" are "web"), so
// that scaled copies share a baseline. Names the runtime made up
// ("vigorous_turing") are unique per container: name containers that
// should share one.
func ContainerName(info *container.Info) string {
	if svc := info.Labels[labelComposeService]; svc != "" && !strings.Contains(svc, "/") {
		if proj := info.Labels[labelComposeProject]; proj != "" && !strings.Contains(proj, "/") {
			return proj + "-" + svc
		}
		return svc
	}
	name := strings.TrimPrefix(info.Name, "/")
	if strings.Contains(name, "/") {
		return ""
	}
	return trimReplica(name)
}

// trimReplica drops a "-<digits>" or "_<digits>" suffix.
func trimReplica(name string) string {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	if i < len(name) && i > 1 && (name[i-1] == '-' || name[i-1] == '_') {
		return name[:i-1]
	}
	return name
}
