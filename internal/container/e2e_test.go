package container_test

import (
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/testutil"
)

const image = "vigil-test/busybox:1"

// dockerDefaultCaps is Docker's default capability set: CHOWN,
// DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
// NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
const dockerDefaultCaps = 0xa80425fb

const (
	capSysAdmin    = 21
	capSysResource = 24
)

// TestDockerWithAgent runs the agent with the resolver on the event path
// against real Docker containers. The subtests share one agent.
func TestDockerWithAgent(t *testing.T) {
	testutil.RequireDocker(t)
	testutil.RequireBPF(t)
	earlyID, earlyPID := runContainer(t, "docker", "vigil-e2e-early", "--label", "stage=early", image, "sleep", "60")
	h := startHarness(t, container.Config{
		Sources: []container.Source{dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)},
	})

	t.Run("StartedBeforeAgent", func(t *testing.T) {
		cg := cgroupOf(t, earlyPID)
		docker(t, "exec", "vigil-e2e-early", "cat", "/etc/hostname")
		r := h.execs(t, "docker exec in the early container", withArgs(cg, "cat"))[0]
		if r.state != container.StateComplete {
			t.Errorf("a container running before the agent was %s at its first exec, want complete", r.state)
		}
		checkIdentity(t, r.info, earlyID, "vigil-e2e-early", "stage", "early")
		if r.info.PID == 0 {
			t.Error("a running container has no pid")
		}
	})

	t.Run("FirstExecAfterAgent", func(t *testing.T) {
		t0 := time.Now()
		id, pid := runContainer(t, "docker", "vigil-e2e-late", "--label", "stage=late", image,
			"sh", "-c", "cat /etc/hostname; exec sleep 60")
		cg := cgroupOf(t, pid)
		first := h.execs(t, "the late container", func(r *record) bool { return r.cgroupID == cg })[0]
		// The id and runtime come from the cgroup path: there at once.
		if first.info.ID != id || first.info.Runtime != container.RuntimeDocker {
			t.Errorf("first exec resolved on the event path to %q (%s), want %s", first.info.ID, first.info.Runtime, id)
		}
		checkIdentity(t, first.final, id, "vigil-e2e-late", "stage", "late")
		if first.finalState != container.StateComplete {
			t.Errorf("first exec %s after waiting, want complete", first.finalState)
		}
		t.Logf("first exec %q: %s on the event path; exec seen %v after `docker run` began, fully enriched after %v",
			strings.ReplaceAll(first.args, "\x00", " "), first.state,
			first.handledAt.Sub(t0).Round(time.Microsecond), first.finalAt.Sub(t0).Round(time.Microsecond))
	})

	t.Run("Capabilities", func(t *testing.T) {
		allID, allPID := runContainer(t, "docker", "vigil-e2e-capall",
			"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", image, "sleep", "60")
		defID, defPID := runContainer(t, "docker", "vigil-e2e-default", image, "sleep", "60")
		docker(t, "exec", "vigil-e2e-capall", "cat", "/proc/self/status")
		docker(t, "exec", "vigil-e2e-default", "cat", "/proc/self/status")
		all := h.execs(t, "exec in the ALL container", withArgs(cgroupOf(t, allPID), "cat"))[0]
		def := h.execs(t, "exec in the default container", withArgs(cgroupOf(t, defPID), "cat"))[0]

		if def.capEff != dockerDefaultCaps {
			t.Errorf("default container CapEff %#x, want Docker's default %#x", def.capEff, dockerDefaultCaps)
		}
		if truth := capEffOf(t, allPID); all.capEff != truth {
			t.Errorf("ALL container exec CapEff %#x, but its first process has %#x", all.capEff, truth)
		}
		if all.capEff&def.capEff != def.capEff || all.capEff == def.capEff ||
			all.capEff&(1<<capSysAdmin) == 0 || all.capEff&(1<<capSysResource) != 0 {
			t.Errorf("ALL container CapEff %#x does not look like every capability but SYS_RESOURCE", all.capEff)
		}
		a, d := all.final, def.final
		if a.ID != allID || !slices.Equal(a.CapAdd, []string{"ALL"}) || !slices.Equal(a.CapDrop, []string{"SYS_RESOURCE"}) || a.Privileged {
			t.Errorf("ALL container metadata: id %s capadd %v capdrop %v privileged %v", a.ID, a.CapAdd, a.CapDrop, a.Privileged)
		}
		if d.ID != defID || d.CapAdd != nil || d.CapDrop != nil || d.Privileged {
			t.Errorf("default container metadata: capadd %v capdrop %v privileged %v", d.CapAdd, d.CapDrop, d.Privileged)
		}
		t.Logf("CapEffective: --cap-add ALL --cap-drop SYS_RESOURCE %#x (%d caps), default %#x (%d caps)",
			all.capEff, bits.OnesCount64(all.capEff), def.capEff, bits.OnesCount64(def.capEff))
	})

	t.Run("KubeletLabels", func(t *testing.T) {
		const uid = "0b8e3c1a-5f2d-4a6b-9c7e-2d1f3a4b5c6d"
		_, pid := runContainer(t, "docker", "vigil-e2e-k8s",
			"--label", "io.kubernetes.pod.name=web-7d9f-x2x", "--label", "io.kubernetes.pod.namespace=shop",
			"--label", "io.kubernetes.pod.uid="+uid, "--label", "io.kubernetes.container.name=nginx",
			image, "sleep", "60")
		docker(t, "exec", "vigil-e2e-k8s", "cat", "/etc/hostname")
		r := h.execs(t, "exec in the pod container", withArgs(cgroupOf(t, pid), "cat"))[0]
		p := r.final.Pod
		if p == nil || p.Name != "web-7d9f-x2x" || p.Namespace != "shop" || p.UID != uid || p.ContainerName != "nginx" || p.FromAPI {
			t.Errorf("pod identity from labels: %+v", p)
		}
	})

	t.Run("UpperLayerExec", func(t *testing.T) {
		_, pid := runContainer(t, "docker", "vigil-e2e-upper", image, "sleep", "60")
		cg := cgroupOf(t, pid)
		// busybox picks its applet from argv[0] unless that is "busybox".
		docker(t, "exec", "vigil-e2e-upper", "cp", "/bin/busybox", "/tmp/busybox")
		docker(t, "exec", "vigil-e2e-upper", "/tmp/busybox", "true")
		docker(t, "exec", "vigil-e2e-upper", "/bin/true")
		written := h.execs(t, "the written binary", withArgs(cg, "/tmp/busybox"))[0]
		fromImage := h.execs(t, "the image's binary", withArgs(cg, "/bin/true"))[0]
		if written.flags&event.ExecUpperLayer == 0 {
			t.Errorf("exec of a binary written into the container (exe %q): flags %#x lack ExecUpperLayer", written.exe, written.flags)
		}
		if fromImage.flags&event.ExecUpperLayer != 0 {
			t.Errorf("exec of the image's own binary (exe %q): flags %#x have ExecUpperLayer", fromImage.exe, fromImage.flags)
		}
		t.Logf("written binary exe %q flags %#x; image binary exe %q flags %#x", written.exe, written.flags, fromImage.exe, fromImage.flags)
	})

	h.mu.Lock()
	drops := h.drops
	h.mu.Unlock()
	if drops > 0 {
		t.Errorf("the output stage dropped %d events", drops)
	}
	t.Logf("resolver stats: %+v", h.res.Stats())
}

// checkIdentity compares a container's metadata with what docker run set.
// The pid is not checked: the first exec of a container (runc init) comes
// before Docker reports it started, when the metadata is the creation's.
func checkIdentity(t *testing.T, in *container.Info, id, name, label, value string) {
	t.Helper()
	if in.ID != id || in.Name != name || in.Runtime != container.RuntimeDocker || in.Labels[label] != value ||
		in.Image.Name != image || in.Image.Repository != "vigil-test/busybox" || in.Image.Tag != "1" ||
		!strings.HasPrefix(in.Image.ID, "sha256:") || in.StartTS == 0 {
		t.Errorf("identity %+v\nwant id %s name %s label %s=%s image %s", in, id, name, label, value, image)
	}
}

// capEffOf reads a process's effective capabilities from /proc.
func capEffOf(t *testing.T, pid string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no CapEff for pid %s", pid)
	return 0
}
