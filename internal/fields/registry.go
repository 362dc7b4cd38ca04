package fields

import (
	"fmt"
	"sort"

	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// NotCollected is the description of fields that Falco rules may name but
// Vigil never fills in: they load, and render as <NA> for every event.
const NotCollected = "not collected: missing for every process"

// Field is the compiled form of a field over a Context.
type Field = compile.Field[*Context]

// ArgMode says whether a field takes a bracketed argument.
type ArgMode uint8

// Argument modes.
const (
	NoArg       ArgMode = iota // proc.name
	ArgRequired                // k8s.pod.label[app]
	ArgOptional                // proc.aname and proc.aname[2]
)

// Info describes a registered field, for documentation and listings.
type Info struct {
	Name string
	Type compile.FieldType
	Arg  ArgMode
	Desc string
}

type entry struct {
	info    Info
	field   Field                              // without an argument
	withArg func(arg *lang.Arg) (Field, error) // with one
}

// Registry resolves field names for the rule compiler. It is immutable
// after New and safe for concurrent use.
type Registry struct {
	byName map[string]*entry
	dups   []string // names registered twice: a bug this package's tests catch
}

// New returns a registry holding every field Vigil provides.
func New() *Registry {
	r := &Registry{byName: map[string]*entry{}}
	registerEvt(r)
	registerEvtArgs(r)
	registerProc(r)
	registerAncestors(r)
	registerIdentity(r)
	registerFD(r)
	registerStdio(r)
	registerContainer(r)
	registerWorkload(r)
	registerTarget(r)
	registerLoaderEnv(r)
	return r
}

// Lookup implements compile.FieldResolver. Names it does not know give a
// *compile.UnknownFieldError, so the compiler skips rules that use them
// with a positioned warning (an error in strict mode).
func (r *Registry) Lookup(name string, arg *lang.Arg) (Field, error) {
	e, ok := r.byName[name]
	if !ok {
		return Field{}, &compile.UnknownFieldError{Name: name}
	}
	switch {
	case arg == nil && e.info.Arg == ArgRequired:
		return Field{}, fmt.Errorf("field %s needs an argument, as in %s[...]", name, name)
	case arg != nil && e.info.Arg == NoArg:
		return Field{}, fmt.Errorf("field %s takes no argument", name)
	case arg != nil:
		return e.withArg(arg)
	}
	return e.field, nil
}

// Fields lists every registered field, sorted by name.
func (r *Registry) Fields() []Info {
	out := make([]Info, 0, len(r.byName))
	for _, e := range r.byName {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// add registers a field that takes no argument.
func (r *Registry) add(name, desc string, f Field) {
	r.put(&entry{info: Info{Name: name, Type: f.Type, Desc: desc}, field: f})
}

// addArg registers a field that needs an argument; typ is what withArg
// returns.
func (r *Registry) addArg(name, desc string, typ compile.FieldType, withArg func(*lang.Arg) (Field, error)) {
	r.put(&entry{info: Info{Name: name, Type: typ, Arg: ArgRequired, Desc: desc}, withArg: withArg})
}

// addOptArg registers a field usable with and without an argument.
func (r *Registry) addOptArg(name, desc string, f Field, withArg func(*lang.Arg) (Field, error)) {
	r.put(&entry{info: Info{Name: name, Type: f.Type, Arg: ArgOptional, Desc: desc}, field: f, withArg: withArg})
}

func (r *Registry) put(e *entry) {
	if _, dup := r.byName[e.info.Name]; dup {
		r.dups = append(r.dups, e.info.Name)
		return
	}
	r.byName[e.info.Name] = e
}

// index parses a field's numeric argument.
func index(name string, arg *lang.Arg) (int, error) {
	n, ok := arg.Index()
	if !ok {
		return 0, fmt.Errorf("%s needs a number in brackets, as in %s[1], not %q", name, name, arg.Text)
	}
	return n, nil
}

// Typed field constructors, shorter to read in the tables that follow.

func str(get func(*Context) (string, bool)) Field { return compile.StringField(get) }
func num(get func(*Context) (uint64, bool)) Field { return compile.UintField(get) }
func integer(get func(*Context) (int64, bool)) Field {
	return compile.IntField(get)
}
func boolean(get func(*Context) (bool, bool)) Field { return compile.BoolField(get) }

// missing is the getter of fields that have no value for any event yet.
func missing(*Context) (string, bool) { return "", false }
