package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output and build-fail
	FailedBuild string // a package's fail when its test binary did not build
}

// testID names a test as the allowed-skips file does: the package's
// import path and the test's name as go test prints it, subtests included
// (TestX/sub_name).
type testID struct {
	Package, Test string
}

func (id testID) String() string { return id.Package + " " + id.Test }

// Skip is a test that skipped, with what it said when it did.
type Skip struct {
	testID
	Message string
}

// Gate reads a `go test -json` stream and keeps what the gate decides on:
// failures and skips. It writes the output a person reads, shaped like
// go test without -v: package results, and the output of failed tests
// only; Log, if set, gets every line, as go test -v prints them.
type Gate struct {
	Out io.Writer
	Log io.Writer

	output   map[testID]*strings.Builder // of tests still running
	skips    []Skip
	failed   []testID
	packages map[string]string // import path: its final action
	passed   int
	writeErr error // the first failed write to Out or Log
}

// NewGate returns a gate that writes the readable output to out.
func NewGate(out io.Writer) *Gate {
	return &Gate{Out: out, output: map[testID]*strings.Builder{}, packages: map[string]string{}}
}

// Read consumes a whole stream.
func (g *Gate) Read(r io.Reader) error {
	dec := newLineReader(r)
	for {
		line, err := dec.next()
		if line != nil {
			g.Line(line)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// WriteErr returns the first write to Out or Log that failed. The gate
// keeps reading after one, so that go test is not stopped half way, but
// what it printed or logged is incomplete.
func (g *Gate) WriteErr() error { return g.writeErr }

// Line consumes one line. Lines that are not test events (what the go
// command prints to stderr, if it was merged in) pass through unchanged.
func (g *Gate) Line(line []byte) {
	var ev event
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil || ev.Action == "" {
		text := string(line) + "\n"
		g.print(text)
		g.log(text)
		return
	}
	g.log(ev.Output)
	switch {
	case ev.Action == "build-output":
		g.print(ev.Output)
	case ev.Action == "build-fail":
		g.failed = append(g.failed, testID{Package: ev.ImportPath})
	case ev.Test == "":
		g.packageEvent(ev)
	default:
		g.testEvent(ev)
	}
}

func (g *Gate) packageEvent(ev event) {
	switch ev.Action {
	case "output":
		// "PASS" closes every passing test binary's verbose output;
		// go test without -v does not print it.
		if ev.Output != "PASS\n" {
			g.print(ev.Output)
		}
	case "pass", "fail", "skip":
		g.packages[ev.Package] = ev.Action
		if ev.Action == "fail" {
			// Tests that never finished ran when the binary died (a
			// panic, a timeout): their output is the story.
			g.flushUnfinished(ev.Package)
			if ev.FailedBuild == "" {
				g.failed = append(g.failed, testID{Package: ev.Package})
			}
		}
	}
}

func (g *Gate) testEvent(ev event) {
	id := testID{ev.Package, ev.Test}
	switch ev.Action {
	case "run":
		g.output[id] = &strings.Builder{}
	case "output":
		b := g.output[id]
		if b == nil {
			b = &strings.Builder{}
			g.output[id] = b
		}
		b.WriteString(ev.Output)
	case "pass":
		g.passed++
		delete(g.output, id)
	case "skip":
		g.skips = append(g.skips, Skip{testID: id, Message: skipMessage(g.text(id))})
		delete(g.output, id)
	case "fail":
		g.failed = append(g.failed, id)
		g.print(framed(g.text(id)))
		delete(g.output, id)
	}
}

func (g *Gate) text(id testID) string {
	if b := g.output[id]; b != nil {
		return b.String()
	}
	return ""
}

func (g *Gate) flushUnfinished(pkg string) {
	var ids []testID
	for id := range g.output {
		if id.Package == pkg {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Test < ids[j].Test })
	for _, id := range ids {
		g.print(framed(g.text(id)))
		delete(g.output, id)
	}
}

func (g *Gate) print(s string) {
	if s != "" {
		g.write(g.Out, s)
	}
}

func (g *Gate) log(s string) {
	if g.Log != nil && s != "" {
		g.write(g.Log, s)
	}
}

func (g *Gate) write(w io.Writer, s string) {
	if _, err := io.WriteString(w, s); err != nil && g.writeErr == nil {
		g.writeErr = err
	}
}

// framing reports whether a line is go test -v's bookkeeping rather than
// something a test said.
func framing(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- SKIP:", "--- PASS:"} {
		if strings.HasPrefix(strings.TrimLeft(line, " "), p) {
			return true
		}
	}
	return false
}

// framed drops the -v bookkeeping lines from a test's output, keeping
// "--- FAIL" and everything the test logged.
func framed(out string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if line != "" && !framing(line) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// skipMessage is what a skipped test logged, on one line.
func skipMessage(out string) string {
	var parts []string
	for _, line := range strings.Split(framed(out), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	if len(parts) == 0 {
		return "(no message)"
	}
	return strings.Join(parts, " / ")
}

// Verdict is what the gate decided.
type Verdict struct {
	Passed   int
	Failed   []testID
	Skipped  []Skip // not allowed
	Allowed  []Skip // allowed, with the reason in AllowedWhy
	Stale    []AllowedSkip
	Packages int
}

// OK reports whether the run may count as green.
func (v Verdict) OK() bool {
	return len(v.Failed) == 0 && len(v.Skipped) == 0 && v.Packages > 0
}

// Decide judges the stream read so far against the allowed skips.
func (g *Gate) Decide(allowed []AllowedSkip) Verdict {
	v := Verdict{Passed: g.passed, Failed: g.failed, Packages: len(g.packages)}
	byID := map[testID]bool{}
	for _, a := range allowed {
		byID[a.testID] = true
	}
	skipped := map[testID]bool{}
	for _, s := range g.skips {
		skipped[s.testID] = true
		if byID[s.testID] {
			v.Allowed = append(v.Allowed, s)
		} else {
			v.Skipped = append(v.Skipped, s)
		}
	}
	for _, a := range allowed {
		if !skipped[a.testID] {
			v.Stale = append(v.Stale, a)
		}
	}
	return v
}

// Report writes the verdict for people: every skip with its message, the
// entries of the allowed list that no longer skip, and a summary line.
// It returns the error of the write.
func (v Verdict) Report(out io.Writer, allowedFile string) error {
	w := &strings.Builder{}
	if len(v.Allowed) > 0 {
		fmt.Fprintf(w, "\nallowed skips (%s):\n", allowedFile)
		for _, s := range v.Allowed {
			fmt.Fprintf(w, "  %s: %s\n", s.testID, s.Message)
		}
	}
	for _, a := range v.Stale {
		fmt.Fprintf(w, "warning: %s:%d: %s did not skip in this run; remove the entry if it no longer needs to\n", allowedFile, a.Line, a.testID)
	}
	if len(v.Skipped) > 0 {
		fmt.Fprintf(w, "\nSKIPPED, and not allowed by %s:\n", allowedFile)
		for _, s := range v.Skipped {
			fmt.Fprintf(w, "  %s: %s\n", s.testID, s.Message)
		}
		fmt.Fprintf(w, "A skipped test proves nothing. Provide what it needs (scripts/test.sh installs the tools), or, if it cannot run here by design, add it to %s with the reason.\n", allowedFile)
	}
	if len(v.Failed) > 0 {
		fmt.Fprintf(w, "\nFAILED:\n")
		for _, id := range v.Failed {
			if id.Test == "" {
				fmt.Fprintf(w, "  %s\n", id.Package)
			} else {
				fmt.Fprintf(w, "  %s\n", id)
			}
		}
	}
	if v.Packages == 0 {
		fmt.Fprintf(w, "\nno test results were read: is the input `go test -json` output?\n")
	}
	verdict := "ok"
	if !v.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\ntestgate: %s: %d packages, %d tests passed, %d failures, %d skipped (%d allowed)\n",
		verdict, v.Packages, v.Passed, len(v.Failed), len(v.Skipped)+len(v.Allowed), len(v.Allowed))
	_, err := io.WriteString(out, w.String())
	return err
}
