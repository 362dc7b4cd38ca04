// Package falcocheck checks an alert's JSON as its consumers read it:
// Check the way falcosidekick accepts a payload (any alert it refuses is
// lost behind a 400), and CheckFalco the exact form Falco writes, which
// Vigil promises. Tests run them on every alert they see.
package falcocheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Payload is the alert as falcosidekick decodes it (its FalcoPayload).
type Payload struct {
	Output       string         `json:"output"`
	Priority     Priority       `json:"priority"`
	Rule         string         `json:"rule"`
	Time         time.Time      `json:"time"`
	OutputFields map[string]any `json:"output_fields"`
	Source       string         `json:"source"`
	Tags         []string       `json:"tags"`
	Hostname     string         `json:"hostname"`
}

// Priority is a priority as falcosidekick reads it: any JSON string, the
// names compared without case and "info" taken for Informational; an
// unknown name reads as "" and fails Check.
type Priority string

// UnmarshalJSON refuses what is not a string, like falcosidekick.
func (p *Priority) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*p = ""
	for _, name := range priorities {
		if strings.EqualFold(s, name) {
			*p = Priority(name)
		}
	}
	if strings.EqualFold(s, "info") {
		*p = "Informational"
	}
	return nil
}

// priorities are Falco's priority names, as Falco spells them.
var priorities = []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// Check decodes data as falcosidekick's input handler does (numbers kept
// as json.Number, unknown keys ignored, mistyped known keys refused) and
// applies its check: a known priority, a rule, a time, and a non-empty
// output_fields. It also refuses what would make the handler fail
// further on: k8s.ns.name and k8s.pod.name, when not null, must be
// strings, since it asserts them.
func Check(data []byte) (*Payload, error) {
	var p Payload
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("falcosidekick cannot decode it: %w", err)
	}
	var errs []error
	if p.Priority == "" {
		errs = append(errs, errors.New("priority is missing or unknown"))
	}
	if p.Rule == "" {
		errs = append(errs, errors.New("rule is missing"))
	}
	if p.Time.IsZero() {
		errs = append(errs, errors.New("time is missing"))
	}
	if len(p.OutputFields) == 0 {
		errs = append(errs, errors.New("output_fields is missing or empty"))
	}
	for _, k := range []string{"k8s.ns.name", "k8s.pod.name"} {
		if v, ok := p.OutputFields[k]; ok && v != nil {
			if _, isString := v.(string); !isString {
				errs = append(errs, fmt.Errorf("output_fields[%q] is %T, not a string", k, v))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("falcosidekick would refuse it: %w", err)
	}
	return &p, nil
}

var (
	timeRE      = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`)
	outputRE    = regexp.MustCompile(`^(\d\d:\d\d:\d\d\.\d{9}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+0000): (\w+) `)
	falcoOrder  = []string{"hostname", "message", "output", "output_fields", "priority", "rule", "source", "tags", "time"}
	vigilOrder  = []string{"context", "enforcement"}
	required    = map[string]bool{"hostname": true, "priority": true, "rule": true, "source": true, "time": true}
	htmlEscapes = []string{`\u003c`, `\u003e`, `\u0026`}
)

// CheckFalco checks data against the form Falco writes, on top of Check:
// Falco's keys in Falco's order (sorted) with hostname, priority, rule,
// source and time always present, then only Vigil's context and
// enforcement blocks; time in UTC with nine fractional digits and Z;
// output, when present, starting with the event time and the priority;
// the priority spelled as Falco spells it; tags sorted and unique;
// output_fields sorted and holding the event time (evt.time or
// evt.time.iso8601) in nanoseconds; no HTML escapes.
func CheckFalco(data []byte) error {
	p, err := Check(data)
	if err != nil {
		return err
	}
	keys, err := topKeys(data)
	if err != nil {
		return err
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !inOrder(keys, append(append([]string{}, falcoOrder...), vigilOrder...)) {
		bad("keys %v are not Falco's in Falco's order, then Vigil's", keys)
	}
	present := map[string]bool{}
	for _, k := range keys {
		present[k] = true
	}
	for k := range required {
		if !present[k] {
			bad("%q is missing", k)
		}
	}
	var raw struct {
		Time     string `json:"time"`
		Priority string `json:"priority"`
		Output   string `json:"output"`
		Source   string `json:"source"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		bad("time, priority, output or source is not a string: %v", err)
	}
	if !timeRE.MatchString(raw.Time) {
		bad("time %q is not UTC with nine fractional digits", raw.Time)
	}
	if string(p.Priority) != raw.Priority {
		bad("priority %q is not spelled as Falco spells it", raw.Priority)
	}
	if raw.Source == "" {
		bad("source is empty")
	}
	if present["output"] {
		if m := outputRE.FindStringSubmatch(raw.Output); m == nil || m[2] != raw.Priority {
			bad("output %q does not start with Falco's <time>: <priority> prefix", raw.Output)
		}
	}
	if present["tags"] && (!sort.StringsAreSorted(p.Tags) || hasDup(p.Tags)) {
		bad("tags %v are not sorted and unique", p.Tags)
	}
	if err := checkFields(data, p); err != nil {
		errs = append(errs, err)
	}
	for _, e := range htmlEscapes {
		if bytes.Contains(data, []byte(e)) {
			bad("%s: HTML escaping, which Falco does not do", e)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("not Falco's form: %w", err)
	}
	return nil
}

// checkFields checks output_fields' order and its event time.
func checkFields(data []byte, p *Payload) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return err
	}
	rawFields, ok := top["output_fields"]
	if !ok {
		return nil
	}
	keys, err := topKeys(rawFields)
	if err != nil {
		return err
	}
	if !sort.StringsAreSorted(keys) {
		return fmt.Errorf("output_fields keys %v are not sorted", keys)
	}
	for _, k := range []string{"evt.time", "evt.time.iso8601"} {
		if v, ok := p.OutputFields[k].(json.Number); ok {
			if ns, err := v.Int64(); err != nil || ns != p.Time.UnixNano() {
				return fmt.Errorf("output_fields[%q] = %s is not the alert's time in nanoseconds", k, v)
			}
			return nil
		}
	}
	return errors.New("output_fields has no evt.time in nanoseconds")
}

// topKeys returns the keys of the JSON object in data, in order.
func topKeys(data []byte) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// inOrder reports whether keys appear in the order of order, each at most
// once, and none outside it.
func inOrder(keys, order []string) bool {
	i := 0
	for _, k := range keys {
		for i < len(order) && order[i] != k {
			i++
		}
		if i == len(order) {
			return false
		}
		i++
	}
	return true
}

func hasDup(ss []string) bool {
	seen := map[string]bool{}
	for _, s := range ss {
		if seen[s] {
			return true
		}
		seen[s] = true
	}
	return false
}
