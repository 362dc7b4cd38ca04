package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// Options are the server's connections to the rest of the agent.
type Options struct {
	// Audit receives the audit alert of each state-changing request; it
	// must not block. Nil stores it in the server's own alert ring
	// (through Emit). When set, the agent is expected to route it to the
	// outputs and back into Emit like any other alert.
	Audit func(*alert.Alert) bool
	// Static serves everything outside /api/ (the console); nil answers
	// 404.
	Static http.Handler
	// Logger receives request failures and the audit log; nil is
	// slog.Default().
	Logger *slog.Logger
	// Now is the wall clock; nil is time.Now.
	Now func() time.Time
	// Hostname goes into audit alerts.
	Hostname string
}

// Server is the API and console server.
type Server struct {
	cfg         Config
	src         Sources
	opts        Options
	log         *slog.Logger
	exposed     bool
	requireAuth bool
	tokens      []tokenEntry
	tls         *tls.Config
	fingerprint string

	alerts  *alertStore
	rates   *rateSampler
	handler http.Handler

	done     chan struct{}
	doneOnce sync.Once
}

// New prepares a server: it validates cfg, and for a listener beyond
// loopback (or with tokens required) loads or generates the tokens, and
// the certificate when TLS is needed. Nothing listens until Serve.
func New(cfg Config, src Sources, opts Options) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{cfg: cfg, src: src, opts: opts, log: opts.Logger, exposed: Exposed(cfg.Addr),
		alerts: newAlertStore(cfg.AlertBuffer, opts.Now), done: make(chan struct{})}
	s.requireAuth = s.exposed || cfg.RequireAuth
	var err error
	if s.tokens, err = loadTokens(&cfg); err != nil {
		return nil, err
	}
	if s.exposed || cfg.TLS {
		if s.tls, s.fingerprint, err = loadTLS(&cfg, opts.Now()); err != nil {
			return nil, err
		}
	}
	s.rates = newRateSampler(opts.Now)
	s.handler = s.routes()
	return s, nil
}

// Emit stores an alert in the ring behind /api/v1/alerts and hands it to
// the open streams; its signature is the agent's alert emitter's. It
// does not block. The alert must not change afterwards.
func (s *Server) Emit(a *alert.Alert) bool {
	if a == nil {
		return false
	}
	s.alerts.add(s.prepare(a))
	return true
}

// Handler returns the server's handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// TLSFingerprint is the SHA-256 of the certificate served, hex; "" when
// the server speaks plain HTTP.
func (s *Server) TLSFingerprint() string { return s.fingerprint }

// Serve listens on the configured address until ctx ends. It samples
// the agent's counters for the overview meanwhile.
func (s *Server) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened. The listener's
// address decides nothing: the configured address did, in New.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go s.rates.run(ctx, s.src.Stats)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	s.log.Info("ui: serving the console and API", "url", scheme+"://"+ln.Addr().String()+"/",
		"auth", s.requireAuth, "tls_sha256", s.fingerprint)
	select {
	case <-ctx.Done():
		s.doneOnce.Do(func() { close(s.done) })
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			// Connections still open after the grace period are cut.
			s.log.Warn("ui: shutdown", "err", err)
		}
		return nil
	case err := <-errc:
		s.doneOnce.Do(func() { close(s.done) })
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// route is one API endpoint.
type route struct {
	method string
	need   Role
	serve  func(w http.ResponseWriter, r *http.Request, who principal) error
}

