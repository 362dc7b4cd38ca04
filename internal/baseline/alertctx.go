package baseline

import (
	"strings"
	"sync"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/compile"
)

// ctxFields are the fields a drift alert reads from the event's context,
// resolved once.
var ctxFields = sync.OnceValue(func() map[string]fields.Field {
	reg := fields.New()
	out := map[string]fields.Field{}
	for _, name := range []string{"proc.cmdline", "user.name", "container.id", "container.name", "container.image",
		"k8s.pod.name", "k8s.ns.name", "evt.type"} {
		f, err := reg.Lookup(name, nil)
		if err != nil {
			// Only a broken registry gets here; its own tests catch that.
			f = compile.StringField(func(*fields.Context) (string, bool) { return "", false })
		}
		out[name] = f
	}
	return out
})

// captured is what a drift alert takes from its event: the context
// block, as rule alerts have it, and the usual Falco fields for
// output_fields. It owns its strings, so it outlives the event.
type captured struct {
	ctx    alert.Context
	fields map[string]any
}

// capture copies what an alert needs from c; c may be nil (a fact
// reported without its event).
func capture(c *fields.Context) *captured {
	ac := alert.Context{Process: alert.Process{Ancestors: []string{}}}
	of := map[string]any{}
	if c == nil || c.Event == nil {
		return &captured{ctx: ac, fields: of}
	}
	fs := ctxFields()
	str := func(name string) string {
		if s, ok := fs[name].Str(c); ok {
			return strings.Clone(s)
		}
		return ""
	}
	ev := c.Event
	ac.Process = alert.Process{PID: ev.PID, PPID: c.Proc.PPID, ExePath: strings.Clone(c.Proc.Exe),
		Cmdline: str("proc.cmdline"), Ancestors: []string{}}
	for _, a := range c.Ancestors() {
		ac.Process.Ancestors = append(ac.Process.Ancestors, strings.Clone(a.Comm))
	}
	id := alert.Identity{UID: c.Proc.EUID, CgroupID: ev.CgroupID, User: str("user.name"), ContainerID: str("container.id")}
	if id.CgroupID == 0 {
		id.CgroupID = c.Proc.CgroupID
	}
	if id.ContainerID != "host" {
		id.ContainerName, id.Image = str("container.name"), str("container.image")
		id.Pod, id.Namespace = str("k8s.pod.name"), str("k8s.ns.name")
	}
	ac.Identity = id
	of["evt.type"] = str("evt.type")
	of["proc.pid"] = ev.PID
	of["proc.exepath"] = ac.Process.ExePath
	of["proc.cmdline"] = ac.Process.Cmdline
	of["user.uid"] = id.UID
	of["container.id"] = id.ContainerID
	for k, v := range map[string]string{"container.name": id.ContainerName, "container.image": id.Image,
		"k8s.pod.name": id.Pod, "k8s.ns.name": id.Namespace} {
		if v != "" {
			of[k] = v
		} else {
			of[k] = nil
		}
	}
	return &captured{ctx: ac, fields: of}
}
