package rules_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// shmScript drops an executable shell script named after the marker in
// /dev/shm, where droppers stage payloads, and removes it afterwards.
func shmScript(t *testing.T, m string) string {
	t.Helper()
	path := filepath.Join("/dev/shm", m+".sh")
	plant(t, path, "#!/bin/sh\ntrue\n")
	testutil.RemoveOnCleanup(t, path)
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeProgram writes a program's source into a directory of its own
// below the work directory (not /tmp: running it must not look like a
// temporary-directory payload) and returns its path.
func writeProgram(t *testing.T, m, name, text string) string {
	t.Helper()
	path := filepath.Join(workDir(t), m, name)
	plant(t, path, text)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// webRoot makes a web server's document root below the work directory.
func webRoot(t *testing.T, m string) string {
	t.Helper()
	dir := filepath.Join(workDir(t), m, "www")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// javaExec is the gadget of a Java remote code execution: the program
// runs what it is given with ProcessBuilder, no shell in between.
const javaExec = `public class Exec {
	public static void main(String[] args) throws Exception {
		Process p = new ProcessBuilder(args).inheritIO().start();
		System.exit(p.waitFor());
	}
}
`

// nodeSpawn runs its arguments with child_process.spawn, no shell in
// between, and prints the child's pid.
const nodeSpawn = `const c = require("child_process").spawn(process.argv[2], process.argv.slice(3), {stdio: "inherit"});
console.log("child=" + c.pid);
`

// loopback is an HTTP server on 127.0.0.1 that answers every request
// and remembers the paths asked for.
type loopback struct {
	url  string
	mu   sync.Mutex
	seen map[string]bool
}

// loopbackServer starts a loopback HTTP server for the test.
func loopbackServer(t *testing.T) *loopback {
	t.Helper()
	l := &loopback{seen: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.seen[r.URL.Path] = true
		l.mu.Unlock()
		_, _ = fmt.Fprintln(w, "stage two") // the attack checks what the client got
	}))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

// asked reports whether a client asked for path.
func (l *loopback) asked(path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[path]
}

var childLine = regexp.MustCompile(`child=(\d+)`)

// childPid runs cmd, a program that prints "child=PID" for the process it
// started, and returns that pid.
func childPid(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	out, err := cmd.CombinedOutput()
	t.Logf("%v: %s (%v)", cmd.Args, out, err)
	sub := childLine.FindSubmatch(out)
	if sub == nil {
		t.Fatalf("%v printed no child pid", cmd.Args)
	}
	pid, _ := strconv.Atoi(string(sub[1]))
	return pid
}

// npmInstallHook packs a package named after the marker whose
// postinstall script is hook, and installs the tarball with npm into a
// project, offline, as a dependency with a malicious install script is
// installed.
func npmInstallHook(t *testing.T, m, hook string) {
	t.Helper()
	npm, _ := hostTool(t, "npm")
	dir := filepath.Join(workDir(t), m, "npm")
	pkg, app := filepath.Join(dir, "pkg"), filepath.Join(dir, "app")
	plant(t, filepath.Join(pkg, "package.json"),
		fmt.Sprintf(`{"name": %q, "version": "1.0.0", "scripts": {"postinstall": %q}}`, m, hook))
	plant(t, filepath.Join(pkg, "index.js"), "module.exports = {};\n")
	plant(t, filepath.Join(app, "package.json"), `{"name": "app", "version": "1.0.0", "private": true}`)
	env := append(os.Environ(), "npm_config_cache="+filepath.Join(dir, "cache"), "npm_config_update_notifier=false",
		"npm_config_audit=false", "npm_config_fund=false")
	pack := exec.Command(npm, "pack", "--pack-destination", dir)
	pack.Dir, pack.Env = pkg, env
	if out, err := pack.CombinedOutput(); err != nil {
		t.Fatalf("npm pack: %v: %s", err, out)
	}
	install := exec.Command(npm, "install", "--offline", filepath.Join(dir, m+"-1.0.0.tgz"))
	install.Dir, install.Env = app, env
	mustRun(t, install)
}

// pipInstallHook installs, with `python3 -m pip` and offline, a source
// package named after the marker whose setup.py runs curl on url, as a
// malicious sdist does when pip builds it. pip runs setup.py twice (for
// the metadata, then to build or install): the hook runs in the second
// run only, so that the attack is one alert.
func pipInstallHook(t *testing.T, m, url string) {
	t.Helper()
	python, _ := hostTool(t, "python3")
	dir := filepath.Join(workDir(t), m, "pip")
	plant(t, filepath.Join(dir, "src", "setup.py"), fmt.Sprintf(`import subprocess, sys
from setuptools import setup
if "egg_info" not in sys.argv:
    subprocess.run(["curl", "-sS", %q])
setup(name=%q, version="1.0")
`, url, m))
	cmd := exec.Command(python, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-cache-dir",
		"--disable-pip-version-check", "--target", filepath.Join(dir, "site"), filepath.Join(dir, "src"))
	cmd.Env = append(os.Environ(), "PIP_NO_INPUT=1")
	mustRun(t, cmd)
}

// compilerContainer starts a container of the busybox image that has
// the host's /usr (and so Debian's gcc) read-only below /sysroot, ready to
// chroot into, as an image that ships a toolchain has.
func compilerContainer(t *testing.T) *workload {
	t.Helper()
	testutil.RequireDocker(t)
	w := &workload{name: "vge2e-cc-" + newMarker()}
	out, err := exec.Command(docker, "run", "-d", "--name", w.name, "--network", "none",
		"-v", "/usr:/sysroot/usr:ro", image, "sleep", "600").CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	w.id = strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, docker, "rm", "-f", w.id)
	containerExec(t, w, "cd /sysroot && mkdir -m 1777 tmp && ln -s usr/lib lib && ln -s usr/lib64 lib64 && ln -s usr/bin bin")
	return w
}

// containerExec runs a shell script in container w and returns what it
// printed.
func containerExec(t *testing.T, w *workload, script string) string {
	t.Helper()
	out, err := exec.Command(docker, "exec", w.id, "sh", "-c", script).CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("docker exec: %v", err)
	}
	t.Logf("in %s: %s: %s", w.name, script, out)
	return string(out)
}
