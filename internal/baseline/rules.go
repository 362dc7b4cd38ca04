package baseline

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/workload"
)

// ErrNoRuleScope is returned when no Falco field identifies the
// workload, so its baseline cannot be written as rules (a systemd unit:
// the syscall source has no field for it). Export it as json or seccomp
// instead.
var ErrNoRuleScope = errors.New("no rule field identifies this workload (a systemd unit); export json or seccomp instead")

// ruleItem is one item of a rules file, in the order of its keys.
type ruleItem struct {
	Rule      string   `yaml:"rule"`
	Desc      string   `yaml:"desc"`
	Condition string   `yaml:"condition"`
	Output    string   `yaml:"output"`
	Priority  string   `yaml:"priority"`
	Source    string   `yaml:"source"`
	Tags      []string `yaml:"tags"`
	Action    string   `yaml:"action,omitempty"`
}

// Rules writes the baseline as Falco-language rules that load in Vigil
// (and in Falco, which ignores the action key): one rule per dimension,
// scoped to the workload, matching what the baseline does not hold. A
// workload in protect gets `action: block` on its executable and outbound
// rules, the two operations Vigil can deny before they happen. Syscalls
// and capabilities are not written (see Seccomp, and no field reports a
// capability's use); neither are peers known only by DNS name. cfg gives
// the priorities (the defaults when nil).
func (d *Document) Rules(cfg *Config) ([]byte, error) {
	w, err := workload.Parse(d.Workload.ID)
	if err != nil {
		return nil, err
	}
	w.Inferred = d.Workload.Inferred
	scope, err := ruleScope(w)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		def := Default()
		cfg = &def
	}
	protect := d.Mode == Protect.String()
	var out []ruleItem
	add := func(dim Dimension, event, allowed, output string, block bool) {
		cond := event + " and " + scope
		if allowed != "" {
			cond += " and not " + allowed
		}
		it := ruleItem{
			Rule:      dim.Rule() + " (" + w.ID + ")",
			Desc:      "Learned baseline of " + w.Name + ": a " + dimInfo[dim].what + " not seen while it was learning.",
			Condition: cond,
			Output:    dim.Rule() + " (workload=" + w.ID + " " + output + " container=%container.id pod=%k8s.pod.name)",
			Priority:  strings.ToUpper(cfg.Dimension(dim).Priority),
			Source:    Source,
			Tags:      []string{"baseline", "drift", dim.String()},
		}
		if block && protect {
			it.Action = "block"
		}
		out = append(out, it)
	}
	var execs []string
	for _, x := range d.Executables {
		execs = append(execs, x.Path)
	}
	add(DimExec, "evt.type in (execve, execveat) and evt.rawres = 0", pathsCond("proc.exepath", execs),
		"exe=%proc.exepath cmdline=%proc.cmdline parent=%proc.pname", true)
	add(DimExecEdge, "evt.type in (execve, execveat) and evt.rawres = 0", edgesCond(d.ExecEdges),
		"exe=%proc.exepath parent=%proc.pexepath", false)
	add(DimFileWrite, "evt.type in (open, openat, openat2, creat) and evt.is_open_write = true and evt.rawres >= 0",
		pathsCond("fd.name", d.FilesWritten), "file=%fd.name exe=%proc.exepath", false)
	add(DimFileRead, "evt.type in (open, openat, openat2) and evt.is_open_read = true and evt.rawres >= 0 and "+
		pathsCond("fd.name", DefaultSensitivePaths), pathsCond("fd.name", d.SensitiveReads), "file=%fd.name exe=%proc.exepath", false)
	add(DimListen, "(evt.type = listen or (evt.type = bind and fd.l4proto = udp)) and evt.rawres = 0",
		portsCond(d.Listening), "port=%fd.sport proto=%fd.l4proto exe=%proc.exepath", false)
	add(DimOutbound, "evt.type = connect and (evt.rawres = 0 or evt.res = EINPROGRESS) and fd.sockfamily = ip",
		peersCond(d.Outbound, "fd.snet"), "peer=%fd.sip port=%fd.sport proto=%fd.l4proto exe=%proc.exepath", true)
	add(DimInbound, "evt.type in (accept, accept4) and evt.rawres >= 0 and fd.sockfamily = ip",
		peersCond(d.Inbound, "fd.cnet"), "client=%fd.cip port=%fd.sport proto=%fd.l4proto exe=%proc.exepath", false)
	add(DimUser, "evt.type in (execve, execveat) and evt.rawres = 0", usersCond(d.Users),
		"uid=%user.uid user=%user.name exe=%proc.exepath", false)

	header := "# Learned baseline of " + w.Name + " (" + w.ID + "), mode " + d.Mode + ",\n" +
		"# exported by Vigil (vigil baseline export --format rules). Generated: edit the baseline, not this file.\n"
	body, err := yaml.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append([]byte(header), body...), nil
}

