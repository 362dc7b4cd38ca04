// Package metrics serves Vigil's Prometheus metrics. It measures nothing
// itself: every component keeps its own counters and exposes them as a
// [prometheus.Collector] that reads them at scrape time, so the event path
// pays nothing for metrics and a new component brings its own. This
// package registers those collectors beside the Go runtime's and the
// process's own ([Handler]), and serves them with the health endpoints
// ([Serve]). It imports none of the components it serves.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns an HTTP handler serving /metrics (the collectors'
// metrics plus the Go runtime's and the process's own CPU and memory),
// /healthz, /readyz, and each of handlers at its path.
func Handler(cs []prometheus.Collector, handlers map[string]http.Handler) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(cs...)
	reg.MustRegister(collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "vigil"}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	for path, h := range handlers {
		mux.Handle(path, h)
	}
	ok := func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", ok)
	return mux
}

// Server serves Handler on an address until Close.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	served chan error // what Serve returned

	closeOnce sync.Once
	closeErr  error
}

// Serve starts serving Handler(cs, handlers) on addr ("host:port"; port 0
// picks a free one).
func Serve(addr string, cs []prometheus.Collector, handlers map[string]http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{srv: &http.Server{Handler: Handler(cs, handlers), ReadHeaderTimeout: 5 * time.Second}, ln: ln,
		served: make(chan error, 1)}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, waiting briefly for scrapes in flight. It also
// returns the error that stopped the server before, if one did (a failed
// accept ends serving, and nothing else would report it). Later calls
// return the same.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = err
		}
		// Serve has returned once Shutdown closed the listener.
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("metrics server stopped: %w", err))
		}
	})
	return s.closeErr
}
