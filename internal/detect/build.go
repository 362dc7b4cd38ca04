package detect

import (
	"strings"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/compile"
)

// alertBuilder turns a match into an [alert.Alert]. It runs on the event path, so
// everything it can resolve ahead (each rule's placeholders, the fields of
// the context block) is resolved once, in newAlertBuilder.
type alertBuilder struct {
	env          *fields.Env
	placeholders atomic.Pointer[placeholderMap] // see setProgram
	cmdline      fields.Field
	user         fields.Field
	container    fields.Field
	contName     fields.Field
	image        fields.Field
	podName      fields.Field
	namespace    fields.Field
}

func newAlertBuilder(p *Program, env *fields.Env) *alertBuilder {
	reg := fields.New()
	must := func(name string) fields.Field {
		f, err := reg.Lookup(name, nil)
		if err != nil {
			// Only a broken registry gets here; its tests catch that. A
			// field without a getter would fail later, so use one that
			// never has a value.
			return compile.StringField(func(*fields.Context) (string, bool) { return "", false })
		}
		return f
	}
	b := &alertBuilder{
		env:       env,
		cmdline:   must("proc.cmdline"),
		user:      must("user.name"),
		container: must("container.id"),
		contName:  must("container.name"),
		image:     must("container.image"),
		podName:   must("k8s.pod.name"),
		namespace: must("k8s.ns.name"),
	}
	b.setProgram(p, nil)
	return b
}

// build makes the alert for rule r matching the event in c. Everything in
// it is copied out of the event, which dies when the handler returns. buf
// is scratch space, returned for reuse.
func (b *alertBuilder) build(c *fields.Context, r *Rule, buf []byte) (*alert.Alert, []byte) {
	ev := c.Event
	buf = r.Output.Render(c, buf[:0])
	a := &alert.Alert{
		Time:         b.env.Clock.Wall(ev.Timestamp),
		Rule:         r.Name,
		Priority:     r.Priority.String(),
		Source:       r.Source,
		Hostname:     b.env.Hostname,
		Output:       strings.TrimRight(string(buf), " \n"),
		Tags:         r.Tags,
		OutputFields: map[string]any{},
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	for _, p := range b.placeholdersOf(r) {
		a.OutputFields[p.Name] = value(p, c)
	}
	a.Context = b.context(c)
	return a, buf
}

// context fills the fixed context block.
func (b *alertBuilder) context(c *fields.Context) alert.Context {
	ev := c.Event
	pc := alert.Process{
		PID:       ev.PID,
		PPID:      c.Proc.PPID,
		ExePath:   strings.Clone(c.Proc.Exe),
		Ancestors: []string{},
	}
	if s, ok := b.cmdline.Str(c); ok {
		pc.Cmdline = strings.Clone(s)
	}
	for _, p := range c.Ancestors() {
		pc.Ancestors = append(pc.Ancestors, strings.Clone(p.Comm))
	}
	id := alert.Identity{UID: c.Proc.EUID, CgroupID: ev.CgroupID}
	if id.CgroupID == 0 {
		id.CgroupID = c.Proc.CgroupID
	}
	if s, ok := b.user.Str(c); ok {
		id.User = strings.Clone(s)
	}
	if s, ok := b.container.Str(c); ok {
		id.ContainerID = strings.Clone(s)
	}
	if id.ContainerID != "host" {
		for _, f := range []struct {
			field fields.Field
			dst   *string
		}{
			{b.contName, &id.ContainerName}, {b.image, &id.Image}, {b.podName, &id.Pod}, {b.namespace, &id.Namespace},
		} {
			if s, ok := f.field.Str(c); ok {
				*f.dst = strings.Clone(s)
			}
		}
	}
	return alert.Context{Process: pc, Identity: id, Workload: WorkloadOf(c)}
}

// WorkloadOf returns the context block's workload for the event in c,
// nil when none can be named. The strings are the resolver's, immutable
// and shared, so they need no copy.
func WorkloadOf(c *fields.Context) *alert.Workload {
	if w := c.Workload(); w != nil {
		return &alert.Workload{ID: w.ID, Name: w.Name}
	}
	return nil
}

// value returns a placeholder's value for JSON with its type: nil when
// missing, as Falco writes null.
func value(p compile.Placeholder[*fields.Context], c *fields.Context) any {
	if !p.Resolved {
		return nil
	}
	f := p.Field
	switch f.Type {
	case compile.TypeString, compile.TypeBytes:
		if s, ok := f.Str(c); ok {
			return strings.Clone(s)
		}
	case compile.TypeUint:
		if n, ok := f.Uint(c); ok {
			return n
		}
	case compile.TypeInt:
		if n, ok := f.Int(c); ok {
			return n
		}
	case compile.TypeBool:
		if v, ok := f.Bool(c); ok {
			return v
		}
	case compile.TypeIPAddr, compile.TypeIPNet:
		if a, ok := f.Addr(c); ok {
			return a.String()
		}
	case compile.TypeStrList:
		if l, ok := f.List(c); ok {
			out := make([]string, len(l))
			for i, s := range l {
				out[i] = strings.Clone(s)
			}
			return out
		}
	}
	return nil
}
