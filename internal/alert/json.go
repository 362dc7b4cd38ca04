package alert

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// JSONOptions choose the properties of an alert's JSON form, as Falco's
// json_include_* and time_format_iso_8601 switches do. The zero value is
// Falco's default form plus Vigil's context and enforcement blocks and
// its vigil.* output fields.
type JSONOptions struct {
	// OmitOutput leaves out "output" (json_include_output_property: false).
	OmitOutput bool
	// OmitTags leaves out "tags" (json_include_tags_property: false).
	OmitTags bool
	// IncludeMessage adds "message", the rendered rule output without the
	// time and priority prefix (json_include_message_property: true).
	IncludeMessage bool
	// OmitOutputFields leaves out "output_fields"
	// (json_include_output_fields_property: false).
	OmitOutputFields bool
	// TimeISO8601 prefixes "output" with the event's UTC date and time
	// instead of the local time of day, and names the prefix's field
	// evt.time.iso8601 in output_fields (time_format_iso_8601: true).
	TimeISO8601 bool
	// OmitVigilBlocks leaves out the "context" and "enforcement" blocks.
	OmitVigilBlocks bool
	// OmitVigilFields leaves out the vigil.* output fields that repeat
	// what matters of those blocks (see VigilFields).
	OmitVigilFields bool
}

// Falco's formats of the event time: in the output prefix, by default the
// local time of day, with time_format_iso_8601 the UTC date and time with
// a numeric zone; in "time", always UTC with nine fractional digits.
const (
	timeOfDayLayout = "15:04:05.000000000"
	isoPrefixLayout = "2006-01-02T15:04:05.000000000+0000"
	timeLayout      = "2006-01-02T15:04:05.000000000Z"
)

// The output field that carries the event time, as Falco names it for the
// prefix it renders.
const (
	TimeField    = "evt.time"
	TimeISOField = "evt.time.iso8601"
)

// AppendOutput appends Falco's "output" property: the event time, the
// priority and the rendered rule output, as in
// "13:44:05.478445995: Critical A shell was spawned ...".
func (a *Alert) AppendOutput(dst []byte, iso bool) []byte {
	if iso {
		dst = a.Time.UTC().AppendFormat(dst, isoPrefixLayout)
	} else {
		dst = a.Time.Local().AppendFormat(dst, timeOfDayLayout)
	}
	dst = append(dst, ": "...)
	dst = append(dst, a.Priority...)
	dst = append(dst, ' ')
	return append(dst, a.Output...)
}

// AppendFalcoText renders the alert as Falco's text output writes it:
// the output property on one line, control characters escaped as JSON
// escapes them.
func (a *Alert) AppendFalcoText(dst []byte, iso bool) []byte {
	line := a.AppendOutput(nil, iso)
	dst = appendStringBody(dst, string(line))
	return append(dst, '\n')
}

// AppendJSON appends the alert's JSON form: Falco's keys in the order
// Falco writes them (sorted, as its JSON library keeps objects), then
// Vigil's blocks. Strings are escaped as Falco escapes them: quotes,
// backslashes and control characters only, so <, > and & stay as they
// are, and invalid UTF-8 becomes U+FFFD.
func (a *Alert) AppendJSON(dst []byte, o JSONOptions) []byte {
	dst = append(dst, `{"hostname":`...)
	dst = appendString(dst, a.Hostname)
	if o.IncludeMessage {
		dst = append(dst, `,"message":`...)
		dst = appendString(dst, a.Output)
	}
	if !o.OmitOutput {
		dst = append(dst, `,"output":"`...)
		dst = appendStringBody(dst, string(a.AppendOutput(nil, o.TimeISO8601)))
		dst = append(dst, '"')
	}
	if !o.OmitOutputFields {
		dst = append(dst, `,"output_fields":`...)
		dst = appendFields(dst, a.outputFields(o))
	}
	dst = append(dst, `,"priority":`...)
	dst = appendString(dst, a.Priority)
	dst = append(dst, `,"rule":`...)
	dst = appendString(dst, a.Rule)
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, a.Source)
	if !o.OmitTags {
		dst = append(dst, `,"tags":`...)
		dst = appendStrings(dst, SortedTags(a.Tags))
	}
	dst = append(dst, `,"time":"`...)
	dst = a.Time.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, '"')
	if !o.OmitVigilBlocks {
		dst = append(dst, `,"context":`...)
		dst = appendMarshaled(dst, a.Context)
		if a.Enforcement != nil {
			dst = append(dst, `,"enforcement":`...)
			dst = appendMarshaled(dst, a.Enforcement)
		}
	}
	return append(dst, '}')
}

// MarshalJSON returns the default JSON form (zero JSONOptions). Note that
// encoding/json's Marshal then escapes <, > and & in it: outputs write
// AppendJSON's bytes.
func (a Alert) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil, JSONOptions{}), nil }

