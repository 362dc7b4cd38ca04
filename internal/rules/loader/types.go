package loader

import (
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// Options configure a Loader.
type Options struct {
	// Source is the event source this engine evaluates. Rules for other
	// sources are loaded and checked but marked as not for this engine.
	// The default is "syscall".
	Source string
	// EngineVersion, when set, is compared with required_engine_version;
	// a file that needs a newer engine is an error.
	EngineVersion string
	// Plugins, when not nil, maps the names of loaded plugins to their
	// versions, and required_plugin_versions is checked against it.
	Plugins map[string]string
}

// DefaultSource is the event source of rules that name none.
const DefaultSource = "syscall"

// RuleSet is everything loaded from a sequence of rule files, with
// macros, lists and exceptions expanded into each rule's condition.
type RuleSet struct {
	Rules                 []*Rule
	Macros                []*Macro
	Lists                 []*List
	RequiredEngineVersion string // the highest version any file required
	RequiredPlugins       []PluginRequirement
	Diagnostics           lang.Diagnostics
}

// Rule is one rule after all files amending it were applied.
type Rule struct {
	Name                string
	Pos                 lang.Pos // where the rule was (last) defined
	Desc                string
	Condition           *lang.Source // as written, appends included
	Output              *lang.Source
	Priority            Priority
	Source              string
	Enabled             bool
	Tags                []string
	Exceptions          []*Exception
	SkipIfUnknownFilter bool
	WarnEvttypes        bool
	// Action is what Vigil does on a match beyond alerting, and ActionPos
	// where the action key was written (zero when absent).
	Action    Action
	ActionPos lang.Pos
	// Mode overrides the global enforcement mode for this rule.
	Mode Mode
	// ForThisEngine is true when Source is the one the loader serves.
	ForThisEngine bool
	// Expr is the condition with macros, lists and exceptions expanded,
	// or nil if the rule could not be expanded (see the diagnostics). It is
	// shared with other rules and must not be modified.
	Expr lang.Expr
}

// ConditionText returns the expanded condition as canonical text, or ""
// when it failed to expand.
func (r *Rule) ConditionText() string {
	if r.Expr == nil {
		return ""
	}
	return lang.Format(r.Expr)
}

// Macro is a named condition.
type Macro struct {
	Name      string
	Pos       lang.Pos
	Condition *lang.Source
	Used      bool // referred to by a rule or another macro
}

// List is a named list of values.
type List struct {
	Name  string
	Pos   lang.Pos
	Items []ListItem // as written; other lists' names are expanded later
	Used  bool       // referred to by a rule, a macro or another list
}

// ListItem is one value of a list.
type ListItem struct {
	Value string
	Pos   lang.Pos
}

// Exception is a named set of value tuples under which a rule must not
// fire. Fields and Comps are parallel; a single field (FieldsList false)
// compares against all values at once, with "in" by default.
type Exception struct {
	Name       string
	Pos        lang.Pos
	Fields     []Named
	FieldsList bool
	Comps      []Named
	Values     []ExceptionTuple
}

// Named is a string from a rules file with its position.
type Named struct {
	Text string
	Pos  lang.Pos
}

// ExceptionTuple is one entry of an exception's values: one element per
// field, or for a single-field exception a single scalar.
type ExceptionTuple struct {
	Pos    lang.Pos
	Items  []ExceptionValue
	Scalar bool // written as a scalar rather than a sequence
}

// ExceptionValue is a scalar value or, for list operators, a list of them.
type ExceptionValue struct {
	Pos    lang.Pos
	Text   string
	IsList bool
	List   []ListItem
}

// PluginRequirement is one required_plugin_versions entry: any one of the
// alternatives satisfies it.
type PluginRequirement struct {
	Pos          lang.Pos
	Alternatives []PluginVersion
}

// PluginVersion names a plugin and the lowest acceptable version.
type PluginVersion struct {
	Name    string
	Version string
}

// Priority is a rule's severity, most severe first, as in syslog.
type Priority uint8

// Priorities.
const (
	PriorityEmergency Priority = iota
	PriorityAlert
	PriorityCritical
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInformational
	PriorityDebug
)

var priorityNames = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// String returns the priority's name as Falco prints it.
func (p Priority) String() string {
	if int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "Unknown"
}

// ParsePriority parses a priority name, ignoring case; "info" is accepted
// for Informational.
func ParsePriority(s string) (Priority, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "info" {
		return PriorityInformational, true
	}
	for i, name := range priorityNames {
		if strings.ToLower(name) == s {
			return Priority(i), true
		}
	}
	return 0, false
}
