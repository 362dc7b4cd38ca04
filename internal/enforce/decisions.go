package enforce

import (
	"sync"

	"github.com/vigilsec/vigil/internal/detect"
)

// decisionKey identifies an operation that a mechanism already acted on
// before the detector saw it: the thread that attempted it and the rule.
type decisionKey struct {
	tid  uint32
	rule *detect.Rule
}

// decisionTTL is how long a pre-operation decision waits for the
// detector's view of the same operation, in monotonic nanoseconds. The
// event normally arrives within milliseconds; the margin covers a
// backlogged pipeline.
const decisionTTL = 30e9

// maxDecisions bounds the records: each one is a decision the detector has
// not yet echoed, so a flood of denials cannot grow memory without end.
const maxDecisions = 8192

// decisions remembers what the pre-operation mechanisms decided, so that
// the detector's match on the same operation (a denied exec still reaches
// the sensor as a failed exec) is recognised as already handled and not
// reported or acted on twice.
type decisions struct {
	mu    sync.Mutex
	at    map[decisionKey]uint64 // monotonic time of the decision
	order []decisionKey          // insertion order, for eviction
}

func newDecisions() *decisions { return &decisions{at: map[decisionKey]uint64{}} }

// record notes a decision taken at monotonic time now.
func (d *decisions) record(k decisionKey, now uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.at[k]; !ok {
		if len(d.order) >= maxDecisions {
			old := d.order[0]
			d.order = d.order[1:]
			delete(d.at, old)
		}
		d.order = append(d.order, k)
	}
	d.at[k] = now
}

// take reports whether a decision for k was taken no earlier than TTL
// before the event at ts, and forgets it.
func (d *decisions) take(k decisionKey, ts uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, ok := d.at[k]
	if !ok {
		return false
	}
	delete(d.at, k)
	for i, o := range d.order {
		if o == k {
			d.order = append(d.order[:i], d.order[i+1:]...)
			break
		}
	}
	return at+decisionTTL >= ts
}
