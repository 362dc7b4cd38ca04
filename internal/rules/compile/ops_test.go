package compile

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

func compileText(t *testing.T, cond string) (func(*testEvent) bool, error) {
	t.Helper()
	e, err := lang.Parse(lang.NewSource("t", cond, 1, 1))
	if err != nil {
		t.Fatalf("parse %q: %v", cond, err)
	}
	return Condition[*testEvent](e, testResolver{})
}

func TestOperators(t *testing.T) {
	ev := shell()
	for _, c := range []struct {
		cond string
		want bool
	}{
		// strings
		{"proc.name = bash", true},
		{"proc.name == sh", false},
		{"proc.name != sh", true},
		{"proc.name < bz", true},
		{"proc.name <= bash", true},
		{"proc.name > bash", false},
		{"proc.name >= ba", true},
		{"proc.cmdline contains curl", true},
		{"proc.cmdline contains wget", false},
		{"proc.cmdline icontains CURL", true},
		{"proc.cmdline icontains 'HTTP://X |'", true},
		{"proc.name startswith ba", true},
		{"proc.exepath endswith /bash", true},
		{"fd.name glob /etc/*", true},
		{"fd.name glob /etc/s?ad[a-z]w", true},
		{"fd.name glob /tmp/*", false},
		{"fd.name glob *shadow", true},
		{"fd.name iglob /ETC/SHAD*", true},
		{"fd.name glob /ETC/SHAD*", false},
		{`proc.cmdline regex "bash -c .*"`, true},
		{"proc.cmdline regex curl", false}, // anchored at both ends
		{`proc.name regex "(ba|z)sh"`, true},
		{"proc.name in (sh, bash)", true},
		{"proc.name in (sh, zsh)", false},
		{"proc.name in (a, b, c, d, e, f, g, h, i, j, bash)", true}, // hashed set
		{"proc.name in ()", false},
		{"proc.name intersects (bash)", true},
		{"fd.name pmatch (/etc)", true},
		{"fd.name pmatch (/et)", false},
		{"fd.name pmatch (/usr, /etc/shadow)", true},
		{"fd.name pmatch (/)", true},
		{"evt.buffer bcontains 454C46", true},
		{"evt.buffer bstartswith 7f454c46", true},
		{"evt.buffer bstartswith 454C46", false},
		{"evt.buffer = 'x'", false},
		{"proc.name exists", true},
		// missing values compare false, whatever the operator
		{"fd.name exists", true},
		{"proc.ppid exists", true},
		// numbers
		{"proc.pid = 4242", true},
		{"proc.pid != 4242", false},
		{"proc.pid < 5000", true},
		{"proc.pid <= 4242", true},
		{"proc.pid > 4242", false},
		{"proc.pid >= 0x1092", true},
		{"proc.pid in (1, 2, 4242)", true},
		{"proc.pid in (1, 2, 3)", false},
		{"evt.rawres < 0", true},
		{"evt.rawres = -13", true},
		{"evt.rawres in (-13, -1)", true},
		// booleans
		{"proc.tty = true", true},
		{"proc.tty != true", false},
		{"proc.tty = false", false},
		{"proc.tty in (false, true)", true},
		// addresses and networks
		{"fd.ip = 10.1.2.3", true},
		{"fd.ip = 10.1.2.4", false},
		{"fd.ip = 10.0.0.0/8", true},
		{"fd.ip != 192.168.0.0/16", true},
		{"fd.ip in (192.168.0.0/16, 10.1.2.3)", true},
		{"fd.ip in (::ffff:10.1.2.3)", true},
		{"fd.ip in (fe80::/10)", false},
		{"fd.net = 10.1.0.0/16", true},
		// list fields: in means all, intersects any
		{"proc.args in (-c, curl, wget)", true},
		{"proc.args in (-c)", false},
		{"proc.args intersects (wget, curl)", true},
		{"proc.args intersects (wget)", false},
		{"proc.args exists", true},
		// transformers
		{"tolower(proc.cmdline) contains 'http://x'", true},
		{"toupper(proc.name) = BASH", true},
		{"basename(proc.exepath) = bash", true},
		{"len(proc.name) = 4", true},
		{"len(proc.args) > 1", true},
		{"toupper(basename(proc.exepath)) = BASH", true},
		{"tolower(proc.args) intersects (curl)", true},
		// fields on the right
		{"proc.name = val(proc.name)", true},
		{"proc.name = val(proc.pname)", false},
		{"proc.name != val(proc.pname)", true},
		{"proc.pid > val(proc.ppid)", true},
		{"proc.exepath startswith val(fd.name)", false},
		{"basename(proc.pexepath) = val(proc.pname)", true},
		{"toupper(proc.pname) = toupper(val(proc.pname))", true},
		// arguments
		{"proc.aname[0] = sshd", true},
		{"proc.aname[1] = systemd", true},
		{"proc.aname[5] = x", false},
		{"proc.aname[5] exists", false},
		{`proc.env[HOME] = /root`, true},
		// logic
		{"proc.name = bash and not proc.pname = bash", true},
		{"proc.name = sh or proc.pname = sshd and proc.pid = 4242", true},
		{"(proc.name = sh or proc.pname = sshd) and proc.pid = 1", false},
		{"not not proc.name = bash", true},
		{"proc.name = a or proc.name = b or proc.name = bash", true},
		{"proc.name = bash and proc.pid > 1 and proc.tty = true", true},
	} {
		f, err := compileText(t, c.cond)
		if err != nil {
			t.Errorf("%s: %v", c.cond, err)
			continue
		}
		if got := f(ev); got != c.want {
			t.Errorf("%s = %v, want %v", c.cond, got, c.want)
		}
	}
}

