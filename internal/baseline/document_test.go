package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/baseline/store"
)

// learnedDocument is the realistic baseline of web, in monitor.
func learnedDocument(t testing.TB, mode Mode) (*Engine, *Document) {
	t.Helper()
	h := newHarness(t, nil)
	for _, f := range realisticFacts() {
		h.e.Observe(web, f, nil)
	}
	h.e.Observe(web, &Fact{Dim: DimOutbound, Addr: mustAddr("10.0.0.5"), Port: 443, Proto: ProtoTCP, Name: "api.example.com"}, nil)
	h.e.Flush()
	if err := h.e.SetMode(web.ID, mode); err != nil {
		t.Fatal(err)
	}
	d, err := h.e.Document(web.ID)
	if err != nil {
		t.Fatal(err)
	}
	return h.e, d
}

func TestDocumentRoundTrip(t *testing.T) {
	e, d := learnedDocument(t, Monitor)
	data, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.Document(web.ID)
	if data2, _ := again.JSON(); !bytes.Equal(data, data2) {
		t.Fatal("two exports of the same baseline differ")
	}
	for _, want := range []string{`"schema": "vigil.dev/baseline/v1"`, `"id": "k8s/shop/deployment/web/app"`,
		`"mode": "monitor"`, `"path": "/usr/bin/curl"`, `"identity": "sha256:aa"`, `"dns": "api.example.com"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("export lacks %s:\n%s", want, data)
		}
	}
	if _, err := ParseDocument("web.json", data); err == nil {
		t.Fatalf("an identity that is not 64 hex digits was accepted")
	}
	// Real identities are 64 hex digits.
	fixed := strings.ReplaceAll(string(data), "sha256:aa", "sha256:"+strings.Repeat("ab", 32))
	back, err := ParseDocument("web.json", []byte(fixed))
	if err != nil {
		t.Fatal(err)
	}
	d.Executables[0].Identity = "sha256:" + strings.Repeat("ab", 32)
	if !reflect.DeepEqual(back, d) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", back, d)
	}

	// Import into a fresh engine gives the same baseline and mode.
	h := newHarness(t, nil)
	if err := h.e.Import(back); err != nil {
		t.Fatal(err)
	}
	got, _ := h.e.Document(web.ID)
	got.ModeChanged = back.ModeChanged
	if !reflect.DeepEqual(got.Items(), back.Items()) || got.Mode != "monitor" {
		t.Fatalf("after import:\n%v\nwant\n%v", got.Items(), back.Items())
	}
	// Offline, the same document becomes store changes.
	changes := ImportChanges(back)
	if changes[0].Op != store.OpClearItems || changes[1].Op != store.OpPutWorkload || len(changes) != 2+len(back.Items()) {
		t.Fatalf("import changes: %+v", changes[:2])
	}
}

func TestImportProtectNeedsPermission(t *testing.T) {
	_, d := learnedDocument(t, Protect)
	h := newHarness(t, func(c *Config) { c.ProtectAllowed = false })
	if err := h.e.Import(d); !errors.Is(err, ErrProtectNotAllowed) {
		t.Fatalf("import of a protect baseline: %v", err)
	}
}

func TestImportErrorsArePositioned(t *testing.T) {
	const head = `{"schema": "vigil.dev/baseline/v1", "workload": {"id": "k8s/shop/deployment/web/app"}, "mode": "learn"`
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{head + `, "executables": [{"path": 42}]}`, []string{"f.json:1:130: executables[0].path: want a string, got a number"}},
		{head + `,
  "listening": [{"proto": "tcp", "port": 70000}]}`, []string{"f.json:2:42: listening[0].port: want an integer from 1 to 65535, got 70000"}},
		{head + `, "colour": "red"}`, []string{`f.json:1:105: colour: unknown key`}},
		{`{"workload": {"id": "vm/1"}, "mode": "sleep"}`, []string{
			`f.json:1:21: workload.id: not a workload id`, `f.json:1:38: mode: "sleep": want learn, monitor or protect`,
			`f.json:1:1: document: missing required key "schema"`}},
		{head + `, "outbound": [{"peer": "10.0.0.0/33", "proto": "tcp", "port": 1}, {"proto": "udp", "port": 53}]}`,
			[]string{`outbound[0].peer: "10.0.0.0/33": want an address or a CIDR`, `outbound[1]: want exactly one of peer and dns`}},
		{head + `, "files_written": ["tmp/x", "/a/**/b", "/a/../b"]}`, []string{
			`files_written[0]: "tmp/x": want an absolute path`, `files_written[1]: "/a/**/b": "**" may only be the last segment`,
			`files_written[2]: "/a/../b": want a clean path`}},
		{head + `, "syscalls": ["openat", "fly"], "capabilities": ["CAP_FLY"], "users": ["root"]}`, []string{
			`syscalls[1]: "fly" is not a known syscall`, `capabilities[0]: "CAP_FLY" is not a known capability`,
			`users[0]: "root" is not a known user id`}},
		{head + `, "mode": "monitor"}`, []string{`f.json:1:105: mode: duplicate key`}},
		{head + `} {}`, []string{"f.json:1:105: unexpected data after the document"}},
		{head + `, "executables": [`, []string{"unexpected end of the document"}},
		{`{"schema": "vigil.dev/baseline/v9", "workload": {"id": "host/unit/a.service"}, "mode": "learn"}`,
			[]string{`f.json:1:12: schema: "vigil.dev/baseline/v9": this Vigil reads "vigil.dev/baseline/v1"`}},
		{`[1, 2]`, []string{"f.json:1:1: want an object, got an array"}},
		{`{"a": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, []string{"nested more than 16 levels"}},
	} {
		_, err := ParseDocument("f.json", []byte(tc.doc))
		if err == nil {
			t.Errorf("%s: accepted", tc.doc)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s:\n got %v\nwant %s", tc.doc, err, w)
			}
		}
		var ie *ImportError
		if !errors.As(err, &ie) || ie.Line < 1 || ie.Col < 1 {
			t.Errorf("%s: not a positioned error: %v", tc.doc, err)
		}
	}
}

