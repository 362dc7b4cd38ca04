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

func run(in io.Reader, out io.Writer, allowedFile, logFile string) int {
	var allowed []AllowedSkip
	if allowedFile != "" {
		f, err := os.Open(allowedFile)
		if err != nil {
			fmt.Fprintln(out, "testgate:", err)
			return 2
		}
		allowed, err = ParseAllowed(f, allowedFile)
		f.Close()
		if err != nil {
			fmt.Fprintln(out, "testgate:", err)
			return 2
		}
	}
	g := NewGate(out)
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			fmt.Fprintln(out, "testgate:", err)
			return 2
		}
		defer f.Close()
		g.Log = f
	}
	if err := g.Read(in); err != nil {
		fmt.Fprintln(out, "testgate: reading the test stream:", err)
		return 2
	}
	v := g.Decide(allowed)
	v.Report(out, allowedFile)
	if !v.OK() {
		return 1
	}
	return 0
}
