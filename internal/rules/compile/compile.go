package compile

import (
	"errors"
	"fmt"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// Options configure Compile.
type Options struct {
	// Strict makes a field the resolver does not know an error. By
	// default such a rule is skipped with a warning, so that rule files
	// written for a richer engine still load.
	Strict bool
	// EventTypeField is the field that names an event's type; the default
	// is "evt.type".
	EventTypeField string
	// GateField is the string field rules are gated on (see gate.go); the
	// default is "proc.name", and a resolver without it has no gates.
	GateField string
	// FirstMatch makes Program.Match stop at the first matching rule, in
	// load order, as Falco's rule_matching: first does; rules with an
	// action are still evaluated after it (see Program.Match).
	FirstMatch bool
}

// DefaultEventTypeField is the field rules are indexed by.
const DefaultEventTypeField = "evt.type"

// Compile compiles the rules of rs that are for this engine and expanded
// without errors. Rules that fail to compile are left out and reported in
// the diagnostics, which also carry warnings about rules that match every
// event type or none.
func Compile[C any](rs *loader.RuleSet, r FieldResolver[C], opts Options) (*Program[C], lang.Diagnostics) {
	if opts.EventTypeField == "" {
		opts.EventTypeField = DefaultEventTypeField
	}
	if opts.GateField == "" {
		opts.GateField = DefaultGateField
	}
	var diags lang.Diagnostics
	p := &Program[C]{byName: map[string]*Rule[C]{}, firstMatch: opts.FirstMatch}
	if f, err := r.Lookup(opts.GateField, nil); err == nil && f.Type == TypeString && f.Str != nil && f.Any == nil {
		p.gate = f.Str
	}
	for _, lr := range rs.Rules {
		if !lr.ForThisEngine || lr.Expr == nil {
			continue
		}
		if cr := compileRule(lr, r, opts, &diags); cr != nil {
			p.rules = append(p.rules, cr)
			p.byName[cr.Name] = cr
		}
	}
	p.index()
	return p, diags
}

func compileRule[C any](lr *loader.Rule, r FieldResolver[C], opts Options, diags *lang.Diagnostics) *Rule[C] {
	what := fmt.Sprintf("rule %q", lr.Name)
	full, err := Condition(lr.Expr, r)
	if err != nil {
		reportCompileError(diags, what, err, lr, opts)
		return nil
	}
	out, bad, err := OutputTemplate(lr.Output, r)
	if err != nil {
		pos, msg := positioned(err, lr.Pos)
		diags.Errorf(pos, "%s is not loaded: output: %s", what, msg)
		return nil
	}
	for _, fe := range bad {
		switch {
		case !errors.Is(fe, ErrUnknownField) || opts.Strict && !lr.SkipIfUnknownFilter:
			diags.Errorf(fe.Pos, "%s is not loaded: output: %v", what, fe.Err)
			return nil
		case opts.Strict:
			diags.Warnf(fe.Pos, "%s is skipped: output: %v", what, fe.Err)
			return nil
		default:
			diags.Warnf(fe.Pos, "%s: output: %v; it prints as %s", what, fe.Err, NA)
		}
	}
	cr := &Rule[C]{
		Name: lr.Name, Desc: lr.Desc, Priority: lr.Priority, Tags: lr.Tags,
		Source: lr.Source, Pos: lr.Pos, Enabled: lr.Enabled,
		Condition: lang.Format(lr.Expr), Output: out, full: full, indexed: full,
		Types:  eventTypes(lr.Expr, opts.EventTypeField, false),
		Action: lr.Action, ActionPos: lr.ActionPos, Mode: lr.Mode, Expr: lr.Expr,
	}
	switch rest := withoutTypeTests(lr.Expr, opts.EventTypeField); {
	case rest == nil:
		cr.indexed = always[C]
	case rest != lr.Expr:
		if f, err := Condition(rest, r); err == nil {
			cr.indexed = f
		}
	}
	cr.gateNames = gateNames(lr.Expr, opts.GateField)
	if names := cr.Types.Names(); len(names) > 0 && hasNestedTypeTest(lr.Expr, opts.EventTypeField) {
		cr.byType = specializeByType(lr.Expr, opts.EventTypeField, names, cr.indexed, r)
	}
	switch {
	case cr.Types.Empty():
		diags.Warnf(lr.Pos, "%s can never match: its %s tests exclude every event type", what, opts.EventTypeField)
	case cr.Types.All() && lr.WarnEvttypes:
		diags.Warnf(lr.Pos, "%s does not restrict %s, so it is evaluated for every event; this costs performance", what, opts.EventTypeField)
	}
	return cr
}

// reportCompileError turns a condition's compile error into a diagnostic.
// Unknown fields skip the rule with a warning unless Strict is set, so
// that Falco files using fields this engine lacks still load;
// skip-if-unknown-filter keeps them warnings even then.
func reportCompileError(diags *lang.Diagnostics, what string, err error, lr *loader.Rule, opts Options) {
	var fe *FieldError
	if errors.As(err, &fe) {
		if errors.Is(fe, ErrUnknownField) && (!opts.Strict || lr.SkipIfUnknownFilter) {
			diags.Warnf(fe.Pos, "%s is skipped: %v", what, fe.Err)
			return
		}
		diags.Errorf(fe.Pos, "%s is not loaded: %v", what, fe.Err)
		return
	}
	pos, msg := positioned(err, lr.Pos)
	diags.Errorf(pos, "%s is not loaded: %s", what, msg)
}

// positioned splits a positioned error into its position and message.
func positioned(err error, fallback lang.Pos) (lang.Pos, string) {
	var le *lang.Error
	if errors.As(err, &le) {
		return le.Pos, le.Msg
	}
	return fallback, err.Error()
}
