package containerdapi

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as a process may set.
	line := []byte("4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	if v, err := ParseStatStart(line); err != nil || v != 987654 {
		t.Errorf("ParseStatStart = %d, %v; want 987654", v, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 notanumber"} {
		if _, err := ParseStatStart([]byte(bad)); err == nil {
			t.Errorf("ParseStatStart(%q) accepted it", bad)
		}
	}
	if v, err := ParseBootTime([]byte("cpu  1 2 3\nintr 5\nbtime 1764200000\nprocesses 9\n")); err != nil || v != 1764200000 {
		t.Errorf("ParseBootTime = %d, %v", v, err)
	}
	if _, err := ParseBootTime([]byte("cpu 1\n")); err == nil {
		t.Error("ParseBootTime without btime succeeded")
	}
}

// TestProcessStart reads this test's own start time: it must be before
// now and after the machine booted.
func TestProcessStart(t *testing.T) {
	ts, err := processStart("/proc", uint32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	boot, _ := bootTime("/proc")
	if start := time.Unix(0, ts); start.After(time.Now()) || start.Before(time.Unix(boot, 0)) {
		t.Errorf("start %v, boot %v", start, time.Unix(boot, 0))
	}
	if _, err := processStart("/proc", 0); err == nil {
		t.Error("pid 0 has a start time")
	}
}
