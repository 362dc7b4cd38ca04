package fields

import (
	"os"
	"strings"
	"testing"
)

// TestFieldsAreDocumented keeps docs/rules.md in step with the registry:
// every field rules can use is listed there.
func TestFieldsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, f := range registry.Fields() {
		listed := strings.Contains(text, "`"+f.Name)
		if arg, ok := strings.CutPrefix(f.Name, "evt.arg."); ok {
			listed = listed || strings.Contains(text, "`"+arg+"`") // in the table of arguments
		}
		if !listed {
			t.Errorf("docs/rules.md does not list %s", f.Name)
		}
	}
}
