package config

import "testing"

// FuzzParse: no input makes the parser panic, and whatever it accepts
// survives a print and parse round trip.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		if err := Parse(c, data, "fuzz"); err != nil {
			return
		}
		_ = c.Validate() // may refuse it: only that it does not panic
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if err := Parse(Default(), out, "show"); err != nil {
			t.Fatalf("reparse: %v\n%s", err, out)
		}
	})
}
