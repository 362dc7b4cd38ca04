// Package compile turns expanded Falco conditions into closures over an
// abstract field resolver, indexes rules by event type and renders rule
// outputs.
//
// Conditions are compiled once, at load time, into a tree of func(C) bool
// closures; no AST is walked per event. C is the engine's event context
// (typically a pointer), and fields extract typed values from it through
// plain function fields, so evaluating a rule neither boxes values in
// interfaces nor allocates, transformers such as tolower aside.
package compile

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// FieldType is the type of value a field yields, which decides how values
// in conditions are parsed and which operators apply.
type FieldType uint8

// Field types.
const (
	TypeInvalid FieldType = iota
	TypeString            // text; getter Str
	TypeBytes             // raw bytes held in a string; getter Str
	TypeUint              // getter Uint; also ports, pids, times
	TypeInt               // getter Int; also return values, fds
	TypeBool              // getter Bool
	TypeIPAddr            // getter Addr; compares with addresses and networks
	TypeIPNet             // getter Addr; like TypeIPAddr, for the fd.net family
	TypeStrList           // getter List; in means all, intersects means any
)

var typeNames = [...]string{"invalid", "string", "bytes", "uint64", "int64", "bool", "ipaddr", "ipnet", "list"}

// String returns the type's name.
func (t FieldType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", t)
}

// Field is a resolved field: its type and the getter for that type. A
// getter reports false when the event has no value for the field; every
// comparison with a missing value is false, as in Falco.
//
// Getters are called on the hot path: they must not allocate and must be
// safe for concurrent use on different events.
type Field[C any] struct {
	Type FieldType
	Str  func(C) (string, bool)
	Uint func(C) (uint64, bool)
	Int  func(C) (int64, bool)
	Bool func(C) (bool, bool)
	Addr func(C) (netip.Addr, bool)
	List func(C) ([]string, bool) // the slice must stay valid until the event is released

	// Any, when set, makes the field stand for several values, as Falco's
	// proc.aname without an index stands for every ancestor's name: a
	// comparison on it holds when it holds for any of them. Any calls test
	// once per value, with the getter yielding that value (the context
	// carries the cursor), and returns true at the first test that does.
	// Outside Any the getter yields the field's single rendered value.
	Any func(c C, test func(C) bool) bool
}

// FieldResolver finds fields by name. arg is the bracketed argument, as in
// proc.aname[2], or nil. For a name it does not know, Lookup returns an
// error that matches ErrUnknownField (errors.Is), such as
// *UnknownFieldError; any other error means the field exists but cannot be
// used that way (a bad argument, say).
type FieldResolver[C any] interface {
	Lookup(name string, arg *lang.Arg) (Field[C], error)
}

// ErrUnknownField is matched by errors for fields a resolver does not know.
var ErrUnknownField = errors.New("unknown field")

// UnknownFieldError reports a field name a resolver does not know.
type UnknownFieldError struct {
	Name string
}

// Error returns the message.
func (e *UnknownFieldError) Error() string { return fmt.Sprintf("unknown field %q", e.Name) }

// Is makes errors.Is(err, ErrUnknownField) true.
func (e *UnknownFieldError) Is(target error) bool { return target == ErrUnknownField }

// FieldError is a resolver's error positioned at the field it is about.
type FieldError struct {
	Pos  lang.Pos
	Name string
	Err  error
}

// Error returns "pos: message".
func (e *FieldError) Error() string { return e.Pos.String() + ": " + e.Err.Error() }

// Unwrap returns the resolver's error.
func (e *FieldError) Unwrap() error { return e.Err }

// StringField returns a TypeString field.
func StringField[C any](get func(C) (string, bool)) Field[C] {
	return Field[C]{Type: TypeString, Str: get}
}

// UintField returns a TypeUint field.
func UintField[C any](get func(C) (uint64, bool)) Field[C] {
	return Field[C]{Type: TypeUint, Uint: get}
}

// IntField returns a TypeInt field.
func IntField[C any](get func(C) (int64, bool)) Field[C] {
	return Field[C]{Type: TypeInt, Int: get}
}

// BoolField returns a TypeBool field.
func BoolField[C any](get func(C) (bool, bool)) Field[C] {
	return Field[C]{Type: TypeBool, Bool: get}
}

// AddrField returns a TypeIPAddr field.
func AddrField[C any](get func(C) (netip.Addr, bool)) Field[C] {
	return Field[C]{Type: TypeIPAddr, Addr: get}
}

// ListField returns a TypeStrList field.
func ListField[C any](get func(C) ([]string, bool)) Field[C] {
	return Field[C]{Type: TypeStrList, List: get}
}

// FieldMap is a FieldResolver for fields that take no argument.
type FieldMap[C any] map[string]Field[C]

// Lookup returns the named field; arguments are refused.
func (m FieldMap[C]) Lookup(name string, arg *lang.Arg) (Field[C], error) {
	f, ok := m[name]
	if !ok {
		return Field[C]{}, &UnknownFieldError{Name: name}
	}
	if arg != nil {
		return Field[C]{}, fmt.Errorf("field %s takes no argument", name)
	}
	return f, nil
}

// check verifies that the getter for the field's type is set, so that a
// resolver bug becomes a load error rather than a nil call per event.
func (f Field[C]) check(name string) error {
	var ok bool
	switch f.Type {
	case TypeString, TypeBytes:
		ok = f.Str != nil
	case TypeUint:
		ok = f.Uint != nil
	case TypeInt:
		ok = f.Int != nil
	case TypeBool:
		ok = f.Bool != nil
	case TypeIPAddr, TypeIPNet:
		ok = f.Addr != nil
	case TypeStrList:
		ok = f.List != nil
	}
	if !ok {
		return fmt.Errorf("field %s: the resolver gave type %s without its getter", name, f.Type)
	}
	return nil
}

// present returns a test for whether the field has a value.
func (f Field[C]) present() func(C) bool {
	switch f.Type {
	case TypeString, TypeBytes:
		get := f.Str
		return func(c C) bool { _, ok := get(c); return ok }
	case TypeUint:
		get := f.Uint
		return func(c C) bool { _, ok := get(c); return ok }
	case TypeInt:
		get := f.Int
		return func(c C) bool { _, ok := get(c); return ok }
	case TypeBool:
		get := f.Bool
		return func(c C) bool { _, ok := get(c); return ok }
	case TypeIPAddr, TypeIPNet:
		get := f.Addr
		return func(c C) bool { _, ok := get(c); return ok }
	case TypeStrList:
		get := f.List
		return func(c C) bool { _, ok := get(c); return ok }
	}
	return never[C]
}

func never[C any](C) bool  { return false }
func always[C any](C) bool { return true }
