package detect

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
)

// TestSetProgramWhileHandling swaps between two programs while every shard
// evaluates events: each event must give exactly one alert, from whichever
// program was in use, with its own rule's output fields; -race checks the
// swap against the event path.
func TestSetProgramWhileHandling(t *testing.T) {
	a := loadText(t, rule("a", "evt.type = openat and fd.name startswith /trigger/")+rule("kept", "evt.type = openat and fd.name = /never"))
	b := loadText(t, rule("b", "evt.type = openat and fd.name startswith /trigger/")+rule("kept", "evt.type = openat and fd.name = /never"))
	const shards, perShard = 4, 3000
	var mu sync.Mutex
	got := map[string]string{} // path -> rule
	d := New(Config{Program: a.Program, Shards: shards, Emit: func(al *alert.Alert) bool {
		mu.Lock()
		defer mu.Unlock()
		path := fmt.Sprint(al.OutputFields["proc.name"])
		if prev, dup := got[path]; dup {
			t.Errorf("%s alerted twice (%s, %s)", path, prev, al.Rule)
		}
		got[path] = al.Rule
		return true
	}})
	var wg sync.WaitGroup
	var done atomic.Int32
	for s := range shards {
		wg.Go(func() {
			defer done.Add(1)
			for i := range perShard {
				ev := openEvent(uint32(1000+s), fmt.Sprintf("/trigger/%d/%d", s, i))
				ev.Comm = fmt.Sprintf("s%d-%d", s, i)
				d.Handle(s, ev)
				ev.Release()
			}
		})
	}
	// Swap back and forth as fast as possible: the same programs are
	// installed again and again, while shards may still run older ones.
	swaps := 0
	for done.Load() < shards {
		next := b.Program
		if swaps%2 == 1 {
			next = a.Program
		}
		d.SetProgram(next)
		swaps++
		if swaps%64 == 0 {
			d.Stats() // reading while swapping must not lose or double counts
		}
	}
	wg.Wait()
	if len(got) != shards*perShard {
		t.Fatalf("%d alerts for %d events", len(got), shards*perShard)
	}
	byRule := map[string]int{}
	for _, r := range got {
		byRule[r]++
	}
	if byRule["a"]+byRule["b"] != shards*perShard || swaps == 0 {
		t.Errorf("alerts by rule %v after %d swaps", byRule, swaps)
	}
	st := d.Stats()
	if st.Events != shards*perShard || st.Alerts != shards*perShard {
		t.Errorf("stats %+v", st)
	}
	// The stats list the current program's rules; a rule of the same name
	// carries its matches over (kept never matched); the other program's
	// rule reports its own total.
	cur := d.Program()
	want := map[string]uint64{"kept": 0, "a": uint64(byRule["a"]), "b": uint64(byRule["b"])}
	if len(st.Rules) != 2 {
		t.Fatalf("rules %+v", st.Rules)
	}
	for _, r := range st.Rules {
		if cur.Rule(r.Name) == nil || r.Matches != want[r.Name] {
			t.Errorf("rule %s: %d matches, want %d", r.Name, r.Matches, want[r.Name])
		}
	}
}

// TestMatchCountsCarryOver checks the totals across swaps one event at a
// time: a kept rule continues, a removed one disappears, and one that
// comes back resumes its total.
func TestMatchCountsCarryOver(t *testing.T) {
	one := loadText(t, rule("shadow", "evt.type = openat and fd.name = /etc/shadow")+rule("passwd", "evt.type = openat and fd.name = /etc/passwd"))
	two := loadText(t, rule("shadow", "evt.type = openat and fd.name = /etc/shadow"))
	var outputs []string
	d := New(Config{Program: one.Program, Shards: 1, Emit: func(a *alert.Alert) bool { outputs = append(outputs, a.Output); return true }})
	open := func(path string) {
		ev := openEvent(7, path)
		d.Handle(0, ev)
		ev.Release()
	}
	counts := func() map[string]uint64 {
		m := map[string]uint64{}
		for _, r := range d.Stats().Rules {
			m[r.Name] = r.Matches
		}
		return m
	}
	open("/etc/shadow")
	open("/etc/passwd")
	d.SetProgram(two.Program)
	open("/etc/shadow")
	open("/etc/passwd") // no rule any more
	if got := fmt.Sprint(counts()); got != "map[shadow:2]" {
		t.Errorf("after the first swap: %s", got)
	}
	d.SetProgram(loadText(t, rule("shadow", "evt.type = openat and fd.name = /etc/shadow")+
		rule("passwd", "evt.type = openat and fd.name = /etc/passwd")).Program)
	open("/etc/passwd")
	if got := fmt.Sprint(counts()); got != "map[passwd:2 shadow:2]" {
		t.Errorf("after the second swap: %s", got)
	}
	if fmt.Sprint(outputs) != "[shadow cat passwd cat shadow cat passwd cat]" {
		t.Errorf("alerts %q", outputs)
	}
}

// TestAlertFromRetiredProgram builds an alert for a rule of a program two
// swaps old, as enforcement may: its output fields are still resolved.
func TestAlertFromRetiredProgram(t *testing.T) {
	old := loadText(t, rule("old", "evt.type = openat"))
	d := New(Config{Program: old.Program, Env: &fields.Env{Clock: ktime.NewClock()}})
	d.SetProgram(loadText(t, rule("x", "evt.type = openat")).Program)
	d.SetProgram(loadText(t, rule("y", "evt.type = openat")).Program)
	ev := openEvent(9, "/etc/hosts")
	defer ev.Release()
	var c fields.Context
	c.Reset(d.Env(), ev, 1)
	a := d.BuildAlert(&c, old.Program.Rule("old"))
	if a.Rule != "old" || a.Output != "old cat" || a.OutputFields["proc.name"] != "cat" {
		t.Errorf("alert %+v", a)
	}
}

// BenchmarkProgramAcquire is what the swap costs each event: one pointer
// load and compare.
func BenchmarkProgramAcquire(b *testing.B) {
	var cur atomic.Pointer[loaded]
	cur.Store(&loaded{})
	var ref programRef
	for b.Loop() {
		ref.acquire(&cur)
	}
}

// BenchmarkSetProgram swaps the embedded default rules in: what a reload
// costs after compiling.
func BenchmarkSetProgram(b *testing.B) {
	rs, err := Load(LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	d := New(Config{Program: rs.Program, Shards: 2})
	next, _ := Load(LoadOptions{})
	progs := []*Program{rs.Program, next.Program}
	i := 0
	for b.Loop() {
		i++
		d.SetProgram(progs[i%2])
	}
}
