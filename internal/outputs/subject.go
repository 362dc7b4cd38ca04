package outputs

import (
	"strings"

	"github.com/vigilsec/vigil/internal/alert"
)

// FalcosidekickSubject is falcosidekick's subject (and topic) convention,
// a value for the NATS subject or the Kafka topic template.
const FalcosidekickSubject = "falco.<priority>.<rule>"

// IsTemplate reports whether s holds a placeholder of ExpandTemplate.
func IsTemplate(s string) bool {
	for _, p := range []string{"<priority>", "<rule>", "<source>", "<hostname>"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// ExpandTemplate fills a subject or topic template for a: <priority> is
// the priority in lower case; <rule>, <source> and <hostname> are slugs,
// as falcosidekick makes them of rule names: lower case, every run of
// characters other than a-z and 0-9 one "_", none at either end
// ("Terminal shell in container" → terminal_shell_in_container). A slug
// is never empty ("unknown"), so that no subject has an empty token.
func ExpandTemplate(tmpl string, a *alert.Alert) string {
	if !strings.Contains(tmpl, "<") {
		return tmpl
	}
	return strings.NewReplacer(
		"<priority>", slug(a.Priority),
		"<rule>", slug(a.Rule),
		"<source>", slug(a.Source),
		"<hostname>", slug(a.Hostname),
	).Replace(tmpl)
}

// slug lower-cases s and turns each run of characters outside [a-z0-9]
// into one "_", trimmed at both ends.
func slug(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
			continue
		}
		gap = true
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}
