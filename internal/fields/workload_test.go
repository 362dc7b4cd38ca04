package fields

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/workload"
)

// countingResolver names every process's workload and counts the calls.
type countingResolver struct {
	w     *workload.Workload
	calls int
}

func (r *countingResolver) Resolve(uint64, uint32) (*workload.Workload, bool) {
	r.calls++
	return r.w, r.w != nil
}

// TestWorkloadFields: workload.* come from the resolver in Env, which is
// asked once per event however many fields (and the baseline observer)
// read it.
func TestWorkloadFields(t *testing.T) {
	r := &countingResolver{w: workload.NewK8s("shop", workload.OwnerDeployment, "web", "app", false)}
	env := &Env{Workloads: r}
	ev := &event.Event{Kind: event.KindOpen, PID: 7, CgroupID: 42}
	var c Context
	c.Reset(env, ev, 1)
	for name, want := range map[string]string{"workload.id": "k8s/shop/deployment/web/app",
		"workload.name": "deployment shop/web, container app", "workload.kind": "k8s"} {
		f, err := registry.Lookup(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := f.Str(&c); !ok || got != want {
			t.Errorf("%s = %q %v, want %q", name, got, ok, want)
		}
	}
	if c.Workload() != r.w || r.calls != 1 {
		t.Errorf("resolver asked %d times for one event", r.calls)
	}
	c.Reset(env, ev, 2)
	c.Workload()
	if r.calls != 2 {
		t.Errorf("a new event did not resolve again: %d calls", r.calls)
	}

	r.w = nil
	c.Reset(env, ev, 3)
	f, _ := registry.Lookup("workload.id", nil)
	if _, ok := f.Str(&c); ok || c.Workload() != nil {
		t.Error("a process without a workload has one")
	}
	c.Reset(&Env{}, ev, 4)
	if _, ok := f.Str(&c); ok {
		t.Error("workload.id without a resolver has a value")
	}
}
