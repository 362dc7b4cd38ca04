package rules_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert/falcocheck"
)

// wireAlert is one line of `vigil run`'s stdout as docs/rules.md
// ("Alerts") and docs/outputs.md document it: Falco's JSON plus
// Vigil's context block. It is the suite's own copy of the shape, so
// that a change to what the agent writes fails here: decodeAlert
// refuses unknown keys and missing ones.
type wireAlert struct {
	Time         time.Time        `json:"time"`
	Rule         string           `json:"rule"`
	Priority     string           `json:"priority"`
	Source       string           `json:"source"`
	Hostname     string           `json:"hostname"`
	Output       string           `json:"output"`
	Tags         []string         `json:"tags"`
	OutputFields map[string]any   `json:"output_fields"` // numbers as json.Number
	Context      wireContext      `json:"context"`
	Enforcement  *wireEnforcement `json:"enforcement"`
}

type wireContext struct {
	Process  wireProcess   `json:"process"`
	Identity wireIdentity  `json:"identity"`
	Workload *wireWorkload `json:"workload"`
}

type wireWorkload struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireProcess struct {
	PID       uint32   `json:"pid"`
	PPID      uint32   `json:"ppid"`
	ExePath   string   `json:"exepath"`
	Cmdline   string   `json:"cmdline"`
	Ancestors []string `json:"ancestors"`
}

type wireIdentity struct {
	User          string `json:"user"`
	UID           uint32 `json:"uid"`
	CgroupID      uint64 `json:"cgroup_id"`
	ContainerID   string `json:"container_id"`
	ContainerName string `json:"container_name"`
	Image         string `json:"image"`
	Pod           string `json:"k8s_pod"`
	Namespace     string `json:"k8s_ns"`
}

type wireEnforcement struct {
	Action     string `json:"action"`
	Mode       string `json:"mode"`
	Outcome    string `json:"outcome"`
	Mechanism  string `json:"mechanism"`
	ReactionNS int64  `json:"reaction_ns"`
	Error      string `json:"error"`
}

// The keys every alert has, at each level; the others are optional.
var (
	alertKeys    = []string{"time", "rule", "priority", "source", "hostname", "output", "tags", "output_fields", "context"}
	contextKeys  = []string{"process", "identity"}
	processKeys  = []string{"pid", "ppid", "exepath", "cmdline", "ancestors"}
	identityKeys = []string{"user", "uid", "cgroup_id", "container_id"}
)

// decodeAlert decodes one stdout line strictly: Falco's form (checked by
// falcocheck, as falcosidekick and Falco's other consumers read it), and
// the suite's copy of the whole shape.
func decodeAlert(line []byte) (*wireAlert, error) {
	if err := falcocheck.CheckFalco(line); err != nil {
		return nil, fmt.Errorf("not in Falco's form: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var a wireAlert
	if err := dec.Decode(&a); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one value on the line")
	}
	var top struct {
		Context struct {
			Process  map[string]json.RawMessage `json:"process"`
			Identity map[string]json.RawMessage `json:"identity"`
		} `json:"context"`
	}
	var keys, context map[string]json.RawMessage
	if err := json.Unmarshal(line, &keys); err != nil {
		return nil, err
	}
	// Without a context, the loop below names the keys it lacks.
	if raw, ok := keys["context"]; ok {
		if err := json.Unmarshal(raw, &context); err != nil {
			return nil, fmt.Errorf("context: %w", err)
		}
	}
	if err := json.Unmarshal(line, &top); err != nil {
		return nil, err
	}
	for _, level := range []struct {
		name string
		m    map[string]json.RawMessage
		keys []string
	}{{"", keys, alertKeys}, {"context.", context, contextKeys},
		{"context.process.", top.Context.Process, processKeys}, {"context.identity.", top.Context.Identity, identityKeys}} {
		for _, k := range level.keys {
			if _, ok := level.m[k]; !ok {
				return nil, fmt.Errorf("no %s%s", level.name, k)
			}
		}
	}
	return &a, nil
}

// field renders an output field's value for comparison: strings as
// they are, numbers as written, null as <NA> (as the output text
// renders it).
func (a *wireAlert) field(name string) string {
	v, ok := a.OutputFields[name]
	switch {
	case !ok:
		return "(absent)"
	case v == nil:
		return "<NA>"
	}
	return fmt.Sprint(v)
}

// TestDocumentedAlertDecodes holds the suite's copy of the alert shape to
// the example docs/rules.md gives, so that the two cannot drift apart.
func TestDocumentedAlertDecodes(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "`vigil run` prints one JSON object per alert")
	if ok {
		_, after, ok = strings.Cut(after, "```json\n")
	}
	if !ok {
		t.Fatal("docs/rules.md has no example alert")
	}
	example, _, _ := strings.Cut(after, "```")
	var line bytes.Buffer
	if err := json.Compact(&line, []byte(example)); err != nil {
		t.Fatal(err)
	}
	a, err := decodeAlert(line.Bytes())
	if err != nil {
		t.Fatalf("the documented alert does not decode: %v", err)
	}
	if a.Rule != "Credential file read by an unexpected program" || a.field("proc.pid") != "4242" || a.Context.Process.PID != 4242 {
		t.Errorf("decoded %+v", a)
	}
}