func TestMissingValues(t *testing.T) {
	ev := &testEvent{Type: "open"} // no process, no fd, no address
	for _, cond := range []string{
		"proc.name = bash", "proc.name != bash", "proc.name contains b",
		"proc.name in (bash)", "fd.name pmatch (/)", "fd.ip != 10.0.0.0/8",
		"fd.name exists", "proc.args intersects (x)", "proc.args in (x)",
		"proc.name = val(evt.type)", "evt.type = val(proc.name)", "proc.ppid < 5",
		"len(proc.name) = 0", "tolower(fd.name) = x",
	} {
		f, err := compileText(t, cond)
		if err != nil {
			t.Errorf("%s: %v", cond, err)
			continue
		}
		if f(ev) {
			t.Errorf("%s is true for an event without the field", cond)
		}
	}
	f, _ := compileText(t, "not proc.name = bash")
	if !f(ev) {
		t.Error("not over a missing value should be true")
	}
	f, _ = compileText(t, "proc.args in (x)")
	if f(&testEvent{Args: []string{}}) {
		t.Error("in over an empty list should be false")
	}
	f, _ = compileText(t, "b64(proc.cmdline) = hi")
	if f(&testEvent{Cmdline: "not base64!"}) || !f(&testEvent{Cmdline: "aGk="}) || !f(&testEvent{Cmdline: "aGk"}) {
		t.Error("b64 should decode padded and unpadded base64 and fail on anything else")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ cond, want string }{
		{"no.such = 1", `t:1:1: unknown field "no.such"`},
		{"proc.pid = abc", `t:1:12: "abc" is not an unsigned number, as proc.pid needs`},
		{"proc.pid in (1, x)", `t:1:17: "x" is not an unsigned number, as proc.pid needs`},
		{"evt.rawres = 1.5", `t:1:14: "1.5" is not an integer, as evt.rawres needs`},
		{"proc.tty = maybe", `t:1:12: "maybe" is not true or false, as proc.tty needs`},
		{"fd.ip = 10.0.0.300", `t:1:9: "10.0.0.300" is not an IP address, as fd.ip needs`},
		{"fd.ip = 10.0.0.0/40", `t:1:9: "10.0.0.0/40" is not a network such as 10.0.0.0/8`},
		{"proc.pid contains 1", "t:1:10: operator contains does not apply to proc.pid, a field of type uint64"},
		{"proc.tty < true", "t:1:10: operator < does not apply to proc.tty, a field of type bool"},
		{"fd.ip startswith 10", "t:1:7: operator startswith does not apply to fd.ip, a field of type ipaddr"},
		{"proc.args = x", "t:1:11: operator = does not apply to proc.args, a field of type list"},
		{`proc.name regex "a("`, "t:1:17: invalid regular expression \"a(\": error parsing regexp: missing closing ): `^(?:a()$`"},
		{"evt.buffer bcontains XYZ", `t:1:22: bcontains needs bytes written in hex, such as 7F454C46; "XYZ" is not`},
		{"proc.name = val(proc.pid)", "t:1:11: proc.name = compares a string with a uint64 field"},
		{"proc.name glob val(proc.pname)", "t:1:11: operator glob cannot compare two string fields"},
		{"tolower(proc.pid) = 1", "t:1:1: tolower() cannot be applied to proc.pid, a field of type uint64"},
		{"len(proc.tty) = 1", "t:1:1: len() cannot be applied to proc.tty, a field of type bool"},
		{"proc.aname[x] = y", `t:1:1: proc.aname needs a number, not "x"`},
		{"proc.name[1] = y", "t:1:1: field proc.name takes no argument"},
		{"broken.field = 1", "t:1:1: field broken.field: the resolver gave type uint64 without its getter"},
		{"spawned_process", `t:1:1: macro "spawned_process" was not expanded`},
	} {
		_, err := compileText(t, c.cond)
		if err == nil {
			t.Errorf("%s: compiled without error", c.cond)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got  %v\n want %s", c.cond, err, c.want)
		}
	}
	_, err := compileText(t, "proc.name = x and no.such.field exists")
	if !errors.Is(err, ErrUnknownField) {
		t.Errorf("unknown field error %v does not match ErrUnknownField", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Name != "no.such.field" || !strings.HasPrefix(fe.Pos.String(), "t:1:19") {
		t.Errorf("FieldError = %+v", fe)
	}
}
