package fields

import (
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// hostID is what Falco reports as container.id and container.name for a
// process that runs on the host.
const hostID = "host"

// registerContainer adds container.* and k8s.* with the values Falco
// gives host processes: the id and name are "host" and everything else is
// missing (renders <NA>, compares false). Every process is treated as a
// host process until container metadata is collected.
func registerContainer(r *Registry) {
	host := str(func(*Context) (string, bool) { return hostID, true })
	r.add("container.id", "the container id; host for processes outside containers", host)
	r.add("container.full_id", "the full container id; host for processes outside containers", host)
	r.add("container.name", "the container name; host for processes outside containers", host)
	r.add("container.type", "the container runtime; host for processes outside containers", host)

	none := str(missing)
	for _, name := range []string{
		"container.image", "container.image.id", "container.image.repository", "container.image.tag",
		"container.image.digest", "container.mounts", "container.ip", "container.cni.json",
		"container.healthcheck", "container.liveness_probe", "container.readiness_probe",
	} {
		r.add(name, "not collected yet: missing for every process", none)
	}
	r.add("container.privileged", "not collected yet: missing for every process",
		boolean(func(*Context) (bool, bool) { return false, false }))
	for _, name := range []string{"container.start_ts", "container.duration"} {
		r.add(name, "not collected yet: missing for every process", num(func(*Context) (uint64, bool) { return 0, false }))
	}
	keyed := func(*lang.Arg) (Field, error) { return none, nil }
	for _, name := range []string{
		"container.mount", "container.mount.source", "container.mount.dest", "container.mount.mode",
		"container.mount.rdwr", "container.mount.propagation",
	} {
		r.addArg(name, "not collected yet: missing for every process", compile.TypeString, keyed)
	}

	for _, name := range []string{
		"k8s.pod.name", "k8s.pod.id", "k8s.pod.uid", "k8s.pod.sandbox_id", "k8s.pod.full_sandbox_id",
		"k8s.pod.labels", "k8s.pod.ip", "k8s.pod.cni.json", "k8s.pod.serviceaccount",
		"k8s.ns.name", "k8s.ns.id", "k8s.ns.labels", "k8s.deployment.name", "k8s.deployment.id",
		"k8s.rc.name", "k8s.rs.name", "k8s.svc.name", "k8s.node.name",
	} {
		r.add(name, "not collected yet: missing for every process", none)
	}
	for _, name := range []string{"k8s.pod.label", "k8s.ns.label", "k8s.deployment.label", "k8s.svc.label"} {
		r.addArg(name, "not collected yet: missing for every process", compile.TypeString, keyed)
	}
}
