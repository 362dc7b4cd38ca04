package fields

import (
	"strconv"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// hostID is what Falco reports as container.id and container.name for a
// process that runs on the host.
const hostID = "host"

// containerInfo returns the container of the event's process. Without a
// resolver every process counts as a host process, as Falco reports it.
// The lookup never blocks: before the runtime has answered, the id and
// runtime from the cgroup path are known and the rest is missing.
func (c *Context) containerInfo() (*container.Info, container.State) {
	if c.contDone {
		return c.cont, c.contState
	}
	c.contDone = true
	c.cont, c.contState = container.Host, container.StateHost
	if c.Env.Containers != nil {
		id := c.Event.CgroupID
		if id == 0 {
			id = c.Proc.CgroupID
		}
		c.cont, c.contState = c.Env.Containers.Lookup(id)
	}
	return c.cont, c.contState
}

// meta returns the container's Info when its metadata is complete (or it
// is the host); fields other than id, name and type are missing otherwise.
func (c *Context) meta() (*container.Info, bool) {
	info, st := c.containerInfo()
	return info, st == container.StateComplete || st == container.StateHost
}

func contStr(get func(*container.Info) string) Field {
	return str(func(c *Context) (string, bool) {
		info, ok := c.meta()
		if !ok {
			return "", false
		}
		v := get(info)
		return v, v != ""
	})
}

func podStr(get func(*container.Pod) string) Field {
	return str(func(c *Context) (string, bool) {
		info, ok := c.meta()
		if !ok || info.Pod == nil {
			return "", false
		}
		v := get(info.Pod)
		return v, v != ""
	})
}

// registerContainer adds container.* and k8s.*, answered by the container
// resolver in Env (see internal/container and docs/containers.md).
func registerContainer(r *Registry) {
	r.add("container.id", "the short (12 character) container id; host for processes outside containers",
		str(func(c *Context) (string, bool) { info, _ := c.containerInfo(); return info.ShortID(), true }))
	r.add("container.full_id", "the full container id; host for processes outside containers",
		str(func(c *Context) (string, bool) { info, _ := c.containerInfo(); return info.ID, true }))
	r.add("container.name", "the container name; host for processes outside containers",
		str(func(c *Context) (string, bool) {
			info, _ := c.containerInfo()
			return info.Name, info.Name != ""
		}))
	r.add("container.type", "the container runtime (docker, podman, containerd, cri-o, cri); host outside containers",
		str(func(c *Context) (string, bool) { info, _ := c.containerInfo(); return info.Type(), true }))
	r.add("container.image", "the image as the runtime names it", contStr(func(i *container.Info) string { return i.Image.Name }))
	r.add("container.image.id", "the short image id", contStr(func(i *container.Info) string { return i.Image.ShortID() }))
	r.add("container.image.repository", "the image repository", contStr(func(i *container.Info) string { return i.Image.Repository }))
	r.add("container.image.tag", "the image tag", contStr(func(i *container.Info) string { return i.Image.Tag }))
	r.add("container.image.digest", "the image digest", contStr(func(i *container.Info) string { return i.Image.Digest }))
	r.add("container.mounts", "the container's mounts as source:dest:mode:rw:propagation, comma separated",
		contStr(func(i *container.Info) string { return i.MountsString() }))
	r.add("container.privileged", "the runtime started the container privileged",
		boolean(func(c *Context) (bool, bool) {
			info, ok := c.meta()
			if !ok || info == container.Host {
				return false, false
			}
			return info.Privileged, true
		}))
	r.add("container.start_ts", "when the container started, in ns since the epoch",
		num(func(c *Context) (uint64, bool) {
			info, ok := c.meta()
			if !ok || info.StartTS <= 0 {
				return 0, false
			}
			return uint64(info.StartTS), true
		}))
	for _, name := range []string{"container.ip", "container.cni.json", "container.healthcheck",
		"container.liveness_probe", "container.readiness_probe"} {
		r.add(name, NotCollected, str(missing))
	}
	r.add("container.duration", NotCollected, num(func(*Context) (uint64, bool) { return 0, false }))

	// container.mount.*[ARG]: ARG is a mount index or a source path (dest
	// for container.mount.dest lookups by destination use MountByDest).
	mountField := func(get func(*container.Mount) string, byDest bool) func(*lang.Arg) (Field, error) {
		return func(arg *lang.Arg) (Field, error) {
			key := ""
			if arg != nil {
				key = arg.Text
			}
			idx, isIdx := arg.Index()
			return str(func(c *Context) (string, bool) {
				info, ok := c.meta()
				if !ok || key == "" {
					return "", false
				}
				var m *container.Mount
				switch {
				case isIdx:
					m, ok = info.Mount(idx)
				case byDest:
					m, ok = info.MountByDest(key)
				default:
					m, ok = info.MountBySource(key)
				}
				if !ok {
					return "", false
				}
				v := get(m)
				return v, v != ""
			}), nil
		}
	}
	r.addArg("container.mount", "the mount with this index or source, as source:dest:mode:rw:propagation", compile.TypeString,
		mountField(func(m *container.Mount) string {
			return m.Source + ":" + m.Dest + ":" + m.Mode + ":" + strconv.FormatBool(m.RW) + ":" + m.Propagation
		}, false))
	r.addArg("container.mount.source", "the source of the mount with this index or destination", compile.TypeString,
		mountField(func(m *container.Mount) string { return m.Source }, true))
	r.addArg("container.mount.dest", "the destination of the mount with this index or source", compile.TypeString,
		mountField(func(m *container.Mount) string { return m.Dest }, false))
	r.addArg("container.mount.mode", "the mode of the mount with this index or source", compile.TypeString,
		mountField(func(m *container.Mount) string { return m.Mode }, false))
	r.addArg("container.mount.rdwr", "whether the mount with this index or source is writable", compile.TypeString,
		mountField(func(m *container.Mount) string { return strconv.FormatBool(m.RW) }, false))
	r.addArg("container.mount.propagation", "the propagation of the mount with this index or source", compile.TypeString,
		mountField(func(m *container.Mount) string { return m.Propagation }, false))

	r.add("k8s.pod.name", "the pod name (kubelet label or API)", podStr(func(p *container.Pod) string { return p.Name }))
	r.add("k8s.pod.uid", "the pod uid", podStr(func(p *container.Pod) string { return p.UID }))
	r.add("k8s.pod.id", "the pod uid (legacy name)", podStr(func(p *container.Pod) string { return p.UID }))
	r.add("k8s.pod.sandbox_id", "the pod sandbox container id", podStr(func(p *container.Pod) string { return p.SandboxID }))
	r.add("k8s.pod.full_sandbox_id", "the pod sandbox container id", podStr(func(p *container.Pod) string { return p.SandboxID }))
	r.add("k8s.pod.labels", "the pod labels as key:value, comma separated (from the API)",
		podStr(func(p *container.Pod) string { return p.LabelsString() }))
	r.add("k8s.pod.serviceaccount", "the pod's service account (from the API)", podStr(func(p *container.Pod) string { return p.ServiceAccount }))
	r.add("k8s.ns.name", "the pod's namespace", podStr(func(p *container.Pod) string { return p.Namespace }))
	r.add("k8s.node.name", "the pod's node (from the API)", podStr(func(p *container.Pod) string { return p.NodeName }))
	r.add("k8s.deployment.name", "the Deployment owning the pod (from the API)", podStr(func(p *container.Pod) string { return p.Owner.Deployment }))
	r.add("k8s.rs.name", "the ReplicaSet owning the pod (from the API)", podStr(func(p *container.Pod) string { return p.Owner.ReplicaSet }))
	r.add("k8s.rc.name", "the ReplicationController owning the pod (from the API)", podStr(func(p *container.Pod) string { return p.Owner.ReplicationController }))
	r.add("k8s.daemonset.name", "the DaemonSet owning the pod (from the API)", podStr(func(p *container.Pod) string { return p.Owner.DaemonSet }))
	r.add("k8s.statefulset.name", "the StatefulSet owning the pod (from the API)", podStr(func(p *container.Pod) string { return p.Owner.StatefulSet }))
	r.add("k8s.job.name", "the Job owning the pod (from the API)", podStr(func(p *container.Pod) string { return p.Owner.Job }))
	r.add("k8s.cronjob.name", "the CronJob owning the pod's Job (from the API)", podStr(func(p *container.Pod) string { return p.Owner.CronJob }))
	for _, name := range []string{"k8s.pod.ip", "k8s.pod.cni.json", "k8s.ns.id", "k8s.ns.labels", "k8s.deployment.id", "k8s.svc.name"} {
		r.add(name, NotCollected, str(missing))
	}
	r.addArg("k8s.pod.label", "the value of one pod label", compile.TypeString, func(arg *lang.Arg) (Field, error) {
		key := ""
		if arg != nil {
			key = arg.Text
		}
		return str(func(c *Context) (string, bool) {
			info, ok := c.meta()
			if !ok || info.Pod == nil {
				return "", false
			}
			return info.Pod.Label(key)
		}), nil
	})
	none := str(missing)
	keyed := func(*lang.Arg) (Field, error) { return none, nil }
	for _, name := range []string{"k8s.ns.label", "k8s.deployment.label", "k8s.svc.label"} {
		r.addArg(name, NotCollected, compile.TypeString, keyed)
	}
}
