package criapi

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vigilsec/vigil/internal/container/ocispec"
)

// The samples in testdata are the verbose info documents the runtimes
// write, built from the same Go types they marshal (CRI-O's containerInfo
// and containerd's ContainerInfo, read in their sources: cri-o
// server/container_status.go, containerd internal/cri/server/
// container_status.go), for the pod below. Regenerate with
// go test -run TestSamples -update.
var update = flag.Bool("update", false, "rewrite testdata samples")

const (
	podUID      = "3f1c2a9e-5b7d-4c1e-9a2f-0d8e6b4c7a15"
	podName     = "web-7d9c8b6f5-x2x4q"
	podNS       = "shop"
	sandboxID   = "8a4f0c2e9b1d7f3a5c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a"
	ctrID       = "c0ffee1234567890abcdef1234567890abcdef1234567890abcdef1234567890"
	privCtrID   = "deadbeef34567890abcdef1234567890abcdef1234567890abcdef1234567890"
	imageDigest = "sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7"
	imageID     = "sha256:65ad0d468eb1c558bf7f4e64e790f586e9eda649ee9f130cd0e835b292bbc5ac"
	netnsPath   = "/var/run/netns/cni-5f2c7a1e-9d3b-4e6f-8a1c-2b4d6e8f0a1c"
)

// kubeletSpec is the OCI spec a runtime writes for a pod container: the
// pod's network namespace joined by path, kubelet's mounts, the default
// capability set unless privileged.
func kubeletSpec(privileged bool, runtimeRoot string) *specs.Spec {
	caps := []string{}
	for _, c := range ocispec.DefaultCapabilities {
		caps = append(caps, "CAP_"+c)
	}
	if privileged {
		caps = caps[:0]
		for _, c := range ocispec.AllCapabilities {
			caps = append(caps, "CAP_"+c)
		}
		caps = append(caps, "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE")
	}
	podDir := "/var/lib/kubelet/pods/" + podUID
	return &specs.Spec{
		Version: "1.2.0",
		Process: &specs.Process{
			User: specs.User{UID: 101, GID: 101, AdditionalGids: []uint32{101}},
			Args: []string{"sleep", "3600"},
			Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + podName},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			OOMScoreAdj: new(1000),
		},
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: podName,
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
			{Destination: "/etc/hosts", Type: "bind", Source: podDir + "/etc-hosts", Options: []string{"rbind", "rprivate", "rw"}},
			{Destination: "/dev/termination-log", Type: "bind", Source: podDir + "/containers/app/1b2c3d4e", Options: []string{"rbind", "rprivate", "rw"}},
			{Destination: "/etc/hostname", Type: "bind", Source: runtimeRoot + "/" + sandboxID + "/hostname", Options: []string{"rbind", "rprivate", "rw"}},
			{Destination: "/etc/resolv.conf", Type: "bind", Source: runtimeRoot + "/" + sandboxID + "/resolv.conf", Options: []string{"rbind", "rprivate", "rw"}},
			{Destination: "/dev/shm", Type: "bind", Source: "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/" + sandboxID + "/shm", Options: []string{"rbind", "rprivate", "rw"}},
			{Destination: "/var/run/secrets/kubernetes.io/serviceaccount", Type: "bind", Source: podDir + "/volumes/kubernetes.io~projected/kube-api-access-7xk2p", Options: []string{"rbind", "rprivate", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: "kubepods-besteffort-pod" + podUID + ".slice:cri-containerd:" + ctrID,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.IPCNamespace, Path: "/proc/4242/ns/ipc"},
				{Type: specs.UTSNamespace, Path: "/proc/4242/ns/uts"},
				{Type: specs.MountNamespace},
				{Type: specs.NetworkNamespace, Path: netnsPath},
			},
			MaskedPaths:   []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

// containerdInfo mirrors containerd's ContainerInfo (the types and json
// tags of its internal/cri/server package).
type containerdInfo struct {
	SandboxID      string                      `json:"sandboxID"`
	Pid            uint32                      `json:"pid"`
	Removing       bool                        `json:"removing"`
	SnapshotKey    string                      `json:"snapshotKey"`
	Snapshotter    string                      `json:"snapshotter"`
	RuntimeType    string                      `json:"runtimeType"`
	RuntimeOptions any                         `json:"runtimeOptions"`
	Config         *runtimeapi.ContainerConfig `json:"config"`
	RuntimeSpec    *specs.Spec                 `json:"runtimeSpec"`
}

// crioInfo mirrors CRI-O's containerInfo.
type crioInfo struct {
	SandboxID   string     `json:"sandboxID"`
	Pid         int        `json:"pid"`
	RuntimeSpec specs.Spec `json:"runtimeSpec"`
	Privileged  bool       `json:"privileged"`
}

// kubeletConfig is the CRI ContainerConfig kubelet sends.
func kubeletConfig(privileged bool) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Image:    &runtimeapi.ImageSpec{Image: imageID, UserSpecifiedImage: "docker.io/library/busybox:1.36"},
		Command:  []string{"sleep", "3600"},
		Envs:     []*runtimeapi.KeyValue{{Key: "KUBERNETES_SERVICE_HOST", Value: []byte("10.96.0.1")}},
		Mounts: []*runtimeapi.Mount{{ContainerPath: "/var/run/secrets/kubernetes.io/serviceaccount",
			HostPath: "/var/lib/kubelet/pods/" + podUID + "/volumes/kubernetes.io~projected/kube-api-access-7xk2p", Readonly: true}},
		Labels:      kubeletLabels(),
		Annotations: map[string]string{"io.kubernetes.container.hash": "5d1a2b3c", "io.kubernetes.container.restartCount": "0"},
		LogPath:     "app/0.log",
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources: &runtimeapi.LinuxContainerResources{CpuShares: 2, OomScoreAdj: 1000},
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				Privileged:       privileged,
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
				RunAsUser:        &runtimeapi.Int64Value{Value: 101},
				Seccomp:          &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
			},
		},
	}
}

