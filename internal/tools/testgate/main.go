// Command testgate reads `go test -json` on its standard input, prints
// what go test prints without -v (package results and the output of
// failed tests), and fails when any test failed or skipped. A skipped
// test proves nothing, so the gate (scripts/test.sh) accepts only the
// skips listed, each with its reason, in one reviewed file:
//
//	go test -json ./... 2>&1 | testgate -allowed .ci/allowed-skips -log go-test.log
//
// Entries that no longer skip are reported as warnings, so the list does
// not outlive its reasons unnoticed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	allowedFile := flag.String("allowed", "", "the file listing the tests allowed to skip, with the reasons")
	logFile := flag.String("log", "", "also write the full verbose output (as go test -v prints it) to this file")
	flag.Parse()
	os.Exit(run(os.Stdin, os.Stdout, *allowedFile, *logFile))
}

func run(in io.Reader, out io.Writer, allowedFile, logFile string) (code int) {
	var allowed []AllowedSkip
	if allowedFile != "" {
		f, err := os.Open(allowedFile)
		if err != nil {
			return complain(out, err)
		}
		allowed, err = ParseAllowed(f, allowedFile)
		_ = f.Close() // read-only: closing loses nothing
		if err != nil {
			return complain(out, err)
		}
	}
	g := NewGate(out)
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			return complain(out, err)
		}
		defer func() {
			if err := f.Close(); err != nil {
				code = complain(out, "writing the log:", err)
			}
		}()
		g.Log = f
	}
	if err := g.Read(in); err != nil {
		return complain(out, "reading the test stream:", err)
	}
	// The verdict is reported even when the output or the log lost a
	// write; the status then says the gate's record is incomplete.
	v := g.Decide(allowed)
	if err := errors.Join(g.WriteErr(), v.Report(out, allowedFile)); err != nil {
		return complain(out, "writing the output, the log or the report:", err)
	}
	if !v.OK() {
		return 1
	}
	return 0
}

// complain prints a failure of the gate itself and returns its exit
// status, 2. A failed print loses nothing more: the status says it too.
func complain(out io.Writer, what ...any) int {
	_, _ = fmt.Fprintln(out, append([]any{"testgate:"}, what...)...)
	return 2
}