// jsonRoute wraps a handler that returns a value to encode.
func jsonRoute(method string, need Role, fn func(r *http.Request, who principal) (any, error)) route {
	return route{method: method, need: need, serve: func(w http.ResponseWriter, r *http.Request, who principal) error {
		v, err := fn(r, who)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := map[string][]route{
		"/api/v1/whoami":              {jsonRoute(http.MethodGet, RoleNone, s.whoami)},
		"/api/v1/overview":            {jsonRoute(http.MethodGet, RoleReadOnly, s.overview)},
		"/api/v1/map":                 {jsonRoute(http.MethodGet, RoleReadOnly, s.mapView)},
		"/api/v1/alerts":              {jsonRoute(http.MethodGet, RoleReadOnly, s.listAlerts)},
		"/api/v1/alerts/stream":       {{http.MethodGet, RoleReadOnly, s.streamAlerts}},
		"/api/v1/alerts/{id}":         {jsonRoute(http.MethodGet, RoleReadOnly, s.getAlert)},
		"/api/v1/workloads":           {jsonRoute(http.MethodGet, RoleReadOnly, s.listWorkloads)},
		"/api/v1/workloads/{id}":      {jsonRoute(http.MethodGet, RoleReadOnly, s.getWorkload)},
		"/api/v1/workloads/{id}/mode": {jsonRoute(http.MethodPost, RoleAdmin, s.setMode)},
		"/api/v1/vulnerabilities":     {jsonRoute(http.MethodGet, RoleReadOnly, s.listVulnerabilities)},
		"/api/v1/enforcement":         {jsonRoute(http.MethodGet, RoleReadOnly, s.enforcement)},
		"/api/v1/networkpolicies":     {{http.MethodGet, RoleReadOnly, s.networkPolicies}},
	}
	for pattern, rs := range api {
		mux.Handle(pattern, s.apiHandler(rs))
	}
	mux.Handle("/api/", s.apiHandler(nil))
	static := s.opts.Static
	if static == nil {
		static = http.NotFoundHandler()
	}
	mux.Handle("/", static)
	return s.recoverer(s.guard(mux))
}

// apiHandler authenticates, checks the method and the role, and serves.
func (s *Server) apiHandler(rs []route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		who, ok := s.authenticate(r)
		if !ok {
			s.writeError(w, r, errorf(http.StatusUnauthorized, "", "a valid bearer token is required"))
			return
		}
		if len(rs) == 0 {
			s.writeError(w, r, notFound("no such endpoint"))
			return
		}
		var methods []string
		for _, rt := range rs {
			methods = append(methods, rt.method)
			if rt.method != r.Method && (rt.method != http.MethodGet || r.Method != http.MethodHead) {
				continue
			}
			if !allowed(who, rt.need) {
				if who.role == RoleNone {
					s.writeError(w, r, errorf(http.StatusUnauthorized, "", "an %s token is required", rt.need))
				} else {
					s.writeError(w, r, errorf(http.StatusForbidden, "", "the %s role may not do this; an %s token is required", who.role, rt.need))
				}
				return
			}
			if err := rt.serve(w, r, who); err != nil {
				s.writeError(w, r, err)
			}
			return
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "", "method %s not allowed", r.Method))
	})
}

// guard applies what every response needs: security headers, and the
// Host check that keeps rebound names off a loopback listener.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if s.tls != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		// A path that climbs is refused here, before the router would
		// clean it into a redirect.
		if dotSegment(r.URL.Path) || dotSegment(r.URL.EscapedPath()) {
			writeJSON(w, http.StatusNotFound, &Error{Message: "not found"})
			return
		}
		if !s.exposed && !loopbackHost(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, &Error{Message: "this server answers loopback names only", Field: "Host"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func stack() string { return string(debug.Stack()) }

// dotSegment reports whether a path has a "." or ".." segment, with /
// or \ (or their escapes) as separators.
func dotSegment(p string) bool {
	p = strings.NewReplacer("%2f", "/", "%2F", "/", "%5c", "/", "%5C", "/", "\\", "/", "%2e", ".", "%2E", ".").Replace(p)
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// whoami says who the caller is, for the console.
func (s *Server) whoami(_ *http.Request, who principal) (any, error) {
	role := who.role
	if role == RoleNone {
		role = RoleReadOnly
	}
	return map[string]any{"name": who.name, "role": role.String(), "authenticated": who.role != RoleNone,
		"auth_required": s.requireAuth, "tls": s.tls != nil, "api": "v1"}, nil
}
