package sockguard

import (
	"context"
	"errors"
	"fmt"

	"github.com/cilium/ebpf/ringbuf"
)

// Run reads decisions and hands each to fn until ctx is done or the Guard
// is closed; then it returns nil. The ring buffer is the only queue: when
// fn falls behind it fills and the kernel counts what it drops
// (Stats.RingDrops), while enforcement goes on. Run must not be called
// twice.
func (g *Guard) Run(ctx context.Context, fn func(Decision)) error {
	if !g.running.CompareAndSwap(false, true) {
		return errors.New("sockguard: Run called twice")
	}
	defer close(g.runDone)
	if g.closing.Load() {
		return nil
	}
	// Flush makes a blocked ReadInto return ErrFlushed once the ring is
	// drained; it does not take the reader's lock, unlike SetDeadline.
	stop := context.AfterFunc(ctx, func() { g.reader.Flush() })
	defer stop()
	var rec ringbuf.Record
	var d Decision
	for !g.closing.Load() {
		err := g.reader.ReadInto(&rec)
		switch {
		case err == nil:
		case errors.Is(err, ringbuf.ErrFlushed):
			if ctx.Err() != nil {
				return nil
			}
			continue
		case errors.Is(err, ringbuf.ErrClosed):
			return nil
		default:
			return fmt.Errorf("read decision ring buffer: %w", err)
		}
		g.received.Add(1)
		if err := DecodeDecision(rec.RawSample, &d); err != nil {
			g.decodeErrors.Add(1)
			continue
		}
		fn(d)
	}
	return nil
}
