package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/yamldoc"
)

// maxDepth bounds nesting, so that hostile input cannot recurse deeply;
// the schema itself is three levels deep.
const maxDepth = 16

// Load reads path over the defaults and then applies VIGIL_* variables
// from environ (os.Environ() form). A missing file is not an error unless
// required is set. It is LoadFile without overrides, for callers that do
// not need to know what the file was.
func Load(path string, required bool, environ []string) (*Config, error) {
	c, _, err := LoadFile(path, required, environ, nil)
	return c, err
}

// LoadFile reads path (Vigil's configuration, or Falco's falco.yaml,
// told apart by DetectKind) over the defaults, applies VIGIL_* variables
// from environ, then the overrides ("key=value", Falco's -o: a Vigil key
// or a Falco one, the value read as YAML), and validates. A missing file
// is not an error unless required is set. The FileInfo says which kind
// the file was and, for Falco's, which keys were ignored or mapped with a
// difference.
func LoadFile(path string, required bool, environ, overrides []string) (*Config, *FileInfo, error) {
	c := Default()
	info := &FileInfo{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		doc, err := yamldoc.ParseOne(path, data)
		if err != nil {
			return nil, nil, err
		}
		var top *yaml.Node
		if doc != nil && len(doc.Content) > 0 {
			top = doc.Content[0]
		}
		if info.Kind, err = DetectKind(path, top); err != nil {
			return nil, nil, err
		}
		if info.Kind == KindFalco {
			c = FalcoDefaults()
			if info.Notes, err = ParseFalco(c, top, path); err != nil {
				return nil, nil, err
			}
		} else if top != nil {
			if err := decode(path, top, reflect.ValueOf(c).Elem(), "", 0); err != nil {
				return nil, nil, err
			}
		}
	case errors.Is(err, os.ErrNotExist) && !required:
	default:
		return nil, nil, err
	}
	if err := ApplyEnv(c, environ); err != nil {
		return nil, nil, err
	}
	for _, o := range overrides {
		notes, err := ApplyOverride(c, o)
		if err != nil {
			return nil, nil, err
		}
		info.Notes = append(info.Notes, notes...)
	}
	c.Kubernetes.applyNodeName(environ)
	c.Priority = strings.ToLower(strings.TrimSpace(c.Priority))
	return c, info, c.Validate()
}

// Parse decodes Vigil's YAML data over c. Keys missing from data keep c's
// values; unknown keys and mistyped values are errors at file:line:col.
func Parse(c *Config, data []byte, file string) error {
	return parseInto(reflect.ValueOf(c).Elem(), data, file)
}

func parseInto(v reflect.Value, data []byte, file string) error {
	doc, err := yamldoc.ParseOne(file, data)
	if err != nil {
		return err
	}
	if doc == nil || len(doc.Content) == 0 { // empty file
		return nil
	}
	return decode(file, doc.Content[0], v, "", 0)
}

// posError is an error at a node's position.
func posError(file string, n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d:%d: %s", file, n.Line, n.Column, fmt.Sprintf(format, args...))
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func decode(file string, n *yaml.Node, v reflect.Value, path string, depth int) error {
	if depth > maxDepth {
		return posError(file, n, "nested too deeply")
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return decode(file, n.Alias, v, path, depth+1)
	}
	if v.Kind() != reflect.Struct || reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil // "key:" with no value keeps the default
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return posError(file, n, "%s: %s", path, cleanYAMLError(err))
		}
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return posError(file, n, "%s: want a mapping", orTop(path))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return posError(file, k, "%s: keys must be plain names", orTop(path))
		}
		if seen[k.Value] {
			return posError(file, k, "duplicate key %q", join(path, k.Value))
		}
		seen[k.Value] = true
		f, ok := field(v, k.Value)
		if !ok {
			return posError(file, k, "unknown key %q", join(path, k.Value))
		}
		if err := decode(file, val, f, join(path, k.Value), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// field finds the struct field with yaml name key, looking into inline
// structs.
func field(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if opts == "inline" {
			if f, ok := field(v.Field(i), key); ok {
				return f, true
			}
			continue
		}
		if name == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// cleanYAMLError drops yaml's own "yaml: unmarshal errors:\n  line N:"
// prefix, since the position is already given.
func cleanYAMLError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s, "yaml: ") {
		s = s[i+2:]
	}
	return strings.TrimSpace(s)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "the configuration"
	}
	return path
}
