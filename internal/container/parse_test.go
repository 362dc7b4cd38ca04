package container

import "testing"

func TestParseProcCgroup(t *testing.T) {
	hybrid := "9:name=systemd:/docker/" + id1 + "\n4:memory:/docker/" + id1 + "\n0::/docker/" + id1 + "\n"
	v1only := "12:pids:/docker/" + id1 + "\n11:memory:/docker/" + id1 + "\n1:name=systemd:/docker/" + id1 + "\n"
	// Hybrid host where the runtime did not join the unified hierarchy: the
	// v2 line says root and only the v1 lines name the container.
	v1Inside := "9:name=systemd:/libpod_parent/libpod-" + id2 + "\n0::/\n"
	v2only := "0::/system.slice/docker-" + id1 + ".scope\n"
	host := "9:name=systemd:/\n4:memory:/process_api/d4a8\n0::/\n"
	for _, tc := range []struct {
		name, content string
		id            string
		rt            Runtime
	}{
		{"hybrid", hybrid, id1, RuntimeDocker},
		{"v1 only", v1only, id1, RuntimeDocker},
		{"v1 lines when v2 is root", v1Inside, id2, RuntimePodman},
		{"v2 only", v2only, id1, RuntimeDocker},
		{"host", host, "", RuntimeHost},
		{"garbage", "::::\n\n0:\nno colon\n1::/docker/" + id1, "", RuntimeHost},
		{"no trailing newline", "0::/docker/" + id1, id1, RuntimeDocker},
	} {
		m, ok := ParseProcCgroup(tc.content)
		if ok != (tc.rt != RuntimeHost) || m.ID != tc.id || (ok && m.Runtime != tc.rt) {
			t.Errorf("%s: ParseProcCgroup = %+v, %v; want %s %s", tc.name, m, ok, tc.id, tc.rt)
		}
	}
	if p, ok := ProcCgroupV2Path(hybrid); !ok || p != "/docker/"+id1 {
		t.Errorf("ProcCgroupV2Path(hybrid) = %q, %v", p, ok)
	}
	if _, ok := ProcCgroupV2Path(v1only); ok {
		t.Error("ProcCgroupV2Path found a v2 line on a v1-only host")
	}
}

func TestParseImageRef(t *testing.T) {
	for _, tc := range []struct{ ref, repo, tag, digest string }{
		{"busybox", "busybox", "latest", ""},
		{"vigil-test/busybox:1", "vigil-test/busybox", "1", ""},
		{"localhost/vigil-test/busybox:1", "localhost/vigil-test/busybox", "1", ""},
		{"registry:5000/team/app", "registry:5000/team/app", "latest", ""},
		{"registry:5000/team/app:2.1", "registry:5000/team/app", "2.1", ""},
		{"nginx@sha256:0123abcd", "nginx", "", "sha256:0123abcd"},
		{"ghcr.io/o/app:v1@sha256:0123abcd", "ghcr.io/o/app", "v1", "sha256:0123abcd"},
		{"[::1]:5000/app:3", "[::1]:5000/app", "3", ""},
		{"", "", "", ""},
	} {
		repo, tag, digest := ParseImageRef(tc.ref)
		if repo != tc.repo || tag != tc.tag || digest != tc.digest {
			t.Errorf("ParseImageRef(%q) = %q %q %q, want %q %q %q", tc.ref, repo, tag, digest, tc.repo, tc.tag, tc.digest)
		}
	}
	if !IsImageID("sha256:"+id1) || !IsImageID(id1) || IsImageID("busybox") {
		t.Error("IsImageID misjudges ids")
	}
}

func TestPodFromLabels(t *testing.T) {
	labels := map[string]string{
		LabelPodName: "web-7d9f", LabelPodNamespace: "shop", LabelPodUID: uid, LabelContainerName: "nginx",
	}
	p := PodFromLabels(labels)
	if p == nil || p.Name != "web-7d9f" || p.Namespace != "shop" || p.UID != uid || p.ContainerName != "nginx" {
		t.Fatalf("PodFromLabels = %+v", p)
	}
	delete(labels, LabelPodNamespace)
	if p := PodFromLabels(labels); p != nil {
		t.Errorf("a pod without namespace was reported: %+v", p)
	}
	if PodFromLabels(nil) != nil {
		t.Error("nil labels gave a pod")
	}
}

func TestInfoAccessors(t *testing.T) {
	in := (&Info{
		ID: id1, Runtime: RuntimeDocker,
		Mounts: []Mount{
			{Source: "/tmp", Dest: "/hosttmp", Mode: "ro", Propagation: "rprivate"},
			{Source: "/var/lib/docker/volumes/v/_data", Dest: "/data", RW: true},
		},
		Pod: &Pod{Name: "p", Labels: map[string]string{"tier": "web", "app": "shop"}},
	}).seal()
	in.Image.ID = "sha256:" + id2
	if in.ShortID() != id1[:12] || Host.ShortID() != "host" || in.Type() != "docker" || in.Image.ShortID() != id2[:12] {
		t.Errorf("ShortID/Type: %q %q %q", in.ShortID(), Host.ShortID(), in.Type())
	}
	want := "/tmp:/hosttmp:ro:false:rprivate,/var/lib/docker/volumes/v/_data:/data::true:"
	if in.MountsString() != want {
		t.Errorf("MountsString = %q, want %q", in.MountsString(), want)
	}
	if m, ok := in.MountBySource("/tmp"); !ok || m.Dest != "/hosttmp" {
		t.Errorf("MountBySource = %+v %v", m, ok)
	}
	if m, ok := in.MountByDest("/data"); !ok || !m.RW {
		t.Errorf("MountByDest = %+v %v", m, ok)
	}
	if _, ok := in.Mount(2); ok {
		t.Error("Mount(2) exists")
	}
	if in.Pod.LabelsString() != "app:shop, tier:web" {
		t.Errorf("LabelsString = %q", in.Pod.LabelsString())
	}
	if n := testing.AllocsPerRun(100, func() {
		in.ShortID()
		in.MountsString()
		in.MountByDest("/data")
		in.Pod.Label("app")
		in.Pod.LabelsString()
	}); n != 0 {
		t.Errorf("accessors allocate %v times", n)
	}
}