// ruleScope is the condition that selects the workload's processes.
func ruleScope(w *workload.Workload) (string, error) {
	switch w.Kind {
	case workload.KindK8s:
		owner := map[string]string{
			workload.OwnerDeployment: "k8s.deployment.name", workload.OwnerStatefulSet: "k8s.statefulset.name",
			workload.OwnerDaemonSet: "k8s.daemonset.name", workload.OwnerJob: "k8s.job.name",
			workload.OwnerCronJob: "k8s.cronjob.name", workload.OwnerReplicaSet: "k8s.rs.name",
			workload.OwnerReplicationController: "k8s.rc.name", workload.OwnerPod: "k8s.pod.name",
		}[w.OwnerKind]
		ownerCond := owner + " = " + quote(w.Owner)
		if w.Inferred {
			// Without the API server the owner fields are empty: match
			// the pod names the controller gives.
			switch w.OwnerKind {
			case workload.OwnerDeployment, workload.OwnerCronJob:
				ownerCond = "k8s.pod.name glob " + quote(globEscape(w.Owner)+"-*-*")
			case workload.OwnerPod:
				ownerCond = "k8s.pod.name = " + quote(w.Owner)
			default:
				ownerCond = "k8s.pod.name glob " + quote(globEscape(w.Owner)+"-*")
			}
		}
		return "k8s.ns.name = " + quote(w.Namespace) + " and " + ownerCond + " and container.name = " + quote(w.Container), nil
	case workload.KindImage:
		repo, ref, isDigest := strings.Cut(w.Image, "@")
		cond := "container.image.repository = " + quote(repo)
		if isDigest {
			cond += " and container.image.digest = " + quote(ref)
		} else {
			i := strings.LastIndexByte(w.Image, ':')
			cond = "container.image.repository = " + quote(w.Image[:i]) + " and container.image.tag = " + quote(w.Image[i+1:])
		}
		return cond + " and (container.name = " + quote(w.Container) + " or container.name glob " +
			quote(globEscape(w.Container)+"[-_][0-9]*") + ")", nil
	case workload.KindExe:
		name := w.Exe[strings.LastIndexByte(w.Exe, '/')+1:]
		if len(name) > 15 {
			name = name[:15]
		}
		return "container.id = host and proc.sname = " + quote(name), nil
	}
	return "", ErrNoRuleScope
}

// pathsCond matches a field against path patterns: exact ones with in,
// the others with glob (where '*' also crosses '/', so the rule allows a
// little more than the baseline; "/**" becomes "/*").
func pathsCond(field string, patterns []string) string {
	var exact, alts []string
	for _, p := range patterns {
		if !hasWildcard(p) {
			exact = append(exact, quote(p))
			continue
		}
		g := globEscape(p)
		g = strings.ReplaceAll(g, "/"+anyDepth, "/*")
		alts = append(alts, field+" glob "+quote(g))
	}
	if len(exact) > 0 {
		alts = append([]string{field + " in (" + strings.Join(exact, ", ") + ")"}, alts...)
	}
	return anyOf(alts)
}

func edgesCond(edges []DocEdge) string {
	byParent := map[string][]string{}
	for _, e := range edges {
		byParent[e.Parent] = append(byParent[e.Parent], e.Child)
	}
	var alts []string
	for _, parent := range slices.Sorted(maps.Keys(byParent)) {
		child := pathsCond("proc.exepath", byParent[parent])
		if parent == anyParent {
			alts = append(alts, child)
			continue
		}
		alts = append(alts, "("+pathsCond("proc.pexepath", []string{parent})+" and "+child+")")
	}
	return anyOf(alts)
}

func portsCond(ports []DocPort) string {
	var alts []string
	for _, p := range ports {
		var c string
		if p.PortEnd != 0 && p.PortEnd != p.Port {
			c = "(fd.sport >= " + strconv.Itoa(int(p.Port)) + " and fd.sport <= " + strconv.Itoa(int(p.PortEnd))
		} else {
			c = "(fd.sport = " + strconv.Itoa(int(p.Port))
		}
		if p.Proto != ProtoAny.String() {
			c += " and fd.l4proto = " + p.Proto
		}
		alts = append(alts, c+")")
	}
	return anyOf(alts)
}

// peersCond matches peers grouped by port and protocol.
func peersCond(peers []DocPeer, netField string) string {
	type group struct {
		port  uint16
		proto string
	}
	nets := map[group][]string{}
	var order []group
	for _, p := range peers {
		if p.Peer == "" {
			continue // a name alone: no field holds it
		}
		g := group{p.Port, p.Proto}
		if _, ok := nets[g]; !ok {
			order = append(order, g)
		}
		cidr := p.Peer
		if !strings.Contains(cidr, "/") {
			if strings.Contains(cidr, ":") {
				cidr += "/128"
			} else {
				cidr += "/32"
			}
		}
		nets[g] = append(nets[g], quote(cidr))
	}
	var alts []string
	for _, g := range order {
		c := "(" + netField + " in (" + strings.Join(nets[g], ", ") + ")"
		if g.port != 0 {
			c += " and fd.sport = " + strconv.Itoa(int(g.port))
		}
		if g.proto != ProtoAny.String() {
			c += " and fd.l4proto = " + g.proto
		}
		alts = append(alts, c+")")
	}
	return anyOf(alts)
}

func usersCond(users []string) string {
	if slices.Contains(users, "*") {
		return "user.uid exists"
	}
	if len(users) == 0 {
		return ""
	}
	return "user.uid in (" + strings.Join(users, ", ") + ")"
}

func anyOf(alts []string) string {
	switch len(alts) {
	case 0:
		return ""
	case 1:
		return alts[0]
	}
	return "(" + strings.Join(alts, " or ") + ")"
}

// quote writes a string as a condition value.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// globEscape quotes the bytes glob treats as special, except '*'.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '?' || c == '[' || c == ']' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
