package alert

// DefaultQueueLen is the default capacity of an alert queue: how many
// alerts may wait for a slow output before new ones are dropped and counted.
const DefaultQueueLen = 4096

// DeliveryStats are the alert path's totals, as `vigil run --stats` and the
// metrics report them (internal/outputs computes them across outputs).
type DeliveryStats struct {
	Emitted uint64 `json:"emitted"` // accepted into the queues
	Dropped uint64 `json:"dropped"` // refused because a queue was full or closed
	Written uint64 `json:"written"` // written out
	Errors  uint64 `json:"errors"`  // failed writes
}
