package detect

import (
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/fields"
)

// BuildAlert makes the alert for rule r, which must belong to the
// detector's program, matching the event in c. Enforcement uses it for
// decisions taken outside the event path (a fanotify permission event, a
// kernel kill record); it allocates and is safe for concurrent use.
func (d *Detector) BuildAlert(c *fields.Context, r *Rule) *alert.Alert {
	a, _ := d.alerts.build(c, r, nil)
	return a
}

// Env returns the environment the detector's contexts share.
func (d *Detector) Env() *fields.Env { return d.env }
