package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashDirEnv = "VIGIL_STORE_CRASH_DIR"

// TestMain runs the writer that TestCrashLosesAtMostOneSecond kills when
// the test binary is started as that subprocess.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashWriter(dir)
		return
	}
	os.Exit(m.Run())
}

// crashWriter queues one item every millisecond through a Writer with
// the default 1s interval and prints each item's number and the time it
// was queued, until it is killed.
func crashWriter(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	w := s.NewWriter(1<<16, time.Second, nil)
	w.Enqueue(Change{Op: OpPutWorkload, Workload: row("w", "learn")})
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		w.Enqueue(Change{Op: OpAddItem, Workload: Workload{ID: "w"},
			Item: Item{Dim: "files_written", A: fmt.Sprintf("/data/%08d", i), FirstSeen: time.Now().UnixNano()}})
		_, _ = fmt.Fprintf(out, "%d %d\n", i, time.Now().UnixNano()) // out keeps a failed write for Flush
		if err := out.Flush(); err != nil {
			os.Exit(2) // the test stopped reading
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCrashLosesAtMostOneSecond kills a writing process with SIGKILL at
// an arbitrary moment (mid-batch, mid-commit or idle), reopens the store
// and checks that it is intact, that what survived is a prefix of what
// was queued (batches commit whole and in order), and that nothing
// queued more than a second (plus commit time) before the kill was lost.
func TestCrashLosesAtMostOneSecond(t *testing.T) {
	for round, after := range []time.Duration{2300 * time.Millisecond, 3100 * time.Millisecond, 2750 * time.Millisecond} {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			queued := map[int]int64{} // item -> time queued
			lines := make(chan string, 1<<16)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var killedAt int64
			timer := time.After(after)
		read:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						break read
					}
					var i int
					var at int64
					if _, err := fmt.Sscanf(l, "%d %d", &i, &at); err != nil {
						t.Fatalf("helper said %q", l)
					}
					queued[i] = at
				case <-timer:
					killedAt = time.Now().UnixNano()
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatalf("kill the helper: %v", err)
					}
					timer = nil
				}
			}
			// Wait reports the kill ("signal: killed"), or the helper's own
			// exit, which killedAt tells apart.
			var exit *exec.ExitError
			if err := cmd.Wait(); err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			if killedAt == 0 {
				t.Fatal("the helper exited before it was killed")
			}

			s, err := Open(dir)
			if err != nil {
				t.Fatalf("reopen after the crash: %v", err)
			}
			defer s.Close()
			if err := s.IntegrityCheck(); err != nil {
				t.Fatal(err)
			}
			rec, ok, err := s.Get("w")
			if err != nil || !ok {
				t.Fatalf("workload after the crash: %v %v", ok, err)
			}
			have := map[int]bool{}
			last := -1
			for _, it := range rec.Items {
				i, err := strconv.Atoi(strings.TrimPrefix(it.A, "/data/"))
				if err != nil {
					t.Fatalf("item %q", it.A)
				}
				have[i] = true
				last = max(last, i)
			}
			for i := 0; i <= last; i++ {
				if !have[i] {
					t.Fatalf("item %d lost while %d survived: batches must commit whole and in order", i, last)
				}
			}
			// The writer commits at most every second; allow a quarter of a
			// second for the commit itself (fsync) and scheduling.
			limit := killedAt - int64(time.Second) - int64(250*time.Millisecond)
			lostOld := 0
			for i, at := range queued {
				if at <= limit && !have[i] {
					lostOld++
				}
			}
			if lostOld > 0 {
				t.Fatalf("%d items queued more than 1.25s before the kill were lost (%d queued, %d kept)", lostOld, len(queued), len(have))
			}
			t.Logf("queued %d, kept %d, lost %d (the last %.0f ms)", len(queued), len(have), len(queued)-len(have),
				float64(killedAt-queued[last+1])/1e6)
		})
	}
}
