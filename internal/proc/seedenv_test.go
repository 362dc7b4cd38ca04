package proc

import (
	"encoding/binary"
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

func auxv(pairs ...uint64) []byte {
	var b []byte
	for _, v := range pairs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func TestSecureFromAuxv(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"secure", auxv(6, 4096, atSecure, 1, atNull, 0), true},
		{"not secure", auxv(6, 4096, atSecure, 0, atNull, 0), false},
		{"after AT_NULL", auxv(6, 4096, atNull, 0, atSecure, 1), false},
		{"cut short", auxv(6, 4096, atSecure)[:20], false},
		{"empty (kernel thread)", nil, false},
	} {
		if got := secureFromAuxv(c.b); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestLoaderEnvLimits(t *testing.T) {
	env, cut := loaderEnv([]byte("PATH=/bin\x00LD_PRELOAD=/x.so\x00TOKEN=s3cret\x00GLIBC_TUNABLES=a=b\x00GLIBC_TUNABLESX=c\x00LD_\x00"))
	if env != "LD_PRELOAD=/x.so\x00GLIBC_TUNABLES=a=b\x00LD_" || cut {
		t.Errorf("filtered to %q (cut %v)", env, cut)
	}
	long := "LD_LIBRARY_PATH=" + strings.Repeat("a", maxLoaderEnvBytes)
	if env, cut := loaderEnv([]byte("LD_AUDIT=y\x00" + long + "\x00LD_PRELOAD=z")); env != "LD_AUDIT=y" || !cut {
		t.Errorf("over the byte limit: %q (cut %v)", env, cut)
	}
	var many strings.Builder
	for i := range maxLoaderEnvEntries {
		fmt.Fprintf(&many, "V%d=1\x00", i)
	}
	many.WriteString("LD_PRELOAD=late")
	if env, cut := loaderEnv([]byte(many.String())); env != "" || !cut {
		t.Errorf("past the entry limit: %q (cut %v)", env, cut)
	}
}

// TestSeedSecureProcess starts a copy of sleep that gains a file
// capability, as nobody and with loader variables set, before the table
// exists: seeding from /proc must find it secure and keep only its loader
// variables. The same program started plainly carries neither.
func TestSeedSecureProcess(t *testing.T) {
	testutil.Require(t, os.Geteuid() == 0, "root (to set a file capability and read another user's environ)")
	dir := testutil.PublicTempDir(t, "vigil-seedenv")
	capped := testutil.CopyExecutable(t, "/bin/sleep", filepath.Join(dir, "capped-sleep"))
	testutil.GrantFileCapability(t, capped, unix.CAP_NET_RAW)
	env := []string{"LD_PRELOAD=/nonexistent/seed.so", "API_TOKEN=do-not-copy", "GLIBC_TUNABLES=glibc.malloc.mxfast=1"}
	start := func(prog string, uid uint32) int {
		cmd := exec.Command(prog, "30")
		cmd.Env = env
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { testutil.KillAndWait(cmd) })
		return cmd.Process.Pid
	}
	secure := start(capped, 65534)
	plain := start("/bin/sleep", 0)

	tbl := New()
	if err := tbl.Seed("/proc"); err != nil {
		t.Fatal(err)
	}
	p := mustGet(t, tbl, uint32(secure))
	if p.Flags&event.ExecSecure == 0 || p.LoaderEnv != "LD_PRELOAD=/nonexistent/seed.so\x00GLIBC_TUNABLES=glibc.malloc.mxfast=1" ||
		p.Flags&event.ExecEnvTruncated != 0 {
		t.Errorf("secure process seeded with flags %#x, loader env %q", p.Flags, p.LoaderEnv)
	}
	p = mustGet(t, tbl, uint32(plain))
	if p.Flags&event.ExecSecure != 0 || p.LoaderEnv != "" {
		t.Errorf("plain process seeded with flags %#x, loader env %q", p.Flags, p.LoaderEnv)
	}
}

// FuzzLoaderEnv: any environ or auxv content is parsed within bounds.
func FuzzLoaderEnv(f *testing.F) {
	f.Add([]byte("LD_PRELOAD=/x.so\x00PATH=/bin\x00"), auxv(atSecure, 1, atNull, 0))
	f.Add([]byte("GLIBC_TUNABLES=a\x00\x00\x00LD_"), []byte{23, 0, 0})
	f.Fuzz(func(t *testing.T, environ, aux []byte) {
		secureFromAuxv(aux)
		env, _ := loaderEnv(environ)
		if len(env) > maxLoaderEnvBytes {
			t.Fatalf("kept %d bytes", len(env))
		}
		for _, e := range strings.Split(env, "\x00") {
			if e != "" && !strings.HasPrefix(e, "LD_") && !strings.HasPrefix(e, "GLIBC_TUNABLES=") {
				t.Fatalf("kept %q", e)
			}
		}
	})
}
