package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error is the body of every error response:
// {"error": "...", "field": "..."}; field names the parameter at fault,
// when one is.
type Error struct {
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`

	status int
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func errorf(status int, field, format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Field: field, status: status}
}

// badParam is a 400 for one parameter.
func badParam(field, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, field, format, args...)
}

func notFound(format string, args ...any) *Error {
	return errorf(http.StatusNotFound, "", format, args...)
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// writeError writes err: an *Error as itself, anything else as a 500
// whose details go to the log only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if errors.As(err, &e) {
		if e.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
		}
		writeJSON(w, e.status, e)
		return
	}
	s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, &Error{Message: "internal error"})
}

// recoverer turns a panic in a handler into a 500 with a JSON body; the
// stack goes to the log, never to the client.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v,
					slog.Any("stack", stack()))
				writeJSON(w, http.StatusInternalServerError, &Error{Message: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
