package container

import (
	"strings"
	"testing"
)

const (
	id1  = "238a65cbfa4b5f86601d24bbddeeff109e8f325d0c6d25a9849e62d53c04006e"
	id2  = "b1f2a2de15e52e1dfc2b8b4621b889975f3c949a73894bc776ec19965a27479d"
	uid  = "7a6c3f1e-2b4d-4e8f-9a0b-1c2d3e4f5a6b"
	uidU = "7a6c3f1e_2b4d_4e8f_9a0b_1c2d3e4f5a6b" // systemd's escaping of uid
)

// cgroupCases are path shapes seen on real hosts, one per runtime, driver
// and cgroup version; "" runtime means a host cgroup.
var cgroupCases = []struct {
	name, path string
	id         string
	rt         Runtime
	pod        string
}{
	{"docker cgroupfs (v1, hybrid, v2)", "/docker/" + id1, id1, RuntimeDocker, ""},
	{"docker systemd", "/system.slice/docker-" + id1 + ".scope", id1, RuntimeDocker, ""},
	{"docker rootless", "/user.slice/user-1000.slice/user@1000.service/docker.service/docker/" + id1, id1, RuntimeDocker, ""},
	{"docker with systemd inside", "/docker/" + id1 + "/init.scope", id1, RuntimeDocker, ""},
	{"docker in docker: the inner one", "/docker/" + id1 + "/docker/" + id2, id2, RuntimeDocker, ""},
	{"github actions job", "/actions_job/" + id1, id1, RuntimeDocker, ""},
	{"podman cgroupfs", "/libpod_parent/libpod-" + id1, id1, RuntimePodman, ""},
	{"podman systemd", "/machine.slice/libpod-" + id1 + ".scope", id1, RuntimePodman, ""},
	{"podman split cgroup", "/machine.slice/libpod-" + id1 + ".scope/container", id1, RuntimePodman, ""},
	{"podman rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id1 + ".scope", id1, RuntimePodman, ""},
	{"podman conmon is on the host", "/machine.slice/libpod-conmon-" + id1 + ".scope", "", RuntimeHost, ""},
	{"containerd CRI systemd",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidU + ".slice/cri-containerd-" + id1 + ".scope",
		id1, RuntimeContainerd, uid},
	{"containerd CRI in kind",
		"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + uidU + ".slice/cri-containerd-" + id1 + ".scope",
		id1, RuntimeContainerd, uid},
	{"containerd systemd driver on v1, colon form",
		"/system.slice/containerd.service/kubepods-burstable-pod" + uidU + ".slice:cri-containerd:" + id1,
		id1, RuntimeContainerd, uid},
	{"CRI cgroupfs besteffort", "/kubepods/besteffort/pod" + uid + "/" + id1, id1, RuntimeCRI, uid},
	{"CRI cgroupfs guaranteed", "/kubepods/pod" + uid + "/" + id1, id1, RuntimeCRI, uid},
	{"CRI-O systemd",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidU + ".slice/crio-" + id1 + ".scope",
		id1, RuntimeCRIO, uid},
	{"CRI-O cgroupfs", "/kubepods/burstable/pod" + uid + "/crio-" + id1, id1, RuntimeCRIO, uid},
	{"CRI-O conmon is on the host",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidU + ".slice/crio-conmon-" + id1 + ".scope",
		"", RuntimeHost, ""},
	{"dockershim systemd", "/kubepods.slice/kubepods-pod" + uidU + ".slice/docker-" + id1 + ".scope", id1, RuntimeDocker, uid},
	{"nerdctl systemd", "/system.slice/nerdctl-" + id1 + ".scope", id1, RuntimeContainerd, ""},
	{"containerd namespace, cgroupfs", "/default/" + id1, id1, RuntimeUnknown, ""},
	{"cgroup namespace view", "/../docker/" + id1, id1, RuntimeDocker, ""},

	{"v2 root", "/", "", RuntimeHost, ""},
	{"empty", "", "", RuntimeHost, ""},
	{"login session", "/user.slice/user-0.slice/session-3.scope", "", RuntimeHost, ""},
	{"docker daemon itself", "/system.slice/docker.service", "", RuntimeHost, ""},
	{"docker parent", "/docker", "", RuntimeHost, ""},
	{"buildkit", "/docker/buildkit/qv0t6jcw1cxqr4xsz7p2e8k5m", "", RuntimeHost, ""},
	{"short id", "/docker/238a65cbfa4b", "", RuntimeHost, ""},
	{"upper-case hex is no id", "/docker/" + strings.ToUpper(id1), "", RuntimeHost, ""},
	{"pod cgroup without container", "/kubepods/burstable/pod" + uid, "", RuntimeHost, ""},
	{"sandbox machine", "/process_api/d4a8ef935f50fdc83e1800a343a31221", "", RuntimeHost, ""},
	{"unknown colon prefix", "/x.slice:foo:" + id1, "", RuntimeHost, ""},
}

func TestParseCgroupPath(t *testing.T) {
	for _, tc := range cgroupCases {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := ParseCgroupPath(tc.path)
			if ok != (tc.rt != RuntimeHost) {
				t.Fatalf("ParseCgroupPath(%q) ok=%v, want %v (%+v)", tc.path, ok, !ok, m)
			}
			if m.ID != tc.id || (ok && m.Runtime != tc.rt) || m.PodUID != tc.pod {
				t.Errorf("ParseCgroupPath(%q) = %+v, want id %s runtime %s pod %q", tc.path, m, tc.id, tc.rt, tc.pod)
			}
		})
	}
}

func TestParseCgroupPathAllocs(t *testing.T) {
	path := "/kubepods/besteffort/pod" + uid + "/" + id1
	if n := testing.AllocsPerRun(100, func() { ParseCgroupPath(path) }); n != 0 {
		t.Errorf("ParseCgroupPath allocates %v times for a cgroupfs kubepods path", n)
	}
}
