package alert

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert/falcocheck"
)

// documentedEvent is the event of Falco's documented example alert
// (testdata/falco-documented.json) as Vigil's rule evaluator would build
// it: the rule output without the prefix, tags as the rule lists them,
// the template's fields with their types.
func documentedEvent() *Alert {
	return &Alert{
		Time:     time.Date(2023, 5, 25, 13, 44, 5, 478445995, time.UTC),
		Rule:     "Terminal shell in container",
		Priority: "Critical",
		Source:   "syscall",
		Hostname: "falco-xczjd",
		Output: "A shell was spawned in a container with an attached terminal (user=root user_loginuid=-1 " +
			"k8s.ns=default k8s.pod=kubecon container=ee97d9c4186f shell=sh parent=runc cmdline=sh -c clear; " +
			"(bash || ash || sh) terminal=34816 container_id=ee97d9c4186f image=docker.io/library/alpine)",
		Tags: []string{"shell", "container", "mitre_execution", "container"},
		OutputFields: map[string]any{
			"container.id": "ee97d9c4186f", "container.image.repository": "docker.io/library/alpine",
			"k8s.ns.name": "default", "k8s.pod.name": "kubecon", "proc.cmdline": "sh -c clear; (bash || ash || sh)",
			"proc.name": "sh", "proc.pname": "runc", "proc.tty": uint64(34816), "user.loginuid": int64(-1), "user.name": "root",
		},
		Context: Context{
			Process:  Process{PID: 4242, PPID: 4200, ExePath: "/bin/sh", Cmdline: "sh -c clear", Ancestors: []string{"runc", "containerd-shim"}},
			Identity: Identity{User: "root", ContainerID: "ee97d9c4186f", Image: "docker.io/library/alpine", Pod: "kubecon", Namespace: "default"},
		},
	}
}

// inUTC runs f with the local time zone set to UTC, the zone the
// documented example's output prefix was written in.
func inUTC(t *testing.T) {
	t.Helper()
	saved := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = saved })
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// TestGoldenFalcoDocumented: with Vigil's additions turned off, Vigil's
// JSON for the event of Falco's documented example equals it key by key,
// values and types included; with the defaults it only adds Vigil's
// context block and vigil.* output fields.
func TestGoldenFalcoDocumented(t *testing.T) {
	inUTC(t)
	doc, err := os.ReadFile("testdata/falco-documented.json")
	if err != nil {
		t.Fatal(err)
	}
	want := decode(t, doc)
	a := documentedEvent()
	got := decode(t, a.AppendJSON(nil, JSONOptions{OmitVigilBlocks: true, OmitVigilFields: true}))
	compareKeys(t, "falco form", got, want)

	full := decode(t, a.AppendJSON(nil, JSONOptions{}))
	if _, ok := full["context"]; !ok {
		t.Error("default form has no context block")
	}
	delete(full, "context")
	fields := full["output_fields"].(map[string]any)
	for k := range fields {
		if strings.HasPrefix(k, VigilFieldPrefix) {
			delete(fields, k)
		}
	}
	compareKeys(t, "default form less Vigil's additions", full, want)
}

func compareKeys(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: %q missing", what, k)
		} else if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %q = %#v, Falco documents %#v", what, k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %q is not in Falco's form", what, k)
		}
	}
}

