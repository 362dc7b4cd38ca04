package pipeline_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/pipeline"
)

// Two processes' events go through a two-shard pipeline. Each process's
// events are handled in the order they were submitted, by one worker;
// the two processes may be handled in parallel, so the handler guards
// what it shares.
func Example() {
	var mu sync.Mutex
	handled := map[uint32][]string{}
	p := pipeline.New(pipeline.Config{
		Shards: 2,
		Handler: func(shard int, ev *event.Event) {
			// ev goes back to the pool when the handler returns:
			// take what is needed from it now.
			what := ev.Kind.String()
			switch ev.Kind {
			case event.KindExec:
				what += " " + ev.Exec.Filename
			case event.KindOpen:
				what += " " + ev.Open.Path
			}
			mu.Lock()
			handled[ev.PID] = append(handled[ev.PID], what)
			mu.Unlock()
		},
	})
	if err := p.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	submit := func(pid uint32, kind event.Kind, path string) {
		ev := event.New()
		ev.Kind, ev.PID, ev.TID = kind, pid, pid
		switch kind {
		case event.KindExec:
			ev.Exec.Filename = path
		case event.KindOpen:
			ev.Open.Path = path
		}
		if !p.Submit(ev) { // ev belongs to the pipeline now, even if dropped
			fmt.Println("dropped an event of", pid)
		}
	}
	submit(100, event.KindExec, "/usr/bin/curl")
	submit(101, event.KindExec, "/bin/sh")
	submit(100, event.KindOpen, "/etc/resolv.conf")
	submit(101, event.KindOpen, "/etc/passwd")
	submit(100, event.KindExit, "")
	submit(101, event.KindExit, "")

	// Close handles everything already queued before it returns.
	p.Close()
	for _, pid := range slices.Sorted(maps.Keys(handled)) {
		fmt.Printf("%d: %s\n", pid, strings.Join(handled[pid], ", "))
	}
	fmt.Println("processed:", p.Stats().Processed)
	// Output:
	// 100: exec /usr/bin/curl, open /etc/resolv.conf, exit
	// 101: exec /bin/sh, open /etc/passwd, exit
	// processed: 6
}
