package ocispec

import "testing"

// FuzzParse feeds arbitrary JSON to Parse and Describe: any input must
// give a spec or an error, never a panic. The seeds in testdata/fuzz are
// real specs trimmed to a kilobyte (no seccomp profile): Go's fuzzer all
// but stops on inputs of tens of kilobytes.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if _, err := Describe(s); err != nil {
			t.Fatalf("Describe of a parsed spec: %v", err)
		}
	})
}
