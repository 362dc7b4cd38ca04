package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/yamldoc"
)

// EnvPrefix starts every environment variable that overrides a key: the
// key's path in upper case with "_" for "." (outputs.http.url is
// VIGIL_OUTPUTS_HTTP_URL).
const EnvPrefix = "VIGIL_"

// Keys returns every key's dotted path, sorted, for documentation checks
// and for EnvName.
func Keys() []string {
	var keys []string
	walk(reflect.ValueOf(Default()).Elem(), "", func(path string, _ reflect.Value) { keys = append(keys, path) })
	sort.Strings(keys)
	return keys
}

// EnvName is the environment variable that overrides the key at path.
func EnvName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// walk calls fn for every leaf key under v (a struct), with its path.
func walk(v reflect.Value, path string, fn func(string, reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		f := v.Field(i)
		switch {
		case opts == "inline":
			walk(f, path, fn)
		case f.Kind() == reflect.Struct && !reflect.PointerTo(f.Type()).Implements(unmarshalerType):
			walk(f, join(path, name), fn)
		default:
			fn(join(path, name), f)
		}
	}
}

// ApplyEnv sets keys from VIGIL_* variables in environ. Values are read
// as YAML ("true", "5s", "[a, b]", "{X-Token: t}"), except that string
// keys take the value as it is and lists also accept "a,b". Variables
// that name no key are ignored: the environment is shared with other
// programs.
func ApplyEnv(c *Config, environ []string) error {
	return applyEnv(reflect.ValueOf(c).Elem(), environ)
}

func applyEnv(v reflect.Value, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	var err error
	walk(v, "", func(path string, f reflect.Value) {
		name := EnvName(path)
		val, ok := env[name]
		if !ok || err != nil {
			return
		}
		err = setValue(f, path, val, "$"+name)
	})
	return err
}

// setValue sets the key at path from a text value, read as YAML, except
// that a string key takes it as it is and a list also accepts "a,b";
// source names where the value came from, in errors.
func setValue(f reflect.Value, path, val, source string) error {
	switch {
	case f.Kind() == reflect.String:
		f.SetString(val)
		return nil
	case f.Kind() == reflect.Slice && !strings.HasPrefix(strings.TrimSpace(val), "["):
		var parts []string
		for _, p := range strings.Split(val, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
		return nil
	}
	n, e := yamldoc.ParseOne(source, []byte(val))
	if e != nil || n == nil || len(n.Content) == 0 {
		return posError(source, &yaml.Node{Line: 1, Column: 1}, "%s: not a valid value: %q", path, val)
	}
	return decode(source, n.Content[0], f, path, 0)
}

// ApplyOverride sets one key from "key=value", the value read as YAML (a
// string key takes it as it is): a Vigil key by its dotted path, or a
// Falco key of falco.yaml, mapped as in a falco.yaml. It returns the
// Falco key's notes.
func ApplyOverride(c *Config, kv string) ([]Note, error) {
	key, val, ok := strings.Cut(kv, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return nil, fmt.Errorf("-o %q: want key=value", kv)
	}
	found := false
	var err error
	walk(reflect.ValueOf(c).Elem(), "", func(path string, f reflect.Value) {
		if path == key && !found {
			found = true
			err = setValue(f, path, val, "-o "+key)
		}
	})
	if found {
		return nil, err
	}
	if !isFalcoKey(key) {
		return nil, fmt.Errorf("-o %s: no such key in Vigil's configuration or Falco's", key)
	}
	n, e := yamldoc.ParseOne("-o "+key, []byte(val))
	if e != nil || n == nil || len(n.Content) == 0 {
		n = &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: val}}}
	}
	top := &yaml.Node{Kind: yaml.MappingNode}
	cur := top
	parts := strings.Split(key, ".")
	for i, p := range parts {
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p, Line: 1, Column: 1}
		v := n.Content[0]
		if i < len(parts)-1 {
			v = &yaml.Node{Kind: yaml.MappingNode}
		}
		cur.Content = append(cur.Content, k, v)
		cur = v
	}
	return ParseFalco(c, top, "-o "+key)
}
