package server

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/server/store"
)

// serveAPI serves the read API:
//
//	GET /api/v1/alerts?node=&rule=&priority=&since=&until=&limit=&cursor=
//	GET /api/v1/agents
//	GET /api/v1/rejects
//
// On loopback it needs nothing; anywhere else the configuration has
// required a bearer token and TLS, the agent console's model.
func (s *Server) serveAPI() error {
	a := s.cfg.API
	var token []byte
	if a.TokenFile != "" {
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return err
		}
		if token = []byte(strings.TrimSpace(string(b))); len(token) == 0 {
			return errors.New("token_file is empty")
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/alerts", s.getAlerts)
	mux.HandleFunc("GET /api/v1/agents", s.getAgents)
	mux.HandleFunc("GET /api/v1/rejects", s.getRejects)
	ln, err := net.Listen("tcp", a.Addr)
	if err != nil {
		return err
	}
	s.apiAddr = ln.Addr().String()
	s.api = &http.Server{Handler: requireToken(token, mux), ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go func() {
		var err error
		if a.CertFile != "" {
			err = s.api.ServeTLS(ln, a.CertFile, a.KeyFile)
		} else {
			err = s.api.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server: api stopped", "error", err.Error())
		}
	}()
	return nil
}

// requireToken checks the bearer token, in constant time, when one is set.
func requireToken(token []byte, next http.Handler) http.Handler {
	if token == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			httpError(w, http.StatusUnauthorized, "a bearer token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) getAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AlertFilter{Node: q.Get("node"), Rule: q.Get("rule"), Priority: q.Get("priority"), Cursor: q.Get("cursor")}
	for key, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(key); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				httpError(w, http.StatusBadRequest, key+": want an RFC 3339 time")
				return
			}
			*dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPage {
			httpError(w, http.StatusBadRequest, "limit: want 1 to "+strconv.Itoa(store.MaxPage))
			return
		}
		f.Limit = n
	}
	page, err := s.store.Alerts(r.Context(), f)
	if errors.Is(err, store.ErrCursor) {
		httpError(w, http.StatusBadRequest, "cursor: not one this API returned")
		return
	}
	if err != nil {
		s.log.Warn("server: alerts query failed", "error", err.Error())
		httpError(w, http.StatusServiceUnavailable, "the database did not answer")
		return
	}
	writeJSON(w, page)
}

func (s *Server) getAgents(w http.ResponseWriter, r *http.Request) {
	agents, err := s.store.Agents(r.Context())
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "the database did not answer")
		return
	}
	if agents == nil {
		agents = []store.AgentState{}
	}
	writeJSON(w, map[string]any{"agents": agents})
}

func (s *Server) getRejects(w http.ResponseWriter, r *http.Request) {
	rej, err := s.store.Rejects(r.Context())
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "the database did not answer")
		return
	}
	writeJSON(w, map[string]any{"rejects": rej})
}

func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(data, '\n')) // as json.Encoder writes it
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// A map of strings always encodes; a failed write means the client
	// went away.
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
