package version

import "testing"

// fuzzScheme checks that parsing never panics and that the ordering is a
// consistent order on whatever parses: reflexive and antisymmetric.
func fuzzScheme(f *testing.F, s Scheme) {
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := s.Parse(a)
		vb, errB := s.Parse(b)
		if errA != nil || errB != nil {
			return
		}
		if c := va.Compare(va); c != 0 {
			t.Fatalf("%s: %q vs itself = %d", s.Name(), a, c)
		}
		if ab, ba := va.Compare(vb), vb.Compare(va); ab != -ba {
			t.Fatalf("%s: %q vs %q = %d but reverse = %d", s.Name(), a, b, ab, ba)
		}
	})
}

func FuzzDebian(f *testing.F)   { fuzzScheme(f, Debian) }
func FuzzAPK(f *testing.F)      { fuzzScheme(f, APK) }
func FuzzRPM(f *testing.F)      { fuzzScheme(f, RPM) }
func FuzzSemVer(f *testing.F)   { fuzzScheme(f, SemVer) }
func FuzzGo(f *testing.F)       { fuzzScheme(f, Go) }
func FuzzPEP440(f *testing.F)   { fuzzScheme(f, PEP440) }
func FuzzMaven(f *testing.F)    { fuzzScheme(f, Maven) }
func FuzzRubyGems(f *testing.F) { fuzzScheme(f, RubyGems) }
