package console_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
	"github.com/vigilsec/vigil/internal/console"
	"github.com/vigilsec/vigil/internal/testutil"
)

// browser is a headless Chromium (Debian's package) driving the console
// of an API server on loopback.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // screenshots

	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T, srv *api.Server) *browser {
	t.Helper()
	chrome, err := exec.LookPath("chromium")
	testutil.Require(t, err == nil, "chromium (apt-get install chromium)")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ServeListener(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// No timeout on the tab's context: it would stop the browser. Each
	// wait has its own.
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	dir := os.Getenv("VIGIL_SCREENSHOTS")
	if dir == "" {
		dir = t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, base: "http://" + ln.Addr().String(), dir: dir}
	// Any uncaught exception or console error in the page fails the test.
	err = chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.fail(fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, msg))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.fail("console.error: " + strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return b
}

func (b *browser) fail(msg string) {
	b.mu.Lock()
	b.errors = append(b.errors, msg)
	b.mu.Unlock()
}

func (b *browser) checkErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("page error: %s", e)
	}
	b.errors = nil
}

// run does the steps, within a minute.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open goes to a page of the console and waits for sel.
func (b *browser) open(hash, sel string) {
	b.t.Helper()
	b.run("open "+hash, chromedp.Navigate(b.base+"/"+hash), chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.run("settle", chromedp.Sleep(300*time.Millisecond))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// eval evaluates js in the page.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds or d passes.
func (b *browser) waitFor(what, cond string, d time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	poll := chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(d))
	if _, err := chromedp.Run(b.ctx, poll); err != nil {
		b.t.Fatalf("%s: not within %v: %v", what, d, err)
	}
	return time.Since(start)
}

func rowsWith(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#alert-list tbody tr')].filter(r => r.textContent.includes(%q)).length`, text)
}

// TestConsoleInBrowser loads the console in Chromium against a node
// whose events went through the real adapters: the map shows the client
// and the server with an edge between them; an alert emitted through
// the hook appears on the Alerts page within 2 s without a reload;
// filtering changes the list; every page renders without a script error
// and is saved as a screenshot.
func TestConsoleInBrowser(t *testing.T) {
	env := apitest.New(t)
	data := t.TempDir()
	srv := env.NewServer(t, api.Config{DataDir: data}, api.Options{Static: console.Handler(), Hostname: "node-1"})
	p := env.Demo()
	shadow := apitest.Alert("Read sensitive file untrusted", "Warning",
		"Sensitive file opened for reading by non-trusted program (file=/etc/shadow gparent=containerd-shim ggparent=<NA> evt_type=openat user=app user_uid=1000 process=web proc_exepath=/usr/local/bin/web parent=sh command=web --port 80 terminal=0 container_id=000000000000 container_name=web)")
	shadow.Tags = []string{"maturity_stable", "host", "container", "filesystem", "mitre_credential_access", "T1555"}
	for k, v := range map[string]any{"fd.name": "/etc/shadow", "evt.type": "openat", "user.name": "app", "proc.cmdline": "web --port 80",
		"proc.pname": "sh", "proc.aname[2]": "containerd-shim", "proc.aname[3]": nil, "container.id": "000000000000"} {
		shadow.OutputFields[k] = v
	}
	srv.Emit(shadow)
	b := newBrowser(t, srv)

	edge := fmt.Sprintf(`path.edge[data-source=%q][data-target=%q][data-port="8080"]`, p.Client.ID, p.Server.ID)
	b.open("#/map", edge)
	nodes := eval[[]string](b, `[...document.querySelectorAll('g.node')].map(g => g.dataset.id)`)
	for _, id := range []string{p.Client.ID, p.Server.ID} {
		if !strings.Contains(strings.Join(nodes, "\n"), id) {
			t.Errorf("map nodes %q lack %s", nodes, id)
		}
	}
	ports := eval[string](b, fmt.Sprintf(`document.querySelector('g.node[data-id=%q] text.ports').textContent`, p.Server.ID))
	if !strings.Contains(ports, "8080/tcp") || !strings.Contains(ports, "9090/tcp") {
		t.Errorf("server's listening ports on the map: %q", ports)
	}
	outside := eval[int](b, `document.querySelectorAll('path.edge.alert, path.edge.outside').length`)
	if outside != 1 {
		t.Errorf("%d highlighted edges, want 1 (the drift)", outside)
	}
	b.screenshot("map.png")
	b.run("select the server", chromedp.Click(chromedp.CSS(fmt.Sprintf(`g.node[data-id=%q]`, p.Server.ID))),
		chromedp.WaitVisible(chromedp.CSS(`aside.map-side h2`)))
	b.screenshot("map-selected.png")
	b.run("dark theme", chromedp.Click(chromedp.CSS(`#theme`)))
	b.screenshot("map-dark.png")
	b.run("light theme", chromedp.Click(chromedp.CSS(`#theme`)))

	b.open("#/alerts", "#alert-list tbody tr")
	before := eval[int](b, `document.querySelectorAll('#alert-list tbody tr').length`)
	srv.Emit(apitest.Alert("Browser test rule", "Critical", "emitted while the page was open"))
	took := b.waitFor("the emitted alert on the page", rowsWith("Browser test rule")+` === 1`, 2*time.Second)
	t.Logf("the alert appeared %v after it was emitted", took.Round(time.Millisecond))
	b.screenshot("alerts.png")

	// Filter by text, then by priority: the list follows.
	b.run("filter", chromedp.SendKeys(chromedp.CSS("#f-q"), "emitted while"))
	b.waitFor("the text filter", `document.querySelectorAll('#alert-list tbody tr').length === 1`, 3*time.Second)
	b.run("clear the text", chromedp.Evaluate[chromedp.Void](
		`(() => { const q = document.getElementById('f-q'); q.value = ''; q.dispatchEvent(new Event('input')); })()`))
	b.waitFor("no filter", fmt.Sprintf(`document.querySelectorAll('#alert-list tbody tr').length === %d`, before+1), 3*time.Second)
	b.run("priority chip", chromedp.Click(chromedp.CSS(`button.chip[data-priority="Warning"]`)))
	b.waitFor("the priority filter", rowsWith("Browser test rule")+` === 0 && `+rowsWith("Read sensitive file untrusted")+` === 1`, 3*time.Second)
	after := eval[int](b, `document.querySelectorAll('#alert-list tbody tr').length`)
	if after == before+1 {
		t.Errorf("the priority filter did not change the list (%d rows)", after)
	}
	// A live alert that does not match the filter stays out.
	srv.Emit(apitest.Alert("Another critical", "Critical", "filtered out"))
	srv.Emit(apitest.Alert("Another warning", "Warning", "kept"))
	b.waitFor("a matching live alert", rowsWith("Another warning")+` === 1`, 2*time.Second)
	if eval[int](b, rowsWith("Another critical")) != 0 {
		t.Error("a live alert passed the priority filter")
	}
	b.screenshot("alerts-filtered.png")
	b.run("open an alert", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#alert-list tbody tr')]
		.find(r => r.textContent.includes('Read sensitive file untrusted')).querySelector('td:nth-child(3)').click()`),
		chromedp.WaitVisible(chromedp.CSS(`#drawer ol.ancestry`)))
	if hash := eval[string](b, `location.hash`); !strings.HasPrefix(hash, "#/alerts") {
		t.Errorf("opening an alert left the page for %s", hash)
	}
	chain := eval[string](b, `document.querySelector('#drawer ol.ancestry').textContent`)
	if !strings.Contains(chain, "containerd-shim") || !strings.Contains(chain, "/usr/local/bin/web") {
		t.Errorf("ancestry %q", chain)
	}
	b.screenshot("alert-detail.png")

	b.open("#/overview", "svg.chart rect")
	b.screenshot("overview.png")
	b.open("#/workload/"+strings.ReplaceAll(p.Server.ID, "/", "%2F"), `button[data-mode="monitor"]`)
	if !eval[bool](b, `document.querySelector('button[data-mode="monitor"]').disabled`) {
		t.Error("the mode buttons are enabled without an admin token")
	}
	b.screenshot("workload.png")

	// Signed in as admin, the mode changes from the page.
	admin, err := os.ReadFile(filepath.Join(data, api.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	b.run("sign in", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`sessionStorage.setItem('vigil.token', %q)`, strings.TrimSpace(string(admin)))),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`button[data-mode="monitor"]:enabled`)),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(chromedp.CSS(`button[data-mode="monitor"]`)))
	b.waitFor("the new mode", `document.querySelector('button[data-mode="monitor"]').disabled && document.querySelector('.page-head .badge.mode-monitor') !== null`, 3*time.Second)
	if m, _ := env.Baselines.Mode(p.Server.ID); m.String() != "monitor" {
		t.Errorf("the server's mode is %v after the admin changed it", m)
	}
	if got := eval[string](b, `document.getElementById('signin').textContent`); got != "Admin" {
		t.Errorf("sign-in button says %q", got)
	}
	b.open("#/vulnerabilities", "tbody tr")
	b.screenshot("vulnerabilities.png")
	b.open("#/workloads", "tbody tr")
	b.screenshot("workloads.png")
	b.checkErrors()
}

