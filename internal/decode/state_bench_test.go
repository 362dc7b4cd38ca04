package decode

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// These benchmarks measure what every event costs before rules see it:
// decoding the record and updating the process table, on one core.

func openRecord(pid uint32) []byte {
	r := newRecord(wireOpen, 257, pid, "nginx")
	r.u32(uint32(0xffffff9c)).u32(0).u32(0).u32(0).u64(0)
	r.field("conf/nginx.conf").field("/etc/nginx")
	return r.done()
}

func BenchmarkDecodeApplyOpen(b *testing.B) {
	b.Run("fds=off", func(b *testing.B) { benchDecodeApplyOpen(b, false) })
	b.Run("fds=on", func(b *testing.B) { benchDecodeApplyOpen(b, true) })
}

func benchDecodeApplyOpen(b *testing.B, fds bool) {
	table := proc.New()
	table.SetTrackFDs(fds)
	ev := event.New()
	if err := Decode(execRecord(), ev); err != nil {
		b.Fatal(err)
	}
	table.Apply(ev)
	rec := openRecord(100)
	b.ReportAllocs()
	for b.Loop() {
		ev.Reset()
		if err := Decode(rec, ev); err != nil {
			b.Fatal(err)
		}
		table.Apply(ev)
	}
}

func BenchmarkDecodeApplyForkExit(b *testing.B) {
	table := proc.New()
	ev := event.New()
	if err := Decode(execRecord(), ev); err != nil {
		b.Fatal(err)
	}
	table.Apply(ev)
	fork := newRecord(wireFork, -1, 100, "bash").u32(200).u32(200).u32(0).u32(0).done()
	exit := newRecord(wireExit, -1, 200, "bash").u32(0).u32(0).done()
	b.ReportAllocs()
	for b.Loop() {
		ev.Reset()
		if err := Decode(fork, ev); err != nil {
			b.Fatal(err)
		}
		table.Apply(ev)
		ev.Reset()
		if err := Decode(exit, ev); err != nil {
			b.Fatal(err)
		}
		table.Apply(ev)
	}
}

func BenchmarkDecodeApplyExec(b *testing.B) {
	table := proc.New()
	ev := event.New()
	rec := execRecord()
	b.ReportAllocs()
	for b.Loop() {
		ev.Reset()
		if err := Decode(rec, ev); err != nil {
			b.Fatal(err)
		}
		table.Apply(ev)
	}
}
