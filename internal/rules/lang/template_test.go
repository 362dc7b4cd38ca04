package lang

import (
	"strings"
	"testing"
)

func renderTemplate(t *Template) string {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Field != nil {
			b.WriteString("{" + FormatOperand(p.Field) + "}")
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func TestParseTemplate(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"shell (user=%user.name cmd=%proc.cmdline)", "shell (user={user.name} cmd={proc.cmdline})"},
		{"parent=%proc.aname[2] label=%k8s.pod.label[app.kubernetes.io/name]", "parent={proc.aname[2]} label={k8s.pod.label[app.kubernetes.io/name]}"},
		{"name=%(proc.name)x", "name={proc.name}x"},
		{"lower=%tolower(proc.name) end.", "lower={tolower(proc.name)} end."},
		{"file %fd.name.", "file {fd.name}."},
		{"100%% sure, 50%done, trailing %", "100% sure, 50%done, trailing %"},
		{"%evt.time,%proc.pid", "{evt.time},{proc.pid}"},
	} {
		tpl, err := ParseTemplate(NewSource("o", c.in, 1, 1))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := renderTemplate(tpl); got != c.want {
			t.Errorf("%q:\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"x %(proc.name", ""}, // unclosed: stays literal
		{"x %(bash)", "o:1:5: expected a field name such as proc.name, found 'bash'"},
		{"x %proc.aname[2 y]", "o:1:16: unexpected ' ' in field argument"},
	} {
		_, err := ParseTemplate(NewSource("o", c.in, 1, 1))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: unexpected error %v", c.in, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%q: got %v, want %s", c.in, err, c.want)
		}
	}
}
