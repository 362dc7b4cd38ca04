package outputs

import (
	"fmt"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
)

// Format is how a line-oriented output renders an alert.
type Format string

// Formats.
const (
	FormatJSON  Format = "json"  // Falco's JSON output plus Vigil's context block
	FormatText  Format = "text"  // "time priority rule: output", for people
	FormatFalco Format = "falco" // Falco's text output: "time: Priority output"
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatJSON, FormatText, FormatFalco:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown alert format %q: want json, text or falco", s)
}

// Encoding is how an output renders alerts: its format and, for JSON and
// Falco's text, the properties Falco's switches choose.
type Encoding struct {
	Format Format
	JSON   alert.JSONOptions
}

// JSONOptions translates the outputs' json and time_format_iso_8601 keys.
func JSONOptions(o config.Outputs) alert.JSONOptions {
	j := o.JSON
	return alert.JSONOptions{
		OmitOutput: !j.IncludeOutputProperty, OmitTags: !j.IncludeTagsProperty,
		IncludeMessage: j.IncludeMessageProperty, OmitOutputFields: !j.IncludeOutputFieldsProperty,
		TimeISO8601: o.TimeFormatISO8601, OmitVigilBlocks: !j.IncludeVigilProperties, OmitVigilFields: !j.VigilOutputFields,
	}
}

// appendJSON appends a's JSON form, the same bytes for every output that
// shares the encoding, and no trailing newline.
func (e Encoding) appendJSON(dst []byte, a *alert.Alert) []byte {
	return a.AppendJSON(dst, e.JSON)
}

// appendLine appends a in e's format followed by a newline.
func (e Encoding) appendLine(dst []byte, a *alert.Alert) []byte {
	switch e.Format {
	case FormatText:
		return a.AppendText(dst)
	case FormatFalco:
		return a.AppendFalcoText(dst, e.JSON.TimeISO8601)
	}
	return append(e.appendJSON(dst, a), '\n')
}
