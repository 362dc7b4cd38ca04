package detect

import (
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// Reactor carries out the actions of rules that have one (block, kill,
// kill-container). OnMatch runs on the event path for each match of such
// a rule, with the alert built; it may act, record the outcome in the
// alert, and report whether the detector should emit it (false when the
// reactor emits it later or another mechanism already reported the same
// operation). It must not block.
type Reactor interface {
	OnMatch(c *fields.Context, r *Rule, a *alert.Alert) bool
}

type reactorBox struct{ r Reactor }

// SetReactor installs the reactor for rules with actions; nil removes it.
// It is safe to call while events flow, e.g. with a reloaded rule set.
func (d *Detector) SetReactor(r Reactor) {
	if r == nil {
		d.reactor.Store(nil)
		return
	}
	d.reactor.Store(&reactorBox{r})
}

// react hands a match of a rule with an action to the reactor, and
// reports whether to emit the alert.
func (d *Detector) react(c *fields.Context, r *Rule, a *alert.Alert) bool {
	if r.Action == loader.ActionAlert {
		return true
	}
	box := d.reactor.Load()
	if box == nil {
		return true
	}
	return box.r.OnMatch(c, r, a)
}
