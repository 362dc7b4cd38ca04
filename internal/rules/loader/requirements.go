package loader

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

func (r *reader) engineVersion(m *mapping) {
	e, _ := m.get("required_engine_version")
	s, ok := r.str(e, "required_engine_version")
	if !ok {
		return
	}
	v, ok := parseVersion(s)
	if !ok {
		r.errorf(e.val, "required_engine_version %q is not a version", s)
		return
	}
	if r.l.opts.EngineVersion != "" {
		if have, ok := parseVersion(r.l.opts.EngineVersion); ok && compareVersions(v, have) > 0 {
			r.errorf(e.val, "rules require engine version %s, but this engine is version %s", s, r.l.opts.EngineVersion)
			return
		}
	}
	if old, ok := parseVersion(r.l.reqEngine); !ok || compareVersions(v, old) > 0 {
		r.l.reqEngine = s
	}
}

func (r *reader) pluginVersions(m *mapping) {
	e, _ := m.get("required_plugin_versions")
	if isNull(e.val) {
		return
	}
	if e.val.Kind != yaml.SequenceNode {
		r.errorf(e.val, "required_plugin_versions must be a sequence, found %s", kindName(e.val))
		return
	}
	for _, n := range e.val.Content {
		req, ok := r.pluginRequirement(deref(n))
		if !ok {
			continue
		}
		r.l.plugins = append(r.l.plugins, req)
		if r.l.opts.Plugins != nil && !satisfied(req, r.l.opts.Plugins) {
			alt := req.Alternatives[0]
			r.errorf(n, "rules require plugin %s version %s or a compatible alternative, which is not loaded", alt.Name, alt.Version)
		}
	}
}

func (r *reader) pluginRequirement(n *yaml.Node) (PluginRequirement, bool) {
	req := PluginRequirement{Pos: r.f.nodePos(n)}
	first, ok := r.pluginVersion(n)
	if !ok {
		return req, false
	}
	req.Alternatives = append(req.Alternatives, first)
	m, _ := r.mapping(n)
	r.checkKeys(m, set("name", "version", "alternatives"), "required_plugin_versions")
	if e, has := m.get("alternatives"); has && !isNull(e.val) {
		if e.val.Kind != yaml.SequenceNode {
			r.errorf(e.val, "alternatives must be a sequence, found %s", kindName(e.val))
			return req, false
		}
		for _, a := range e.val.Content {
			alt, ok := r.pluginVersion(deref(a))
			if !ok {
				return req, false
			}
			req.Alternatives = append(req.Alternatives, alt)
		}
	}
	return req, true
}

func (r *reader) pluginVersion(n *yaml.Node) (PluginVersion, bool) {
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "a plugin requirement must be a mapping with name and version, found %s", kindName(n))
		return PluginVersion{}, false
	}
	m, ok := r.mapping(n)
	if !ok {
		return PluginVersion{}, false
	}
	var pv PluginVersion
	for _, k := range []string{"name", "version"} {
		e, has := m.get(k)
		if !has {
			r.errorf(n, "a plugin requirement is missing %q", k)
			return pv, false
		}
		s, ok := r.str(e, "plugin requirement")
		if !ok {
			return pv, false
		}
		if k == "name" {
			pv.Name = s
		} else if _, valid := parseVersion(s); !valid {
			r.errorf(e.val, "plugin %s: %q is not a version", pv.Name, s)
			return pv, false
		} else {
			pv.Version = s
		}
	}
	return pv, true
}

func satisfied(req PluginRequirement, have map[string]string) bool {
	for _, alt := range req.Alternatives {
		got, ok := have[alt.Name]
		if !ok {
			continue
		}
		want, _ := parseVersion(alt.Version)
		if gv, ok := parseVersion(got); ok && compareVersions(gv, want) >= 0 {
			return true
		}
	}
	return false
}

// parseVersion reads "major.minor.patch" (a leading v and any pre-release
// suffix are ignored). A bare integer N is Falco's old engine numbering,
// which corresponds to 0.N.0.
func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if s == "" {
		return v, false
	}
	if cut := strings.IndexAny(s, "-+"); cut >= 0 {
		s = s[:cut]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	if len(parts) == 1 {
		v = [3]int{0, v[0], 0}
	}
	return v, true
}

func compareVersions(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
