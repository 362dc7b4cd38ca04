package alert

import "strings"

// Priorities are Falco's priority names, most severe first; the index of
// each is its syslog severity (0 emergency … 7 debug).
var Priorities = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// Severity returns the syslog severity of a priority name, ignoring case
// and accepting "info" for Informational, and whether the name is one.
func Severity(priority string) (int, bool) {
	p := strings.ToLower(strings.TrimSpace(priority))
	if p == "info" {
		return 6, true
	}
	for i, name := range Priorities {
		if strings.ToLower(name) == p {
			return i, true
		}
	}
	return 0, false
}

// AtLeast reports whether an alert of priority p is as severe as min or
// more. An unknown p counts as Warning, the most common priority, so a
// malformed alert is neither lost nor promoted.
func AtLeast(p string, min int) bool {
	s, ok := Severity(p)
	if !ok {
		s = 4
	}
	return s <= min
}
