package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gateOn runs the gate on a recorded go test -json stream with the given
// allowed-skips file contents ("" for none) and returns its exit code and
// what it printed.
func gateOn(t *testing.T, stream, allowed string) (int, string) {
	t.Helper()
	in, err := os.Open(filepath.Join("testdata", "streams", stream))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	file := ""
	if allowed != "" {
		file = filepath.Join(t.TempDir(), "allowed-skips")
		if err := os.WriteFile(file, []byte(allowed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	code := run(in, &out, file, "")
	return code, out.String()
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestPassingRunIsGreenAndReadsLikeGoTest(t *testing.T) {
	code, out := gateOn(t, "passes.json", "")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "ok  \texample.com/sample/a\t", "?   \texample.com/sample/c\t[no test files]",
		"testgate: ok: 2 packages, 4 tests passed, 0 failures, 0 skipped (0 allowed)")
	// Without -v, go test shows neither passing tests nor what they log.
	for _, quiet := range []string{"=== RUN", "--- PASS", "a log line", "PASS\n"} {
		if strings.Contains(out, quiet) {
			t.Errorf("output shows %q:\n%s", quiet, out)
		}
	}
}

// TestSkippedTestFailsTheGate is the gate's reason to exist: a run where a
// test and a subtest skipped, and every other test passed, is not green.
func TestSkippedTestFailsTheGate(t *testing.T) {
	code, out := gateOn(t, "skips.json", "")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	wantLines(t, out,
		"SKIPPED, and not allowed by :",
		"example.com/sample/a TestSkipTop: a_test.go:7: needs a widget",
		"example.com/sample/a TestSubtests/skips: a_test.go:11: prerequisite missing: docker",
		"testgate: FAIL: 2 packages, 3 tests passed, 0 failures, 2 skipped (0 allowed)")
}

func TestAllowedSkipsPassWithTheirReasons(t *testing.T) {
	code, out := gateOn(t, "skips.json", `# reviewed like code
example.com/sample/a TestSkipTop          widgets cannot be had here
example.com/sample/a TestSubtests/skips   no Docker by design
`)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "allowed skips", "example.com/sample/a TestSubtests/skips: a_test.go:11: prerequisite missing: docker",
		"2 skipped (2 allowed)")
}

// TestAllowingTheParentDoesNotAllowSubtests: entries match exact names,
// so a skipping subtest cannot hide under its parent's entry.
func TestAllowingTheParentDoesNotAllowSubtests(t *testing.T) {
	code, out := gateOn(t, "skips.json", `
example.com/sample/a TestSkipTop   widgets cannot be had here
example.com/sample/a TestSubtests  only the parent
`)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	wantLines(t, out, "SKIPPED, and not allowed", "example.com/sample/a TestSubtests/skips: ",
		":3: example.com/sample/a TestSubtests did not skip in this run")
}

func TestStaleAllowedEntryOnlyWarns(t *testing.T) {
	code, out := gateOn(t, "passes.json", "example.com/sample/a TestGone  it used to need a widget\n")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, "warning: ", ":1: example.com/sample/a TestGone did not skip in this run")
}

func TestFailuresShowTheirOutput(t *testing.T) {
	code, out := gateOn(t, "fails.json", "")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	wantLines(t, out, "--- FAIL: TestFail", "b_test.go:5: boom\n        second line\n",
		"FAIL\texample.com/sample/b\t", "FAILED:\n  example.com/sample/b TestFail\n")
	if strings.Contains(out, "=== RUN") {
		t.Errorf("framing lines in the output:\n%s", out)
	}
}

func TestBuildFailuresAndPanicsFail(t *testing.T) {
	code, out := gateOn(t, "build-and-panic.json", "")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	wantLines(t, out, "d/d_test.go:5:33: undefined: undefined", "FAIL\texample.com/sample/d [build failed]",
		"panic: assignment to entry in nil map", "example.com/sample/e TestPanics/inner")
}

func TestEmptyStreamFails(t *testing.T) {
	var out bytes.Buffer
	if code := run(strings.NewReader(""), &out, "", ""); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out.String())
	}
	wantLines(t, out.String(), "no test results were read")
}

func TestNonJSONLinesPassThrough(t *testing.T) {
	var out bytes.Buffer
	g := NewGate(&out)
	if err := g.Read(strings.NewReader("go: downloading example.com/x v1.0.0\n{not json\n")); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "go: downloading example.com/x v1.0.0\n{not json\n" {
		t.Errorf("got %q", got)
	}
}

func TestLogHasTheVerboseOutput(t *testing.T) {
	in, err := os.Open("testdata/streams/skips.json")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	log := filepath.Join(t.TempDir(), "go-test.log")
	var out bytes.Buffer
	run(in, &out, "", log)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, string(data), "=== RUN   TestPass\n    a_test.go:5: a log line\n--- PASS: TestPass", "--- SKIP: TestSubtests/skips")
}

func TestMalformedAllowedFileIsAnError(t *testing.T) {
	for _, text := range []string{
		"example.com/sample/a TestSkipTop\n", // no reason
		"example.com/sample/a TestSkipTop why\nexample.com/sample/a TestSkipTop again\n",
	} {
		if _, err := ParseAllowed(strings.NewReader(text), "allowed"); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
}

// TestGateFailsOnRealGoTest runs go test -json on a package whose test
// and subtest skip, as scripts/test.sh does, so that the gate is shown to
// fail on the stream of the go toolchain in use, not only on recordings.
func TestGateFailsOnRealGoTest(t *testing.T) {
	// go test puts its own toolchain first in the test's PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "test", "-json", "-count=1", "./...")
	cmd.Dir = "testdata/skipping"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "SKIPPING_PREREQUISITE=")
	stream, err := cmd.Output()
	if err != nil {
		t.Fatalf("go test -json: %v", err)
	}
	var out bytes.Buffer
	if code := run(bytes.NewReader(stream), &out, "", ""); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out.String())
	}
	wantLines(t, out.String(),
		"example.com/skipping TestSkipsWithoutPrerequisite: skipping_test.go:", "prerequisite missing: SKIPPING_PREREQUISITE",
		"example.com/skipping TestHasSkippingSubtest/needs_docker: skipping_test.go:", "prerequisite missing: a Docker engine")

	cmd = exec.Command(goBin, "test", "-json", "-count=1", "./...")
	cmd.Dir = "testdata/skipping"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "SKIPPING_PREREQUISITE=present")
	if stream, err = cmd.Output(); err != nil {
		t.Fatalf("go test -json: %v", err)
	}
	out.Reset()
	if code := run(bytes.NewReader(stream), &out, "", ""); code != 0 {
		t.Fatalf("with the prerequisite present: exit %d:\n%s", code, out.String())
	}
}

// TestFailedLogWriteFailsTheGate: a log that cannot be written (a full
// disk) fails the gate with status 2, once the verdict is reported.
func TestFailedLogWriteFailsTheGate(t *testing.T) {
	in, err := os.Open("testdata/streams/skips.json")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	if code := run(in, &out, "", "/dev/full"); code != 2 {
		t.Errorf("status %d, want 2", code)
	}
	wantLines(t, out.String(), "testgate: FAIL", "testgate: writing the output, the log or the report:")
}
