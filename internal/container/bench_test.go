package container

import "testing"

// benchResolver holds one complete container with a pod, as an event in a
// Kubernetes container would find it.
func benchResolver(b *testing.B) *Resolver {
	r := New(Config{})
	b.Cleanup(r.Close)
	c := r.attach(42, "/kubepods/besteffort/pod"+uid+"/"+id1)
	r.publish(c, (&Info{
		ID: id1, Runtime: RuntimeDocker, Name: "web",
		Image: Image{Name: "shop/web:1.2", Repository: "shop/web", Tag: "1.2"},
		Pod:   &Pod{Name: "web-0", Namespace: "shop", UID: uid, Labels: map[string]string{"app": "web"}},
	}).seal(), StateComplete)
	return r
}

// BenchmarkLookupHit is the event path's cost on a cache hit.
func BenchmarkLookupHit(b *testing.B) {
	r := benchResolver(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, st := r.Lookup(42); st != StateComplete {
			b.Fatal(st)
		}
	}
}

// BenchmarkLookupHitParallel is the same from every pipeline shard at once.
func BenchmarkLookupHitParallel(b *testing.B) {
	r := benchResolver(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Lookup(42)
		}
	})
}

// BenchmarkEnrichFields is a lookup plus the reads a rule with container
// and pod fields makes (container.id, container.image.repository,
// k8s.pod.name, k8s.pod.label[app]).
func BenchmarkEnrichFields(b *testing.B) {
	r := benchResolver(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		info, _ := r.Lookup(42)
		v, _ := info.Pod.Label("app")
		n += len(info.ShortID()) + len(info.Image.Repository) + len(info.Pod.Name) + len(v)
	}
	if n == 0 {
		b.Fatal("nothing read")
	}
}

// BenchmarkLookupHost is a host process's event.
func BenchmarkLookupHost(b *testing.B) {
	r := benchResolver(b)
	r.attach(43, "/user.slice")
	b.ReportAllocs()
	for b.Loop() {
		r.Lookup(43)
	}
}
