package proc

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"golang.org/x/sys/unix"
)

// fdBenchTable holds benchTable's processes plus pid 1500 with a typical
// server's fds: stdio, a listener, twenty connections and a log file.
func fdBenchTable(b *testing.B) (*Table, *fdClock) {
	tab := benchTable(b)
	c := &fdClock{}
	for fd := range int64(3) {
		apply(tab, c.open(1500, "/dev/null", 0, fd))
	}
	apply(tab, c.sys(1500, "socket", 3, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0))
	apply(tab, c.sock(1500, event.OpListen, 3, 0, "0.0.0.0:8080", ""))
	for fd := range int64(20) {
		apply(tab, c.sock(1500, event.OpAccept, 3, 4+fd, "10.0.0.1:8080", "10.0.0.9:40000"))
	}
	apply(tab, c.open(1500, "/var/log/app.log", unix.O_WRONLY|unix.O_APPEND, 24))
	return tab, c
}

// benchApply applies the events in turn, advancing their timestamps as a
// live stream would; ns/op is per event.
func benchApply(b *testing.B, tab *Table, c *fdClock, evs ...*event.Event) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		ev.Timestamp = c.tick()
		tab.Apply(ev)
	}
}

func BenchmarkFDOpenClose(b *testing.B) {
	tab, c := fdBenchTable(b)
	benchApply(b, tab, c, c.open(1500, "/etc/hosts", unix.O_RDONLY|unix.O_CLOEXEC, 25), c.sys(1500, "close", 0, 25))
}

func BenchmarkFDDup2(b *testing.B) {
	tab, c := fdBenchTable(b)
	// Alternate sources so that each dup2 really changes fd 30.
	benchApply(b, tab, c, c.sys(1500, "dup2", 30, 4, 30), c.sys(1500, "dup2", 30, 5, 30))
}

func BenchmarkFDAcceptClose(b *testing.B) {
	tab, c := fdBenchTable(b)
	benchApply(b, tab, c, c.sock(1500, event.OpAccept, 3, 25, "10.0.0.1:8080", "10.0.0.7:50000"), c.sys(1500, "close", 0, 25))
}

func BenchmarkFDForkInheritExit(b *testing.B) {
	tab, c := fdBenchTable(b)
	// The parent's worker has moved on by a few events, as it would in the
	// pipeline, so the fork looks its state up in the history.
	benchApply(b, tab, c, c.fork(1500, 9000), exitEvent(9000, 1500))
}

func BenchmarkFDExecCloexec(b *testing.B) {
	tab, c := fdBenchTable(b)
	benchApply(b, tab, c, c.open(1500, "/etc/hosts", unix.O_RDONLY|unix.O_CLOEXEC, 25), c.exec(1500, 10))
}

func BenchmarkFDLookup(b *testing.B) {
	tab, _ := fdBenchTable(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		p, _ := tab.Get(1500)
		if e, ok := p.Files.Current().Lookup(17); ok && e.Type == FDIPv4 {
			n++
		}
	}
	if n == 0 {
		b.Fatal("fd 17 not found")
	}
}