// UnmarshalJSON reads an alert's JSON form back. Output becomes the
// rendered rule output: "message" when present, else "output" without
// Falco's time and priority prefix. OutputFields keeps every field,
// evt.time and vigil.* included.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var w struct {
		Time         time.Time      `json:"time"`
		Rule         string         `json:"rule"`
		Priority     string         `json:"priority"`
		Source       string         `json:"source"`
		Hostname     string         `json:"hostname"`
		Output       string         `json:"output"`
		Message      *string        `json:"message"`
		Tags         []string       `json:"tags"`
		OutputFields map[string]any `json:"output_fields"`
		Context      Context        `json:"context"`
		Enforcement  *Enforcement   `json:"enforcement"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Alert{Time: w.Time, Rule: w.Rule, Priority: w.Priority, Source: w.Source, Hostname: w.Hostname,
		Output: StripPrefix(w.Output, w.Priority), Tags: w.Tags, OutputFields: w.OutputFields,
		Context: w.Context, Enforcement: w.Enforcement}
	if w.Message != nil {
		a.Output = *w.Message
	}
	return nil
}

// StripPrefix returns a Falco output property without its
// "<time>: <Priority> " prefix; one without the prefix is returned as it
// is.
func StripPrefix(output, priority string) string {
	i := strings.Index(output, ": "+priority+" ")
	if i <= 0 || strings.ContainsRune(output[:i], ' ') {
		return output
	}
	return output[i+len(priority)+3:]
}

// SortedTags returns tags sorted and without duplicates, as Falco keeps a
// rule's tags in a set. It never returns nil, so the JSON form says [].
func SortedTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	out = append(out, tags...)
	sort.Strings(out)
	j := 0
	for i, t := range out {
		if i == 0 || t != out[j-1] {
			out[j] = t
			j++
		}
	}
	return out[:j]
}

// VigilFieldPrefix starts the names of the output fields that repeat
// what matters of the context and enforcement blocks, so that routers
// that keep only Falco's keys (falcosidekick) keep it too.
const VigilFieldPrefix = "vigil."

// VigilFields returns the vigil.* output fields of the alert:
// vigil.proc.ancestors (the parent chain, parent first) for alerts about
// a process; vigil.container.name, vigil.container.image,
// vigil.k8s.pod.name and vigil.k8s.ns.name when the process runs in a
// container and they are known; vigil.enforcement.action, .mode,
// .outcome and .mechanism (and .error, .reaction_ns when set) for rules
// with an action.
func (a *Alert) VigilFields() map[string]any {
	m := map[string]any{}
	a.vigilFields(func(k string, v any) { m[k] = v })
	return m
}

func (a *Alert) vigilFields(add func(string, any)) {
	p, id := a.Context.Process, a.Context.Identity
	if p.PID != 0 {
		anc := p.Ancestors
		if anc == nil {
			anc = []string{}
		}
		add("vigil.proc.ancestors", anc)
	}
	for _, f := range []struct{ k, v string }{
		{"vigil.container.name", id.ContainerName}, {"vigil.container.image", id.Image},
		{"vigil.k8s.pod.name", id.Pod}, {"vigil.k8s.ns.name", id.Namespace},
	} {
		if f.v != "" {
			add(f.k, f.v)
		}
	}
	if e := a.Enforcement; e != nil {
		add("vigil.enforcement.action", e.Action)
		add("vigil.enforcement.mode", e.Mode)
		add("vigil.enforcement.outcome", e.Outcome)
		add("vigil.enforcement.mechanism", e.Mechanism)
		if e.Error != "" {
			add("vigil.enforcement.error", e.Error)
		}
		if e.ReactionNS != 0 {
			add("vigil.enforcement.reaction_ns", e.ReactionNS)
		}
	}
}

type field struct {
	k string
	v any
}

// outputFields gathers the output fields in Falco's order (sorted): the
// template's, the event time (which, as in Falco, wins over a template
// field of the same name), and the vigil.* fields. The event time makes
// sure the object is never empty, which falcosidekick requires.
func (a *Alert) outputFields(o JSONOptions) []field {
	fs := make([]field, 0, len(a.OutputFields)+10)
	timeKey := TimeField
	if o.TimeISO8601 {
		timeKey = TimeISOField
	}
	for k, v := range a.OutputFields {
		if k != timeKey {
			fs = append(fs, field{k, v})
		}
	}
	fs = append(fs, field{timeKey, a.Time.UnixNano()})
	if !o.OmitVigilFields {
		a.vigilFields(func(k string, v any) {
			if _, taken := a.OutputFields[k]; !taken {
				fs = append(fs, field{k, v})
			}
		})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].k < fs[j].k })
	return fs
}

func appendFields(dst []byte, fs []field) []byte {
	dst = append(dst, '{')
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, f.k)
		dst = append(dst, ':')
		dst = appendValue(dst, f.v)
	}
	return append(dst, '}')
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendValue appends an output field's value: the types fields produce
// directly, anything else through encoding/json without HTML escaping.
func appendValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return appendString(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case float64:
		return appendFloat(dst, x)
	case float32:
		return appendFloat(dst, float64(x))
	case json.Number:
		return append(dst, x...)
	case []string:
		return appendStrings(dst, x)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		fs := make([]field, 0, len(x))
		for k, e := range x {
			fs = append(fs, field{k, e})
		}
		sort.Slice(fs, func(i, j int) bool { return fs[i].k < fs[j].k })
		return appendFields(dst, fs)
	}
	return appendMarshaled(dst, v)
}

// appendMarshaled appends v as encoding/json writes it, without HTML
// escaping; a value it cannot encode is null.
func appendMarshaled(dst []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(dst, "null"...)
	}
	return append(dst, bytes.TrimRight(buf.Bytes(), "\n")...)
}
