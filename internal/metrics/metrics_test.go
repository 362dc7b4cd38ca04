package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, rec.Code, body)
	}
	return string(body)
}

// TestHandler serves a component's collector beside the Go runtime's and
// the process's, the health endpoints, and a component's own path.
func TestHandler(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_test_total", Help: "A component's counter."})
	c.Add(3)
	h := Handler([]prometheus.Collector{c}, map[string]http.Handler{
		"/component/status": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("{}\n")) }),
	})
	body := get(t, h, "/metrics")
	for _, want := range []string{"\nvigil_test_total 3\n", "\ngo_goroutines ", "\nvigil_process_resident_memory_bytes "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ok\n", "/component/status": "{}\n"} {
		if got := get(t, h, path); got != want {
			t.Errorf("%s: %q", path, got)
		}
	}
}

// TestServe listens on a free port and stops.
func TestServe(t *testing.T) {
	s, err := Serve("127.0.0.1:0", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
