package loader

import "strings"

// Action is what Vigil does when a rule matches, beyond alerting. It comes
// from the rule's `action` key, a Vigil extension that other Falco-format
// tools ignore.
type Action uint8

// Actions, from the mildest.
const (
	ActionAlert         Action = iota // alert only (the default)
	ActionBlock                       // deny the operation before it happens
	ActionKill                        // kill the process
	ActionKillContainer               // stop the process's container
)

var actionNames = [...]string{"alert", "block", "kill", "kill-container"}

// String returns the action as written in rule files.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// ParseAction parses an action name, ignoring case.
func ParseAction(s string) (Action, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range actionNames {
		if n == s {
			return Action(i), true
		}
	}
	return 0, false
}

// Mode says whether a rule's action is carried out or only reported.
type Mode uint8

// Modes. ModeDefault defers to the global enforcement mode.
const (
	ModeDefault Mode = iota
	ModeEnforce
	ModeAudit
)

var modeNames = [...]string{"", "enforce", "audit"}

// String returns the mode as written in rule files ("" for the default).
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "unknown"
}

// ParseMode parses "enforce" or "audit", ignoring case.
func ParseMode(s string) (Mode, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "enforce":
		return ModeEnforce, true
	case "audit":
		return ModeAudit, true
	}
	return 0, false
}

// decodeAction reads the action or mode key of a rule item.
func (r *reader) decodeAction(e entry, key, what string, u *ruleUpdate) bool {
	s, ok := r.str(e, what)
	if !ok {
		return false
	}
	pos := r.f.nodePos(e.val)
	if key == "action" {
		a, valid := ParseAction(s)
		if !valid {
			r.errorf(e.val, "%s: invalid action %q; want one of alert, block, kill, kill-container", what, s)
			return false
		}
		u.action, u.actionPos = &a, pos
		return true
	}
	m, valid := ParseMode(s)
	if !valid {
		r.errorf(e.val, "%s: invalid mode %q; want enforce or audit", what, s)
		return false
	}
	u.mode = &m
	return true
}

// applyAction copies the action keys an item set onto rule.
func applyAction(rule *Rule, u ruleUpdate) {
	if u.action != nil {
		rule.Action, rule.ActionPos = *u.action, u.actionPos
	}
	if u.mode != nil {
		rule.Mode = *u.mode
	}
}
