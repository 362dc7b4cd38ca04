package rules

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// falcoFields knows the names and types of the syscall fields Falco's own
// rule files use, with getters that find no values: enough to check that
// real files parse, expand and type-check.
type falcoFields struct{}

type noEvent struct{}

var falcoTyped = map[string]compile.FieldType{
	"proc.pid": compile.TypeUint, "proc.ppid": compile.TypeUint, "proc.vpid": compile.TypeUint,
	"proc.sid": compile.TypeUint, "proc.vpgid": compile.TypeUint, "proc.tty": compile.TypeUint,
	"proc.duration": compile.TypeUint, "proc.ppid.duration": compile.TypeUint,
	"proc.exe_ino.mtime": compile.TypeUint, "proc.exe_ino.ctime": compile.TypeUint,
	"proc.exe_ino.ctime_duration_proc_start": compile.TypeUint, "container.start_ts": compile.TypeUint,
	"user.uid": compile.TypeUint, "group.gid": compile.TypeUint, "evt.num": compile.TypeUint,
	"fd.sport": compile.TypeUint, "fd.dport": compile.TypeUint, "fd.lport": compile.TypeUint,
	"fd.rport": compile.TypeUint, "fd.cport": compile.TypeUint, "fd.port": compile.TypeUint,
	"user.loginuid": compile.TypeInt, "evt.rawres": compile.TypeInt, "fd.num": compile.TypeInt,
	"evt.is_open_read": compile.TypeBool, "evt.is_open_write": compile.TypeBool,
	"evt.is_open_exec": compile.TypeBool, "fd.name_changed": compile.TypeBool,
	"fd.connected": compile.TypeBool, "container.privileged": compile.TypeBool,
	"proc.is_exe_upper_layer": compile.TypeBool, "proc.is_exe_from_memfd": compile.TypeBool,
	"proc.is_vpgid_leader": compile.TypeBool, "proc.is_sid_leader": compile.TypeBool,
	"proc.is_exe_writable": compile.TypeBool, "evt.failed": compile.TypeBool,
	"fd.ip": compile.TypeIPAddr, "fd.cip": compile.TypeIPAddr, "fd.sip": compile.TypeIPAddr,
	"fd.lip": compile.TypeIPAddr, "fd.rip": compile.TypeIPAddr,
	"fd.net": compile.TypeIPNet, "fd.cnet": compile.TypeIPNet, "fd.snet": compile.TypeIPNet,
	"fd.lnet": compile.TypeIPNet, "fd.rnet": compile.TypeIPNet,
	"fd.types": compile.TypeStrList, "evt.buffer": compile.TypeBytes,
}

// falcoArgFields take a bracketed argument.
var falcoArgFields = map[string]bool{
	"proc.aname": true, "proc.aexepath": true, "proc.aexe": true, "proc.apid": true,
	"proc.acmdline": true, "proc.env": true, "evt.arg": true, "evt.rawarg": true,
	"container.mount.dest": true, "container.mount.source": true, "k8s.pod.label": true,
	"k8s.pod.labels": true,
}

var falcoPrefixes = []string{"evt.", "proc.", "fd.", "fdlist.", "user.", "group.", "container.", "k8s.", "thread.", "fs.", "syscall.", "proc.", "span."}

func (falcoFields) Lookup(name string, arg *lang.Arg) (compile.Field[*noEvent], error) {
	known := false
	for _, p := range falcoPrefixes {
		known = known || strings.HasPrefix(name, p)
	}
	if !known {
		return compile.Field[*noEvent]{}, &compile.UnknownFieldError{Name: name}
	}
	if arg != nil && !falcoArgFields[name] {
		return compile.Field[*noEvent]{}, &compile.UnknownFieldError{Name: name + "[" + arg.Text + "]"}
	}
	t, ok := falcoTyped[name]
	if !ok {
		t = compile.TypeString
	}
	f := compile.Field[*noEvent]{Type: t}
	f.Str = func(*noEvent) (string, bool) { return "", false }
	f.Uint = func(*noEvent) (uint64, bool) { return 0, false }
	f.Int = func(*noEvent) (int64, bool) { return 0, false }
	f.Bool = func(*noEvent) (bool, bool) { return false, false }
	f.Addr = func(*noEvent) (netip.Addr, bool) { return netip.Addr{}, false }
	f.List = func(*noEvent) ([]string, bool) { return nil, false }
	return f, nil
}

// TestFalcoRulesLoad loads real Falco rule files, which are not part of
// this repository: point VIGIL_FALCO_RULES at them (a path list).
func TestFalcoRulesLoad(t *testing.T) {
	env := os.Getenv("VIGIL_FALCO_RULES")
	if env == "" {
		t.Skip("set VIGIL_FALCO_RULES to Falco rule files to check that they load")
	}
	paths := filepath.SplitList(env)
	p, diags, err := load[*noEvent](falcoFields{}, paths...)
	if err != nil {
		t.Fatal(err)
	}
	warnings := 0
	for _, d := range diags {
		if d.Severity == lang.SeverityError {
			t.Errorf("%s", d)
		} else {
			warnings++
			t.Logf("%s", d)
		}
	}
	enabled := 0
	for _, r := range p.Rules() {
		if r.Enabled {
			enabled++
		}
	}
	t.Logf("%d rules compiled (%d enabled), %d warnings, %d event types indexed", len(p.Rules()), enabled, warnings, len(p.EventTypeNames())-1)
}
