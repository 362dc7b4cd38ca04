package criapi

import (
	"testing"

	"github.com/vigilsec/vigil/internal/container/ocispec"
)

// FuzzParseInfo feeds arbitrary documents to ParseInfo and what it
// accepts to the spec reader: an error or a result, never a panic. The
// seeds in testdata/fuzz are the samples with their specs trimmed (Go's
// fuzzer all but stops on inputs of several kilobytes).
func FuzzParseInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ri, err := ParseInfo(data)
		if err != nil {
			return
		}
		if ri.RuntimeSpec != nil {
			if _, err := ocispec.Describe(ri.RuntimeSpec); err != nil {
				t.Fatal(err)
			}
		}
	})
}
