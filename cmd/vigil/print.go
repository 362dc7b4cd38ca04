package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// printer writes a command's human-readable report and keeps the first
// write error, so the report prints line by line and the command returns
// that one error at the end: a full disk under --output or a closed pipe
// fails the command instead of passing unnoticed. Once a write failed it
// prints nothing more.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) println(args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, args...)
	}
}

// table is a printer into a tabwriter: cells are separated by tabs and
// aligned when flush writes them out.
type table struct {
	printer
	tw *tabwriter.Writer
}

func newTable(w io.Writer) *table {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	return &table{printer: printer{w: tw}, tw: tw}
}

// flush writes the aligned table and returns the first error of the
// table's writes or of the flush.
func (t *table) flush() error {
	if t.err == nil {
		t.err = t.tw.Flush()
	}
	return t.err
}

// closeInto closes c and keeps its error in *err unless *err already
// holds one: for a deferred Close whose failure the command must report,
// as with a database it wrote to.
func closeInto(err *error, c io.Closer) {
	if cerr := c.Close(); *err == nil {
		*err = cerr
	}
}