// TestJSONBytes pins the bytes: Falco's keys sorted as Falco's JSON
// library writes them, then Vigil's blocks; no HTML escaping; control
// characters and invalid UTF-8 as Falco escapes them; numbers as Falco
// prints them.
func TestJSONBytes(t *testing.T) {
	inUTC(t)
	a := &Alert{
		Time: time.Date(2024, 5, 1, 10, 0, 0, 120000000, time.FixedZone("CEST", 2*3600)),
		Rule: "R <&>", Priority: "Warning", Source: "syscall", Hostname: "h",
		Output: "a<b>&c \"q\" \\ tab\there nl\nbell\x07 bad\xff é",
		Tags:   []string{"b", "a", "b"},
		OutputFields: map[string]any{"f.one": 1.0, "f.tiny": 1e-5, "f.big": 1e20, "f.half": 12.5, "f.nil": nil,
			"f.list": []string{"x", "y"}, "f.neg": int64(-3), "f.bool": true},
		Enforcement: &Enforcement{Action: "kill", Mode: "enforce", Outcome: "killed", Mechanism: "bpf-send-signal"},
	}
	got := string(a.AppendJSON(nil, JSONOptions{IncludeMessage: true}))
	want := `{"hostname":"h",` +
		`"message":"a<b>&c \"q\" \\ tab\there nl\nbell\u0007 bad` + "\uFFFD é" + `",` +
		`"output":"08:00:00.120000000: Warning a<b>&c \"q\" \\ tab\there nl\nbell\u0007 bad` + "\uFFFD é" + `",` +
		`"output_fields":{"evt.time":1714550400120000000,"f.big":1e+20,"f.bool":true,"f.half":12.5,"f.list":["x","y"],` +
		`"f.neg":-3,"f.nil":null,"f.one":1.0,"f.tiny":1e-05,` +
		`"vigil.enforcement.action":"kill","vigil.enforcement.mechanism":"bpf-send-signal",` +
		`"vigil.enforcement.mode":"enforce","vigil.enforcement.outcome":"killed"},` +
		`"priority":"Warning","rule":"R <&>","source":"syscall","tags":["a","b"],"time":"2024-05-01T08:00:00.120000000Z",` +
		`"context":{"process":{"pid":0,"ppid":0,"exepath":"","cmdline":"","ancestors":null},` +
		`"identity":{"user":"","uid":0,"cgroup_id":0,"container_id":""}},` +
		`"enforcement":{"action":"kill","mode":"enforce","outcome":"killed","mechanism":"bpf-send-signal"}}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if err := falcocheck.CheckFalco([]byte(got)); err != nil {
		t.Error(err)
	}
	iso := string(a.AppendJSON(nil, JSONOptions{TimeISO8601: true, OmitTags: true, OmitOutputFields: true, OmitVigilBlocks: true}))
	if !strings.HasPrefix(iso, `{"hostname":"h","output":"2024-05-01T08:00:00.120000000+0000: Warning a<b>`) ||
		!strings.HasSuffix(iso, `"priority":"Warning","rule":"R <&>","source":"syscall","time":"2024-05-01T08:00:00.120000000Z"}`) {
		t.Errorf("iso form %s", iso)
	}
	if strings.Contains(string(a.AppendJSON(nil, JSONOptions{OmitOutput: true})), `"output":`) {
		t.Error("output property not left out")
	}
}

// TestOutputFieldsNeverEmpty: a rule whose output has no %field still
// carries the event time, so falcosidekick accepts the alert.
func TestOutputFieldsNeverEmpty(t *testing.T) {
	a := &Alert{Time: time.Unix(1, 5).UTC(), Rule: "No fields", Priority: "Notice", Source: "syscall", Output: "plain"}
	b := a.AppendJSON(nil, JSONOptions{OmitVigilFields: true})
	if err := falcocheck.CheckFalco(b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if m := decode(t, b); !reflect.DeepEqual(m["output_fields"], map[string]any{"evt.time": json.Number("1000000005")}) {
		t.Errorf("output_fields %v", m["output_fields"])
	}
}

// TestRoundTrip: an alert's JSON reads back into the same alert, with the
// output prefix stripped.
func TestRoundTrip(t *testing.T) {
	a := documentedEvent()
	var back Alert
	if err := json.Unmarshal(a.AppendJSON(nil, JSONOptions{}), &back); err != nil {
		t.Fatal(err)
	}
	if back.Output != a.Output || back.Rule != a.Rule || !back.Time.Equal(a.Time) || back.Context.Process.PID != 4242 ||
		!reflect.DeepEqual(back.Tags, []string{"container", "mitre_execution", "shell"}) {
		t.Errorf("round trip %+v", back)
	}
	var keys []string
	for k := range back.OutputFields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range []string{"evt.time", "vigil.container.image", "vigil.k8s.ns.name", "vigil.k8s.pod.name", "vigil.proc.ancestors"} {
		if i := sort.SearchStrings(keys, k); i == len(keys) || keys[i] != k {
			t.Errorf("output_fields lacks %s: %v", k, keys)
		}
	}
}

func TestSortedTagsAndStripPrefix(t *testing.T) {
	if got := SortedTags(nil); got == nil || len(got) != 0 {
		t.Errorf("nil tags: %#v", got)
	}
	if got := SortedTags([]string{"z", "a", "z", "m", "a"}); !reflect.DeepEqual(got, []string{"a", "m", "z"}) {
		t.Errorf("tags %v", got)
	}
	for in, want := range map[string]string{
		"13:44:05.478445995: Critical A shell":                 "A shell",
		"2024-05-01T08:00:00.120000000+0000: Critical A shell": "A shell",
		"no prefix: Critical here":                             "no prefix: Critical here",
		"13:44:05.478445995: Warning other priority":           "13:44:05.478445995: Warning other priority",
		"13:44:05.478445995: Critical ":                        "",
	} {
		if got := StripPrefix(in, "Critical"); got != want {
			t.Errorf("StripPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
