package lang_test

import (
	"fmt"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// Parse a condition and print each field it reads, with the position it
// is written at. Fields under transformers and inside val() are found too.
func ExampleInspect() {
	cond := `evt.type in (open, openat) and not tolower(proc.name) = val(proc.pname) and fd.name startswith /etc`
	e, err := lang.Parse(lang.NewSource("example", cond, 1, 1))
	if err != nil {
		fmt.Println(err)
		return
	}
	lang.Inspect(e, func(n lang.Node) bool {
		if f, ok := n.(*lang.FieldRef); ok {
			fmt.Println(f.Pos(), f.Name)
		}
		return true
	})
	// Output:
	// example:1:1 evt.type
	// example:1:44 proc.name
	// example:1:61 proc.pname
	// example:1:77 fd.name
}

// The call with nil after a node's children lets the function keep a
// stack; here, of whether each node is negated, to tell the fields whose
// comparisons count when they hold from those that count when they fail.
func ExampleInspect_negation() {
	cond := `proc.name = sh and not (fd.name startswith /tmp or not user.name = root)`
	e, err := lang.Parse(lang.NewSource("example", cond, 1, 1))
	if err != nil {
		fmt.Println(err)
		return
	}
	negated := []bool{false}
	lang.Inspect(e, func(n lang.Node) bool {
		top := negated[len(negated)-1]
		switch x := n.(type) {
		case nil:
			negated = negated[:len(negated)-1]
			return false
		case *lang.NotExpr:
			top = !top
		case *lang.FieldRef:
			fmt.Println(x.Name, "negated:", top)
		}
		negated = append(negated, top)
		return true
	})
	// Output:
	// proc.name negated: false
	// fd.name negated: true
	// user.name negated: false
}
