package falcocheck

import (
	"strings"
	"testing"
)

// sidekickTest is falcosidekick's own test payload, which it accepts.
const sidekickTest = `{"output":"This is a test from falcosidekick","source":"debug","priority":"Debug","hostname":"falcosidekick", "rule":"Test rule","time":"2024-05-01T10:00:00Z","output_fields":{"proc.name":"falcosidekick","user.name":"falcosidekick"},"tags":["test","example"]}`

func TestCheckAcceptsWhatSidekickAccepts(t *testing.T) {
	p, err := Check([]byte(sidekickTest))
	if err != nil {
		t.Fatal(err)
	}
	if p.Priority != "Debug" || p.Rule != "Test rule" || len(p.OutputFields) != 2 {
		t.Errorf("payload %+v", p)
	}
	info := strings.Replace(sidekickTest, `"Debug"`, `"info"`, 1)
	if p, err := Check([]byte(info)); err != nil || p.Priority != "Informational" {
		t.Errorf("info: %+v %v", p, err)
	}
}

// TestCheckRefuses: each payload falcosidekick answers with 400 (or
// cannot handle) is refused.
func TestCheckRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"empty output_fields": strings.Replace(sidekickTest, `{"proc.name":"falcosidekick","user.name":"falcosidekick"}`, `{}`, 1),
		"no output_fields":    strings.Replace(sidekickTest, `"output_fields":{"proc.name":"falcosidekick","user.name":"falcosidekick"},`, ``, 1),
		"unknown priority":    strings.Replace(sidekickTest, `"Debug"`, `"Severe"`, 1),
		"priority not string": strings.Replace(sidekickTest, `"Debug"`, `7`, 1),
		"no rule":             strings.Replace(sidekickTest, `"rule":"Test rule",`, ``, 1),
		"no time":             strings.Replace(sidekickTest, `"time":"2024-05-01T10:00:00Z",`, ``, 1),
		"time not RFC 3339":   strings.Replace(sidekickTest, `2024-05-01T10:00:00Z`, `10:00:00`, 1),
		"tags not strings":    strings.Replace(sidekickTest, `["test","example"]`, `[1]`, 1),
		"ns not a string":     strings.Replace(sidekickTest, `"proc.name":"falcosidekick"`, `"k8s.ns.name":3`, 1),
		"not JSON":            `{"rule":`,
	} {
		if _, err := Check([]byte(body)); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		}
	}
}

const falcoForm = `{"hostname":"h","output":"10:00:00.000000001: Warning out","output_fields":{"a":1,"evt.time":1714557600000000001},` +
	`"priority":"Warning","rule":"R","source":"syscall","tags":["a","b"],"time":"2024-05-01T10:00:00.000000001Z","context":{}}`

func TestCheckFalco(t *testing.T) {
	if err := CheckFalco([]byte(falcoForm)); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"keys out of order": strings.Replace(strings.Replace(falcoForm, `"hostname":"h",`, ``, 1), `"source":"syscall",`, `"source":"syscall","hostname":"h",`, 1),
		"trimmed time":      strings.Replace(falcoForm, `.000000001Z`, `.000000001+02:00`, 1),
		"no prefix":         strings.Replace(falcoForm, `10:00:00.000000001: Warning out`, `out`, 1),
		"prefix priority":   strings.Replace(falcoForm, `: Warning out`, `: Error out`, 1),
		"lower priority":    strings.ReplaceAll(falcoForm, `Warning`, `warning`),
		"unsorted tags":     strings.Replace(falcoForm, `["a","b"]`, `["b","a"]`, 1),
		"dup tags":          strings.Replace(falcoForm, `["a","b"]`, `["a","a"]`, 1),
		"no evt.time":       strings.Replace(falcoForm, `,"evt.time":1714557600000000001`, ``, 1),
		"wrong evt.time":    strings.Replace(falcoForm, `1714557600000000001`, `1714557600000000000`, 1),
		"fields unsorted":   strings.Replace(falcoForm, `{"a":1,"evt.time":1714557600000000001}`, `{"evt.time":1714557600000000001,"a":1}`, 1),
		"html escaped":      strings.Replace(falcoForm, `"R"`, `"\u003cR\u003e"`, 1),
		"extra key":         strings.Replace(falcoForm, `"context":{}`, `"other":{}`, 1),
		"no source":         strings.Replace(falcoForm, `"source":"syscall",`, ``, 1),
	} {
		if err := CheckFalco([]byte(body)); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		}
	}
}
