package containerdapi

import "testing"

// FuzzParseStat checks the /proc parsers never panic.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5 1000 10 0 0"))
	f.Add([]byte("btime 1764200000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseStatStart(b) // only that they do not panic
		_, _ = ParseBootTime(b)
	})
}
