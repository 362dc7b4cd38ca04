package image

import "testing"

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"etc/passwd": "etc/passwd", "./etc/": "etc", "/abs/x": "abs/x", "a/../b": "b", ".": ".", "./": ".",
		"../x": "", "a/../../x": "", "/../x": "", "a\x00b": "",
	} {
		got, ok := clean(in)
		if (want == "") == ok || got != want {
			t.Errorf("clean(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
