// Package rules is the front end and compiler core of Vigil's detection
// rules, written in the Falco rules language so that existing Falco rule
// files load unmodified.
//
// The work is split the way Go's own toolchain splits it:
//
//   - lang lexes and parses conditions and output templates into an AST
//     whose every node carries a file:line:col position;
//   - loader reads YAML rule files (rules, macros, lists, exceptions,
//     overrides, appends), merges several files in order and expands
//     macros, lists and exceptions into one condition per rule;
//   - compile turns expanded conditions into closures over an abstract
//     field resolver, indexes rules by event type and renders outputs.
//
// [github.com/vigilsec/vigil/internal/detect.Load] ties the three together
// with Vigil's field registry and the embedded default rules; it is the
// one loader every command uses.
package rules
