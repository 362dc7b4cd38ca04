package sockguard

import (
	"context"
	"fmt"
)

// Run reads decisions and hands each to fn until ctx is done or the Guard
// is closed; then it returns nil. The ring buffer is the only queue: when
// fn falls behind it fills and the kernel counts what it drops
// (Stats.RingDrops), while enforcement goes on. Run must not be called
// twice.
func (g *Guard) Run(ctx context.Context, fn func(Decision)) error {
	var d Decision
	err := g.ring.Run(ctx, func(b []byte) {
		g.received.Add(1)
		if err := DecodeDecision(b, &d); err != nil {
			g.decodeErrors.Add(1)
			return
		}
		fn(d)
	}, nil)
	if err != nil {
		return fmt.Errorf("sockguard: %w", err)
	}
	return nil
}
