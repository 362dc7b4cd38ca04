package sensor

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/testutil"
)

// One sensor serves every test in the package: loading it costs more than
// most tests, and tests tell their events apart by process.
var shared struct {
	once   sync.Once
	err    error
	sensor *Sensor
	mu     sync.Mutex
	events []*event.Event // children of this test process, cloned
}

// sensorFor returns the shared sensor, starting it on first use. It records
// every event whose parent is this test process: the sensor filters the test
// process itself, so tests act through child processes.
func sensorFor(t *testing.T) *Sensor {
	t.Helper()
	testutil.RequireBPF(t)
	shared.once.Do(func() {
		s, err := Open(Config{Syscalls: syscalls.Default()})
		if err != nil {
			shared.err = err
			return
		}
		shared.sensor = s
		self := uint32(os.Getpid())
		go func() {
			err := s.Run(func(ev *event.Event) {
				if ev.PPID == self {
					c := ev.Clone()
					shared.mu.Lock()
					shared.events = append(shared.events, c)
					shared.mu.Unlock()
				}
				ev.Release()
			}, nil)
			if err != nil { // the tests then wait for events in vain: say why
				fmt.Fprintln(os.Stderr, "sensor stopped reading:", err)
			}
		}()
	})
	if shared.err != nil {
		t.Fatalf("open sensor: %v", shared.err)
	}
	return shared.sensor
}

// waitFor polls the recorded events until match has accepted want of them,
// or fails the test after a deadline.
func waitFor(t *testing.T, want int, match func(*event.Event) bool) []*event.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []*event.Event
		shared.mu.Lock()
		for _, ev := range shared.events {
			if match(ev) {
				got = append(got, ev)
			}
		}
		shared.mu.Unlock()
		if len(got) >= want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s: %d of %d matching events", len(got), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// helperEnv selects the helper mode in TestMain.
const helperEnv = "VIGIL_SENSOR_TEST_HELPER"

// runHelper runs this test binary as a child in the given helper mode and
// returns its pid and standard output.
func runHelper(t *testing.T, mode string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %s: %v", mode, err)
	}
	return cmd.Process.Pid, string(out)
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode, os.Args[1:]))
	}
	code := m.Run()
	if shared.sensor != nil {
		if err := shared.sensor.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close the sensor:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}
