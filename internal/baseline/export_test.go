package baseline

// Test helpers for the external test package (package baseline_test),
// whose tests import packages that import this one back (detect, through
// the configuration).

var (
	LearnedDocument = learnedDocument
	Web             = web
	WebPod          = webPod
	ExecEvent       = execEvent
	OpenEvent       = openEvent
	SocketEvent     = socketEvent
	NewDocument     = newDocument
)

// Constants the events of the tests use.
const (
	OWronly    = oWronly
	SockStream = sockStream
)

// PodLookup answers every cgroup with one pod's container.
type PodLookup = podLookup
