package enforce

import (
	"reflect"
	"strings"
	"testing"
)

const sampleMountinfo = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw,size=100k
25 24 0:22 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw
26 22 0:23 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw
27 22 0:24 / /sys/fs/cgroup ro,nosuid shared:9 - cgroup2 cgroup2 rw
28 22 8:2 / /mnt/with\040space rw,relatime shared:7 - ext4 /dev/sda2 rw
29 22 8:2 / /mnt/with\040space rw,relatime shared:7 - ext4 /dev/sda2 rw
30 22 0:50 / /var/lib/docker/overlay2/x/merged rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b
31 22 0:51 / /tmp rw,noexecute-not-really shared:8 - tmpfs tmpfs rw
broken line
32 22 0:52 / relative rw - tmpfs tmpfs rw
`

func TestParseExecMounts(t *testing.T) {
	got := parseExecMounts([]byte(sampleMountinfo))
	want := []string{"/", "/dev", "/dev/shm", "/mnt/with space", "/var/lib/docker/overlay2/x/merged", "/tmp"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestParseStatFields(t *testing.T) {
	if gone := processGone("/proc", 1<<30); !gone {
		t.Error("a pid that cannot exist is not gone")
	}
	st, err := parseStat("1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 200")
	if err != nil || st != (procStat{name: "a (b) c", state: 'S', ppid: 1, start: 987654}) {
		t.Errorf("parseStat = %+v, %v", st, err)
	}
	if _, err := parseStat("1234 (x) S 1"); err == nil {
		t.Error("a short stat parsed")
	}
	if st, err := readStat("/proc", 1); err != nil || st.name == "" || st.gone() {
		t.Errorf("readStat(1) = %+v, %v", st, err)
	}
}

func FuzzParseExecMounts(f *testing.F) {
	for _, line := range strings.Split(sampleMountinfo, "\n") {
		f.Add([]byte(line))
	}
	f.Add([]byte(sampleMountinfo))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mp := range parseExecMounts(b) {
			if !strings.HasPrefix(mp, "/") {
				t.Fatalf("relative mount point %q", mp)
			}
		}
	})
}
