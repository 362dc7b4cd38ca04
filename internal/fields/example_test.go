package fields_test

import (
	"fmt"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// Look fields up by name, as the rule compiler does, and evaluate them on
// the Context of one exec event. Without a process table (a nil Env) the
// process is described by the event alone, so it has no known ancestors
// and proc.aname[1] has no value.
func ExampleRegistry_Lookup() {
	reg := fields.New()

	ev := event.New()
	defer ev.Release()
	ev.Kind, ev.Syscall = event.KindExec, -1
	ev.PID, ev.TID, ev.PPID = 4242, 4242, 1
	ev.Comm = "curl"
	ev.Exec.Exe = "/usr/bin/curl"
	ev.Exec.Args = "curl\x00-s\x00https://example.com"

	ctx := new(fields.Context)
	ctx.Reset(nil, ev, 1)

	for _, name := range []string{"evt.type", "proc.name", "proc.cmdline", "proc.pid", "proc.aname[1]", "no.such.field"} {
		src := lang.NewSource("example", name, 1, 1)
		o, err := lang.ParseOperand(src)
		if err != nil {
			fmt.Println(err)
			return
		}
		ref := lang.BaseField(o)
		f, err := reg.Lookup(ref.Name, ref.Arg)
		if err != nil {
			fmt.Printf("%s: %v\n", name, err)
			continue
		}
		fmt.Printf("%s (%s): %s\n", name, f.Type, value(f, ctx))
	}
	// Output:
	// evt.type (string): execve
	// proc.name (string): curl
	// proc.cmdline (string): curl -s https://example.com
	// proc.pid (uint64): 4242
	// proc.aname[1] (string): <no value>
	// no.such.field: unknown field "no.such.field"
}

// value renders a field's value for this example; a getter reports false
// when the event has no value for the field.
func value(f fields.Field, ctx *fields.Context) string {
	var v any
	var ok bool
	switch f.Type {
	case compile.TypeString, compile.TypeBytes:
		v, ok = f.Str(ctx)
	case compile.TypeUint:
		v, ok = f.Uint(ctx)
	case compile.TypeInt:
		v, ok = f.Int(ctx)
	case compile.TypeBool:
		v, ok = f.Bool(ctx)
	default:
		return "(" + f.Type.String() + ")"
	}
	if !ok {
		return "<no value>"
	}
	return fmt.Sprint(v)
}
