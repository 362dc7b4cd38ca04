package testutil

import (
	"encoding/binary"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// MemfdCopy returns a memfd named name that holds a copy of the program
// at src, closed when the test ends. Pass it in exec.Cmd.ExtraFiles and
// exec /dev/fd/3 to run a program the way fileless malware does.
func MemfdCopy(t testing.TB, src, name string) *os.File {
	t.Helper()
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.MemfdCreate(name, 0)
	if err != nil {
		t.Fatalf("memfd_create: %v", err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:"+name)
	t.Cleanup(func() { _ = mem.Close() }) // the test's verdict is made
	if _, err := mem.Write(code); err != nil {
		t.Fatal(err)
	}
	return mem
}

// GrantFileCapability gives the program at path the permitted and
// effective file capability capability (a CAP_* number below 32), as
// setcap cap_xxx+ep does: running it is then a secure exec (AT_SECURE)
// for a user who lacks the capability. Needs root.
func GrantFileCapability(t testing.TB, path string, capability uint) {
	t.Helper()
	data := make([]byte, 20) // struct vfs_cap_data, revision 2
	binary.LittleEndian.PutUint32(data[0:], 0x02000000|1)
	binary.LittleEndian.PutUint32(data[4:], 1<<capability)
	if err := unix.Setxattr(path, "security.capability", data, 0); err != nil {
		t.Fatalf("set file capability on %s: %v", path, err)
	}
}
