package container

import (
	"strings"
	"testing"
)

// FuzzParseCgroupPath checks that any path parses without panicking and
// that a match is always a well-formed id taken from the path itself.
func FuzzParseCgroupPath(f *testing.F) {
	for _, tc := range cgroupCases {
		f.Add(tc.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		m, ok := ParseCgroupPath(path)
		if !ok {
			if m != (Match{}) {
				t.Fatalf("no match but %+v", m)
			}
			return
		}
		if !isContainerID(m.ID) || !strings.Contains(path, m.ID) || m.Runtime == RuntimeHost {
			t.Fatalf("bad match %+v for %q", m, path)
		}
		if m.PodUID != "" && !isUID(m.PodUID) {
			t.Fatalf("bad pod uid %q for %q", m.PodUID, path)
		}
	})
}

// FuzzParseProcCgroup feeds arbitrary /proc/<pid>/cgroup contents.
func FuzzParseProcCgroup(f *testing.F) {
	f.Add("9:name=systemd:/docker/" + id1 + "\n0::/docker/" + id1 + "\n")
	f.Add("0::/\n")
	f.Add("1:cpu:/kubepods/pod" + uid + "/" + id1)
	f.Fuzz(func(t *testing.T, content string) {
		m, ok := ParseProcCgroup(content)
		if ok && (!isContainerID(m.ID) || !strings.Contains(content, m.ID)) {
			t.Fatalf("bad match %+v", m)
		}
		ProcCgroupV2Path(content)
	})
}

// FuzzParseImageRef checks that the parts always come from the reference.
func FuzzParseImageRef(f *testing.F) {
	for _, s := range []string{"busybox", "r:5000/a/b:1@sha256:00", "a@b@c", ":", "@", "/:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		repo, tag, digest := ParseImageRef(ref)
		if !strings.HasPrefix(ref, repo) || (tag != "latest" && !strings.Contains(ref, tag)) || !strings.Contains(ref, digest) {
			t.Fatalf("ParseImageRef(%q) = %q %q %q", ref, repo, tag, digest)
		}
	})
}
