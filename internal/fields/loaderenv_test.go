package fields

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

func TestLoaderEnv(t *testing.T) {
	tab := family(t)
	su := execEv(400, 200, "/usr/bin/su", "su", "-")
	su.Exec.UID, su.Exec.EUID = 1000, 0
	su.Exec.Flags = event.ExecSecure
	su.Exec.LoaderEnv = "LD_PRELOAD=/tmp/a.so\x00GLIBC_TUNABLES=glibc.malloc.mxfast=1\x00LD_PRELOAD=/tmp/b.so\x00LD_"
	tab.Apply(su)
	c := new(Context)
	c.Reset(&Env{Table: tab}, su, 0)
	const tpl = "%proc.is_secure_exec|%proc.loader_env|%proc.loader_env[LD_PRELOAD]|%proc.loader_env[GLIBC_TUNABLES]|%proc.loader_env[LD_AUDIT]"
	want := "true|LD_PRELOAD=/tmp/a.so GLIBC_TUNABLES=glibc.malloc.mxfast=1 LD_PRELOAD=/tmp/b.so LD_|/tmp/b.so|glibc.malloc.mxfast=1|<NA>"
	if got := render(t, c, tpl); got != want {
		t.Errorf("exec renders\n %q, want\n %q", got, want)
	}
	for cond, want := range map[string]bool{
		"proc.loader_env[LD_PRELOAD] exists":           true,
		"proc.loader_env[LD_AUDIT] exists":             false,
		"proc.loader_env[LD_PRELOAD] = /tmp/b.so":      true,
		"proc.loader_env[LD_PRELOAD] = /tmp/a.so":      false, // the loader takes the last copy
		"proc.loader_env contains 'LD_PRELOAD=/tmp/a'": true,  // every copy is visible
		"proc.loader_env[LD_] exists":                  false, // no '=': not a variable
	} {
		if holds(t, c, cond) != want {
			t.Errorf("%s: want %v", cond, want)
		}
	}
	su.Release()

	// Later events of the process keep what its exec was given.
	open := openEv(t, "/etc/shadow", 0, 0, 3)
	open.PID, open.TID, open.PPID = 400, 400, 200
	c.Reset(&Env{Table: tab}, open, 0)
	if got := render(t, c, "%proc.loader_env[LD_PRELOAD]"); got != "/tmp/b.so" {
		t.Errorf("open after the exec: %q", got)
	}
	open.Release()

	// An exec that is not secure carries nothing.
	ls := execEv(400, 200, "/usr/bin/ls", "ls")
	tab.Apply(ls)
	c.Reset(&Env{Table: tab}, ls, 0)
	if got := render(t, c, "%proc.is_secure_exec|%proc.loader_env|%proc.loader_env[LD_PRELOAD]"); got != "false||<NA>" {
		t.Errorf("plain exec renders %q", got)
	}
	ls.Release()
}