func kubeletLabels() map[string]string {
	return map[string]string{
		"io.kubernetes.container.name": "app",
		"io.kubernetes.pod.name":       podName,
		"io.kubernetes.pod.namespace":  podNS,
		"io.kubernetes.pod.uid":        podUID,
	}
}

var samples = map[string]func() any{
	"containerd-info.json": func() any {
		return containerdInfo{SandboxID: sandboxID, Pid: 4321, SnapshotKey: ctrID, Snapshotter: "overlayfs",
			RuntimeType: "io.containerd.runc.v2", RuntimeOptions: map[string]any{"systemd_cgroup": true},
			Config: kubeletConfig(false), RuntimeSpec: kubeletSpec(false, "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes")}
	},
	"containerd-info-privileged.json": func() any {
		return containerdInfo{SandboxID: sandboxID, Pid: 4400, SnapshotKey: privCtrID, Snapshotter: "overlayfs",
			RuntimeType: "io.containerd.runc.v2", RuntimeOptions: map[string]any{"systemd_cgroup": true},
			Config: kubeletConfig(true), RuntimeSpec: kubeletSpec(true, "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes")}
	},
	"crio-info.json": func() any {
		return crioInfo{SandboxID: sandboxID, Pid: 4321, RuntimeSpec: *kubeletSpec(false, "/run/containers/storage/overlay-containers")}
	},
	"crio-info-privileged.json": func() any {
		return crioInfo{SandboxID: sandboxID, Pid: 4400, RuntimeSpec: *kubeletSpec(true, "/run/containers/storage/overlay-containers"), Privileged: true}
	},
}

// TestSamples checks the committed samples are what the types produce
// (or rewrites them with -update).
func TestSamples(t *testing.T) {
	for name, mk := range samples {
		want, err := json.Marshal(mk())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s is stale; regenerate with -update", path)
		}
	}
}
