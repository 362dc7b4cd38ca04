package outputs

import (
	"encoding/json"
	"fmt"

	"github.com/vigilsec/vigil/internal/alert"
)

// Format is how a line-oriented output renders an alert.
type Format string

// Formats.
const (
	FormatJSON Format = "json" // Falco's JSON output plus Vigil's context block
	FormatText Format = "text" // "time priority rule: output", for people
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatJSON, FormatText:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown alert format %q: want json or text", s)
}

// appendJSON appends a's JSON form, the same bytes for every output, and
// no trailing newline.
func appendJSON(dst []byte, a *alert.Alert) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// appendLine appends a in format f followed by a newline.
func appendLine(dst []byte, a *alert.Alert, f Format) ([]byte, error) {
	if f == FormatText {
		return a.AppendText(dst), nil
	}
	dst, err := appendJSON(dst, a)
	if err != nil {
		return dst, err
	}
	return append(dst, '\n'), nil
}
