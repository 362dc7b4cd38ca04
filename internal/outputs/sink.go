package outputs

import (
	"context"

	"github.com/vigilsec/vigil/internal/alert"
)

// Sink writes alerts to one destination. A Queue calls its methods from a
// single goroutine, so a Sink need not be safe for concurrent use.
type Sink interface {
	// Send delivers one alert. An error means it was not delivered and may
	// be retried; ctx is cancelled when the output is being shut down.
	Send(ctx context.Context, a *alert.Alert) error
	// Close releases the destination. It is called once, after the last
	// Send.
	Close() error
}
