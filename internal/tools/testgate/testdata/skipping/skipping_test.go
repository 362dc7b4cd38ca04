// Package skipping is run by testgate's own tests through a real
// `go test -json`: one test passes, one skips and one has a skipping
// subtest, so the gate must fail on it.
package skipping

import (
	"os"
	"testing"
)

func TestRuns(t *testing.T) {}

func TestSkipsWithoutPrerequisite(t *testing.T) {
	if os.Getenv("SKIPPING_PREREQUISITE") == "" {
		t.Skip("prerequisite missing: SKIPPING_PREREQUISITE")
	}
}

func TestHasSkippingSubtest(t *testing.T) {
	t.Run("runs", func(t *testing.T) {})
	t.Run("needs docker", func(t *testing.T) {
		if os.Getenv("SKIPPING_PREREQUISITE") == "" {
			t.Skipf("prerequisite missing: %s", "a Docker engine")
		}
	})
}
