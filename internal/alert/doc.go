// Package alert defines what Vigil reports: an [Alert] in the shape of
// Falco's JSON output, plus a [Context] block that names the process and
// workload whatever the rule's template prints, and the outcome of a
// rule's action ([Enforcement]). [Alert.AppendJSON] writes the form Falco
// writes, byte for byte (key order, time formats, escaping), with Falco's
// json_include_* switches as [JSONOptions]; package falcocheck checks it.
//
// Producers (the rule evaluator in package detect, the kernel drop monitor,
// the vulnerability watch, enforcement) build alerts; consumers (package
// outputs and its sinks) deliver them, and count what they could not in
// [DeliveryStats]. Neither side imports the other: this package sits
// between them, so a new source of alerts needs nothing from the rule
// evaluator.
package alert
