package fields

import "github.com/vigilsec/vigil/internal/workload"

// WorkloadResolver names the workload a process belongs to, the identity
// baselines are kept under (*workload.Resolver implements it).
type WorkloadResolver interface {
	Resolve(cgroupID uint64, pid uint32) (*workload.Workload, bool)
}

var _ WorkloadResolver = (*workload.Resolver)(nil)

// Workload returns the workload of the event's process, resolved once
// per event on first use (rules, the alert's context block and the
// baseline observer share the answer). It is nil when Env has no
// resolver or no workload can be named yet (a container its runtime has
// not described).
func (c *Context) Workload() *workload.Workload {
	if c.wlDone {
		return c.wl
	}
	c.wlDone, c.wl = true, nil
	if c.Env.Workloads == nil {
		return nil
	}
	cg := c.Event.CgroupID
	if cg == 0 {
		cg = c.Proc.CgroupID
	}
	if w, ok := c.Env.Workloads.Resolve(cg, c.Event.PID); ok {
		c.wl = w
	}
	return c.wl
}

// registerWorkload adds workload.*, answered by the workload resolver in
// Env (see docs/baselines.md for the identity grammar).
func registerWorkload(r *Registry) {
	r.add("workload.id", "the workload's stable identity, as baselines name it (k8s/<ns>/<owner kind>/<owner>/<container>, image/..., host/unit/..., host/exe/...)",
		str(func(c *Context) (string, bool) {
			if w := c.Workload(); w != nil {
				return w.ID, true
			}
			return "", false
		}))
	r.add("workload.name", "the workload described for people, e.g. deployment shop/web, container app",
		str(func(c *Context) (string, bool) {
			if w := c.Workload(); w != nil {
				return w.Name, true
			}
			return "", false
		}))
	r.add("workload.kind", "what the workload identity is made of: k8s, image, unit or exe",
		str(func(c *Context) (string, bool) {
			if w := c.Workload(); w != nil {
				return w.Kind.String(), true
			}
			return "", false
		}))
}