// FuzzParseDocument: any input either fails with positioned errors or
// parses into a document that exports and parses back to itself.
func FuzzParseDocument(f *testing.F) {
	_, d := learnedDocument(f, Monitor)
	d.Executables[0].Identity = ""
	data, _ := d.JSON()
	f.Add(data)
	f.Add([]byte(`{"schema": "vigil.dev/baseline/v1", "workload": {"id": "image/nginx:1/web"}, "mode": "protect",
		"listening": [{"proto": "tcp", "port": 1024, "port_end": 65535}], "users": ["*"]}`))
	f.Add([]byte(`{"schema": 1, "workload": [], "mode": null, "x": {"y": [true, false, 1e999]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument("fuzz.json", data)
		if err != nil {
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		out, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseDocument("again.json", out)
		if err != nil {
			t.Fatalf("an exported document does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip changed the document:\n%+v\n%+v", d, back)
		}
	})
}

func TestSeccompExport(t *testing.T) {
	_, d := learnedDocument(t, Monitor)
	d.Syscalls = append(d.Syscalls, "read", "close")
	data, err := d.Seccomp(true)
	if err != nil {
		t.Fatal(err)
	}
	// The field names are the OCI runtime spec's (LinuxSeccomp).
	var p struct {
		DefaultAction   string   `json:"defaultAction"`
		DefaultErrnoRet *uint    `json:"defaultErrnoRet"`
		Architectures   []string `json:"architectures"`
		Syscalls        []struct {
			Names  []string `json:"names"`
			Action string   `json:"action"`
		} `json:"syscalls"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != "SCMP_ACT_ERRNO" || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 ||
		!slices.Equal(p.Architectures, []string{"SCMP_ARCH_X86_64"}) || len(p.Syscalls) != 1 || p.Syscalls[0].Action != "SCMP_ACT_ALLOW" {
		t.Fatalf("profile: %s", data)
	}
	names := p.Syscalls[0].Names
	for _, want := range []string{"openat", "read", "close", "execve", "exit_group"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s not allowed: %v", want, names)
		}
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("names not sorted and unique: %v", names)
	}
	if bare, _ := d.Seccomp(false); strings.Contains(string(bare), `"exit_group"`) {
		t.Error("runtime syscalls added without asking")
	}
}
