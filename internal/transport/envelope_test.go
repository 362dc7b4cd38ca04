package transport

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	good := Envelope{V: 1, ID: "a1-1", Node: "node-1.example", Kind: KindAlert, Agent: "a1", Time: time.Now(),
		Payload: json.RawMessage(`{"rule":"r"}`)}
	enc := func(e Envelope) []byte { b, _ := json.Marshal(e); return b }
	subj := Subject("vigil", KindAlert, "node-1.example")
	if subj != "vigil.agent.alert.node-1_example" {
		t.Fatalf("subject %s", subj)
	}
	if e, err := Decode(enc(good), subj, "vigil"); err != nil || e.Node != "node-1.example" {
		t.Fatalf("good envelope: %v", err)
	}
	mod := func(f func(*Envelope)) []byte { e := good; f(&e); return enc(e) }
	for _, c := range []struct {
		name, reason, subject string
		data                  []byte
	}{
		{"malformed", "malformed", subj, []byte(`{"v":1,"id":`)},
		{"not an object", "malformed", subj, []byte(`[1,2]`)},
		{"oversized", "oversized", subj, []byte(`"` + strings.Repeat("x", MaxMessageBytes) + `"`)},
		{"wrong version", "schema_version", subj, mod(func(e *Envelope) { e.V = 2 })},
		{"no version", "schema_version", subj, []byte(`{"id":"x"}`)},
		{"unknown field", "malformed", subj, []byte(strings.Replace(string(enc(good)), `"v":1`, `"v":1,"extra":true`, 1))},
		{"no id", "bad_id", subj, mod(func(e *Envelope) { e.ID = "" })},
		{"no node", "bad_node", subj, mod(func(e *Envelope) { e.Node = "" })},
		{"control in node", "bad_node", subj, mod(func(e *Envelope) { e.Node = "a\nb" })},
		{"no payload", "no_payload", subj, mod(func(e *Envelope) { e.Payload = nil })},
		{"no time", "bad_time", subj, mod(func(e *Envelope) { e.Time = time.Time{} })},
		{"spoofed node", "subject_mismatch", subj, mod(func(e *Envelope) { e.Node = "node-2" })},
		{"kind off its subject", "subject_mismatch", subj, mod(func(e *Envelope) { e.Kind = KindHeartbeat })},
	} {
		_, err := Decode(c.data, c.subject, "vigil")
		r, ok := err.(*Reject)
		if !ok || r.Reason != c.reason {
			t.Errorf("%s: got %v, want reason %s", c.name, err, c.reason)
		}
	}
}
