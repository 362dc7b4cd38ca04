package pipeline

import (
	"context"
	"runtime"
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// submitAll pushes b.N events through p from one goroutine, retrying
// drops, and waits until all are processed. It reports drops per event so
// a queue that is too short shows up in the figures.
func submitAll(b *testing.B, p *Pipeline, pids uint32) {
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pid := 1 + uint32(i)%pids
		for {
			ev := event.New()
			ev.Kind = event.KindOpen
			ev.PID, ev.TID, ev.PPID = pid, pid, 1
			if p.Submit(ev) {
				break
			}
			runtime.Gosched()
		}
	}
	p.Close()
	b.StopTimer()
	st := p.Stats()
	b.ReportMetric(float64(st.Dropped)/float64(b.N), "drops/op")
}

// BenchmarkSubmit measures throughput through the whole pipeline: queue,
// worker hand-off and release, with a handler that does nothing.
func BenchmarkSubmit(b *testing.B) {
	p := New(Config{Handler: func(int, *event.Event) {}})
	submitAll(b, p, 1000)
}

// BenchmarkSubmitWithTable adds the process-table update every event pays.
func BenchmarkSubmitWithTable(b *testing.B) {
	tbl := proc.New()
	for pid := uint32(1); pid <= 1000; pid++ {
		ev := event.New()
		ev.Kind = event.KindExec
		ev.PID, ev.PPID, ev.Comm = pid, 1, "bench"
		tbl.Apply(ev)
		ev.Release()
	}
	p := New(Config{Table: tbl, Handler: func(int, *event.Event) {}})
	submitAll(b, p, 1000)
}

// BenchmarkSubmitParallel has every CPU submitting, as per-CPU ring buffer
// readers would.
func BenchmarkSubmitParallel(b *testing.B) {
	p := New(Config{Handler: func(int, *event.Event) {}})
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		pid := uint32(0)
		for pb.Next() {
			pid++
			ev := event.New()
			ev.Kind = event.KindOpen
			ev.PID = pid % 1000
			p.Submit(ev) // drops are fine here: this measures the submit side
		}
	})
	p.Close()
	st := p.Stats()
	b.ReportMetric(float64(st.Dropped)/float64(st.Dropped+st.Submitted), "dropped-fraction")
}
