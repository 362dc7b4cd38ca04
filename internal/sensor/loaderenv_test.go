package sensor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/testutil"
)

const nobody = 65534

// runAs runs prog as nobody with exactly env and returns its pid; the exit
// status does not matter, only that the exec happened.
func runAs(t *testing.T, uid uint32, env []string, prog string, args ...string) uint32 {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	testutil.RunToExit(t, cmd)
	return uint32(cmd.Process.Pid)
}

func execOf(t *testing.T, pid uint32) *event.Event {
	t.Helper()
	return waitFor(t, 1, func(e *event.Event) bool { return e.Kind == event.KindExec && e.PID == pid && e.Ret == 0 })[0]
}

func TestSecureExecLoaderEnv(t *testing.T) {
	sensorFor(t)
	const su = "/usr/bin/su"
	if st, err := os.Stat(su); err != nil || st.Mode()&os.ModeSetuid == 0 {
		t.Fatalf("%s is not a set-user-ID program here: %v", su, err)
	}
	env := []string{"PATH=/usr/bin:/bin", "LD_PRELOAD=/nonexistent/hook.so", "SECRET_TOKEN=hunter2",
		"GLIBC_TUNABLES=glibc.malloc.mxfast=42", "LD_", "LANG=C", "LD_AUDIT=/nonexistent/audit.so"}
	ev := execOf(t, runAs(t, nobody, env, su, "--help"))
	want := "LD_PRELOAD=/nonexistent/hook.so\x00GLIBC_TUNABLES=glibc.malloc.mxfast=42\x00LD_\x00LD_AUDIT=/nonexistent/audit.so"
	if ev.Exec.LoaderEnv != want {
		t.Errorf("loader env %q, want %q", ev.Exec.LoaderEnv, want)
	}
	if ev.Exec.Flags&event.ExecSecure == 0 || ev.Exec.Flags&event.ExecEnvTruncated != 0 {
		t.Errorf("flags %#x: want secure, not truncated", ev.Exec.Flags)
	}
	if ev.Exec.UID != nobody || ev.Exec.EUID != 0 || ev.Exec.Exe != su || ev.Comm != "su" {
		t.Errorf("uid %d euid %d exe %q comm %q", ev.Exec.UID, ev.Exec.EUID, ev.Exec.Exe, ev.Comm)
	}
	if ev.Exec.Args != su+"\x00--help" {
		t.Errorf("args %q: the environment must not leak into argv", ev.Exec.Args)
	}

	// The same program run by root gains nothing: no secure mode, and no
	// environment is copied.
	ev = execOf(t, runAs(t, 0, env, su, "--help"))
	if ev.Exec.Flags&event.ExecSecure != 0 || ev.Exec.LoaderEnv != "" {
		t.Errorf("root's su: flags %#x loader env %q, want neither", ev.Exec.Flags, ev.Exec.LoaderEnv)
	}
}

func TestSecureExecLoaderEnvLimits(t *testing.T) {
	sensorFor(t)
	// A value longer than the capture limit is cut and flagged.
	long := "GLIBC_TUNABLES=glibc.malloc.mxfast=" + strings.Repeat("A", 6000)
	ev := execOf(t, runAs(t, nobody, []string{"LD_PRELOAD=/x.so", long}, "/usr/bin/su", "--help"))
	first, rest, _ := strings.Cut(ev.Exec.LoaderEnv, "\x00")
	if first != "LD_PRELOAD=/x.so" || !strings.HasPrefix(rest, long[:100]) || len(rest) >= len(long) || len(ev.Exec.LoaderEnv) > 4096 {
		t.Errorf("long value: first %q, then %d bytes (want a prefix of %d)", first, len(rest), len(long))
	}
	if ev.Exec.Flags&event.ExecEnvTruncated == 0 {
		t.Errorf("flags %#x: a cut value must be flagged", ev.Exec.Flags)
	}

	// Padding does not hide a variable among the first 8192 entries; one
	// beyond them is missed, and the record says so.
	var many []string
	for i := range 9000 {
		many = append(many, fmt.Sprintf("FILLER_%d=1", i)) // exec.Cmd drops duplicate names
	}
	many[3] = "LD_LIBRARY_PATH=/early"
	many[8000] = "LD_AUDIT=/padded.so"
	many = append(many, "LD_PRELOAD=/late.so")
	ev = execOf(t, runAs(t, nobody, many, "/usr/bin/su", "--help"))
	if ev.Exec.LoaderEnv != "LD_LIBRARY_PATH=/early\x00LD_AUDIT=/padded.so" || ev.Exec.Flags&event.ExecEnvTruncated == 0 {
		t.Errorf("9001 entries: loader env %q flags %#x, want the two first variables and the truncation flag", ev.Exec.LoaderEnv, ev.Exec.Flags)
	}
}

// TestFileCapabilityExecIsSecure runs a copy of true that carries a file
// capability: gaining it is a secure exec without any set-user-ID bit.
func TestFileCapabilityExecIsSecure(t *testing.T) {
	sensorFor(t)
	dir := testutil.PublicTempDir(t, "vigil-fcaps")
	bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(dir, "capped"))
	testutil.GrantFileCapability(t, bin, unix.CAP_NET_RAW)
	ev := execOf(t, runAs(t, nobody, []string{"LD_PRELOAD=/cap.so", "HOME=/"}, bin))
	if ev.Exec.Flags&event.ExecSecure == 0 || ev.Exec.LoaderEnv != "LD_PRELOAD=/cap.so" || ev.Exec.CapPermitted != 1<<unix.CAP_NET_RAW {
		t.Errorf("file-capability exec: flags %#x loader env %q permitted %#x", ev.Exec.Flags, ev.Exec.LoaderEnv, ev.Exec.CapPermitted)
	}
}