// TestMapAt200Workloads: a node with 200 workloads in 20 namespaces and
// 600 flows among them renders every workload, in its namespace's box,
// with no two nodes overlapping and every name inside its node; a
// namespace can be shown alone. Screenshots of both.
func TestMapAt200Workloads(t *testing.T) {
	env := apitest.New(t)
	srv := env.NewServer(t, api.Config{}, api.Options{Static: console.Handler()})
	env.Synthetic(200, 600)
	b := newBrowser(t, srv)
	b.open("#/map", "g.node")
	b.waitFor("every node", `document.querySelectorAll('g.node').length === 200`, 10*time.Second)
	problems := eval[[]string](b, `(() => {
		const out = [];
		const boxes = [...document.querySelectorAll('g.node')].map(g => {
			const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(g.getAttribute('transform'));
			const r = g.querySelector('rect');
			const label = g.querySelector('text.label');
			if (label.getComputedTextLength() > r.width.baseVal.value - 16) out.push('label overflows: ' + g.dataset.id);
			return { id: g.dataset.id, x: +m[1], y: +m[2], w: r.width.baseVal.value, h: r.height.baseVal.value };
		});
		for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
			const a = boxes[i], c = boxes[j];
			if (a.x < c.x + c.w && c.x < a.x + a.w && a.y < c.y + c.h && c.y < a.y + a.h) out.push('overlap: ' + a.id + ' ' + c.id);
		}
		const groups = [...document.querySelectorAll('g.group')].map(g => {
			const r = g.querySelector('rect');
			return { id: g.dataset.group, x: +r.getAttribute('x'), y: +r.getAttribute('y'), w: +r.getAttribute('width'), h: +r.getAttribute('height') };
		});
		for (const b of boxes) {
			const ns = 'ns:' + b.id.split('/')[1];
			const g = groups.find(g => g.id === ns);
			if (!g || b.x < g.x || b.y < g.y || b.x + b.w > g.x + g.w || b.y + b.h > g.y + g.h) out.push('outside its namespace: ' + b.id);
		}
		return out;
	})()`)
	for _, p := range problems {
		t.Error(p)
	}
	b.screenshot("map-200.png")
	b.run("one namespace", chromedp.SetValue(chromedp.CSS(`.map-toolbar select`), "ns:team-03"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.map-toolbar select').dispatchEvent(new Event('change'))`))
	b.waitFor("the namespace alone", `document.querySelectorAll('g.group').length > 1 && document.querySelectorAll('g.node').length < 200`, 5*time.Second)
	b.screenshot("map-200-namespace.png")
	b.checkErrors()
}
