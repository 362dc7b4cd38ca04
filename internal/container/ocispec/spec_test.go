package ocispec

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vigilsec/vigil/internal/container"
)

func load(t *testing.T, name string) *specs.Spec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDescribeDockerSpecs reads the specs Docker 20.10 handed containerd
// for three containers run on this machine (captured with
// `ctr -n moby containers info --spec`).
func TestDescribeDockerSpecs(t *testing.T) {
	// docker run --label team=blue --cap-add NET_ADMIN --user 1000:1000 -v /tmp:/hosttmp:ro
	d, err := Describe(load(t, "docker-user-bind.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Privileged || !slices.Equal(d.CapAdd, []string{"NET_ADMIN"}) || d.CapDrop != nil || d.User != "1000:1000" ||
		d.NetworkMode != "private" {
		t.Errorf("user-bind: %+v", d)
	}
	// /proc, /dev, /dev/pts, /sys, /sys/fs/cgroup, /dev/mqueue and /dev/shm
	// are the sandbox's; the user's bind and Docker's three files remain.
	wantDest := []string{"/hosttmp", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"}
	var dests []string
	for _, m := range d.Mounts {
		dests = append(dests, m.Dest)
	}
	if !slices.Equal(dests, wantDest) {
		t.Errorf("mount destinations %v, want %v", dests, wantDest)
	}
	want := container.Mount{Type: "bind", Source: "/tmp", Dest: "/hosttmp", Mode: "ro", RW: false, Propagation: "rprivate"}
	if d.Mounts[0] != want {
		t.Errorf("bind mount %+v, want %+v", d.Mounts[0], want)
	}
	if m := d.Mounts[1]; !m.RW || m.Mode != "rw" || m.Type != "bind" {
		t.Errorf("resolv.conf mount %+v", m)
	}

	// --cap-add ALL --cap-drop SYS_RESOURCE: every capability but one, so
	// not privileged, and the additions are listed.
	d, err = Describe(load(t, "docker-capadd-all.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Privileged || len(d.CapAdd) != len(AllCapabilities)-len(DefaultCapabilities)-1 || d.CapDrop != nil ||
		slices.Contains(d.CapAdd, "SYS_RESOURCE") || !slices.Contains(d.CapAdd, "SYS_ADMIN") || d.User != "0:0" {
		t.Errorf("cap-add ALL: %+v", d)
	}

	// --network host --cap-drop NET_RAW --cap-drop MKNOD
	d, err = Describe(load(t, "docker-host-network.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.NetworkMode != "netns:/var/run/docker/netns/default" || d.CapAdd != nil ||
		!slices.Equal(d.CapDrop, []string{"MKNOD", "NET_RAW"}) {
		t.Errorf("host network: %+v", d)
	}
}

// TestPrivileged builds the bounding set --privileged produces (every
// capability the runtime knows) and checks the boundary: one missing
// capability is not privileged.
func TestPrivileged(t *testing.T) {
	all := []string{}
	for _, c := range AllCapabilities {
		all = append(all, "CAP_"+c)
	}
	all = append(all, "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE")
	s := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: all}}}
	d, err := Describe(s)
	if err != nil || !d.Privileged || !slices.Equal(d.CapAdd, []string{"ALL"}) || d.CapDrop != nil {
		t.Errorf("all capabilities: %+v, %v", d, err)
	}
	s.Process.Capabilities.Bounding = slices.DeleteFunc(slices.Clone(all), func(c string) bool { return c == "CAP_SYS_ADMIN" })
	if d, _ := Describe(s); d.Privileged || slices.Contains(d.CapAdd, "SYS_ADMIN") {
		t.Errorf("all but SYS_ADMIN: %+v", d)
	}
	if d, _ := Describe(&specs.Spec{}); d.Privileged || d.NetworkMode != "host" || d.User != "" {
		t.Errorf("empty spec: %+v", d)
	}
	if _, err := Describe(nil); err != ErrNoSpec {
		t.Errorf("nil spec: %v", err)
	}
}

// TestHostNetwork checks the host namespace is recognised by identity
// (device and inode), not by name, against a /proc laid out in a temporary
// directory: its 1/ns/net is the "host" namespace.
func TestHostNetwork(t *testing.T) {
	proc := t.TempDir()
	hostNS := filepath.Join(proc, "1", "ns", "net")
	if err := os.MkdirAll(filepath.Dir(hostNS), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hostNS, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bind := filepath.Join(t.TempDir(), "default")
	if err := os.Link(hostNS, bind); err != nil { // another name, the same inode, like a bind mount
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for mode, want := range map[string]string{
		"netns:" + bind:      "host",
		"netns:" + hostNS:    "host",
		"netns:" + other:     "netns:" + other,
		"netns:/nonexistent": "netns:/nonexistent",
		"private":            "private",
		"host":               "host",
	} {
		if got := HostNetwork(mode, proc); got != want {
			t.Errorf("HostNetwork(%q) = %q, want %q", mode, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "{", `{"process":{"user":{"uid":-1}}}`, `[]`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) accepted it", in)
		}
	}
	if _, err := Parse(make([]byte, maxSpec+1)); err == nil {
		t.Error("an oversized spec was accepted")
	}
}
