package workload

import (
	"errors"
	"testing"

	"github.com/vigilsec/vigil/internal/container"
)

func TestInferOwner(t *testing.T) {
	for _, tc := range []struct{ pod, kind, name string }{
		{"web-7d9f8b6c5d-x2x4z", OwnerDeployment, "web"},
		{"my-api-server-5c8f9b7d4-k9z2q", OwnerDeployment, "my-api-server"},
		{"fluent-bit-x7k2p", OwnerDaemonSet, "fluent-bit"},
		{"backup-28391040-q7w2x", OwnerCronJob, "backup"},
		{"db-0", OwnerStatefulSet, "db"},
		{"kafka-broker-12", OwnerStatefulSet, "kafka-broker"},
		{"debug", OwnerPod, "debug"},
		{"debug-shell", OwnerPod, "debug-shell"},
		// "aeiou" has vowels, so it is no generated suffix.
		{"tool-aeiou", OwnerPod, "tool-aeiou"},
		{"-x2x4z", OwnerPod, "-x2x4z"},
		{"web-", OwnerPod, "web-"},
	} {
		kind, name := InferOwner(tc.pod)
		if kind != tc.kind || name != tc.name {
			t.Errorf("InferOwner(%q) = %s %s, want %s %s", tc.pod, kind, name, tc.kind, tc.name)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, w := range []*Workload{
		NewK8s("shop", OwnerDeployment, "web", "app", false),
		NewImage("registry:5000/team/app@sha256:abcd", "web"),
		NewImage("registry:5000/team/app:1.2", "web"),
		NewUnit("nginx.service"),
		NewUnit("user@1000.service+dbus.service"),
		NewExe("/usr/sbin/sshd"),
	} {
		got, err := Parse(w.ID)
		if err != nil {
			t.Fatalf("Parse(%q): %v", w.ID, err)
		}
		if *got != *w {
			t.Errorf("Parse(%q) = %+v, want %+v", w.ID, got, w)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, id := range []string{
		"", "k8s/a/b", "k8s/ns/widget/x/c", "k8s/ns/deployment//c", "image/nginx/web",
		"image/nginx:1/", "host/unit/", "host/unit/a/b", "host/other/x", "vm/x", "k8s/a\n/deployment/b/c",
	} {
		if _, err := Parse(id); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want a syntax error", id, err)
		}
	}
}

func TestFromContainer(t *testing.T) {
	complete := container.StateComplete
	pod := func(api bool, o container.Owner) *container.Info {
		return &container.Info{ID: "c1", Name: "k8s_app_web-7d9f8b6c5d-x2x4z", Pod: &container.Pod{
			Name: "web-7d9f8b6c5d-x2x4z", Namespace: "shop", ContainerName: "app", FromAPI: api, Owner: o}}
	}
	for _, tc := range []struct {
		name     string
		info     *container.Info
		st       container.State
		id       string
		inferred bool
	}{
		{"api deployment", pod(true, container.Owner{Deployment: "web", ReplicaSet: "web-7d9f8b6c5d"}), complete,
			"k8s/shop/deployment/web/app", false},
		{"api bare pod", pod(true, container.Owner{}), complete, "k8s/shop/pod/web-7d9f8b6c5d-x2x4z/app", false},
		{"api cronjob", pod(true, container.Owner{Job: "backup-1", CronJob: "backup"}), complete, "k8s/shop/cronjob/backup/app", false},
		{"inferred", pod(false, container.Owner{}), complete, "k8s/shop/deployment/web/app", true},
		{"digest", &container.Info{ID: "c2", Name: "/web-2", Image: container.Image{
			Name: "nginx:1.25", Repository: "docker.io/library/nginx", Tag: "1.25", Digest: "sha256:ab"}}, complete,
			"image/docker.io/library/nginx@sha256:ab/web", false},
		{"tag", &container.Info{ID: "c3", Name: "cache", Image: container.Image{Name: "redis:7"}}, complete,
			"image/redis:7/cache", false},
		{"compose", &container.Info{ID: "c4", Name: "proj-web-3", Image: container.Image{Name: "app"},
			Labels: map[string]string{labelComposeProject: "proj", labelComposeService: "web"}}, complete,
			"image/app:latest/proj-web", false},
		{"pending", &container.Info{ID: "c5"}, container.StatePending, "", false},
		{"no image", &container.Info{ID: "c6", Name: "x"}, complete, "", false},
		{"host", container.Host, container.StateHost, "", false},
	} {
		w, ok := FromContainer(tc.info, tc.st)
		if tc.id == "" {
			if ok {
				t.Errorf("%s: got %q, want none", tc.name, w.ID)
			}
			continue
		}
		if !ok || w.ID != tc.id || w.Inferred != tc.inferred {
			t.Errorf("%s: got %+v %v, want %q inferred=%v", tc.name, w, ok, tc.id, tc.inferred)
		}
	}
}

func TestUnitFromProcCgroup(t *testing.T) {
	for _, tc := range []struct {
		content, unit string
		v2, ok        bool
	}{
		{"0::/system.slice/nginx.service\n", "nginx.service", true, true},
		{"0::/system.slice/docker.service/sub\n", "docker.service", true, true},
		{"0::/init.scope\n", "init.scope", true, true},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", "", true, false},
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service\n", "user@1000.service+dbus.service", true, true},
		{"0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", "user@1000.service+init.scope", true, true},
		{"0::/system.slice/run-u42.service\n", "", true, false},
		{"0::/user.slice/app-gnome-firefox-12345.scope\n", "", true, false},
		{"0::/system.slice/getty@tty1.service\n", "getty@tty1.service", true, true},
		{"0::/\n", "", false, false},
		{"12:cpu:/x\n1:name=systemd:/system.slice/cron.service\n0::/\n", "cron.service", false, true},
		{"1:name=systemd:/user.slice/user-0.slice/session-1.scope\n", "", false, false},
		{"garbage", "", false, false},
	} {
		unit, v2, ok := UnitFromProcCgroup(tc.content)
		if unit != tc.unit || v2 != tc.v2 || ok != tc.ok {
			t.Errorf("UnitFromProcCgroup(%q) = %q %v %v, want %q %v %v", tc.content, unit, v2, ok, tc.unit, tc.v2, tc.ok)
		}
	}
}

func TestTrimReplica(t *testing.T) {
	for in, want := range map[string]string{"web-2": "web", "web_13": "web", "web": "web", "v2": "v2", "-1": "-1", "a-": "a-"} {
		if got := trimReplica(in); got != want {
			t.Errorf("trimReplica(%q) = %q, want %q", in, got, want)
		}
	}
}
