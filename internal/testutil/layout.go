package testutil

import "fmt"

// Field is one field of a wire record, as a Go decoder or encoder reads or
// writes it and as the C header lays it out. The C side comes from the Go
// type bpf2go generates for the record (-type): unsafe.Offsetof and
// unsafe.Sizeof of its field.
type Field struct {
	Name        string  // the C field, e.g. "event_header.pid"
	Off, Size   uintptr // the offset and width the Go code uses
	COff, CSize uintptr // the offset and width in the C layout
}

// LayoutMismatches returns one line for each field whose offset or width
// differs between the Go code and the C layout, or nil when all agree.
func LayoutMismatches(fields []Field) []string {
	var out []string
	for _, f := range fields {
		if f.Off != f.COff || f.Size != f.CSize {
			out = append(out, fmt.Sprintf("%s: Go uses %d bytes at offset %d, C has %d bytes at offset %d",
				f.Name, f.Size, f.Off, f.CSize, f.COff))
		}
	}
	return out
}
