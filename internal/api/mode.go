package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/baseline"
)

// maxBody bounds a request body.
const maxBody = 4 << 10

// decodeBody reads a JSON body strictly: the content type must say JSON
// (which a cross-site form cannot send), unknown fields and trailing
// data are errors.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type", "want application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var field string
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return errorf(http.StatusRequestEntityTooLarge, "", "body larger than %d bytes", maxBody)
		case errors.As(err, &typeErr):
			field = typeErr.Field
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badParam(field, "unknown field")
		}
		return badParam(field, "body is not the expected JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badParam("", "body has data after the JSON object")
	}
	return nil
}

// modeRequest is the body of POST /api/v1/workloads/{id}/mode.
type modeRequest struct {
	Mode string `json:"mode"`
}

// setMode changes a workload's baseline mode (admin only). Every change
// is logged and raises an audit alert.
func (s *Server) setMode(r *http.Request, who principal) (any, error) {
	id, err := workloadParam(r)
	if err != nil {
		return nil, err
	}
	if _, err := parseParams(r.URL.RawQuery); err != nil {
		return nil, err
	}
	var req modeRequest
	if err := decodeBody(nil, r, &req); err != nil {
		return nil, err
	}
	m, ok := baseline.ParseMode(req.Mode)
	if !ok || req.Mode != strings.ToLower(req.Mode) {
		return nil, badParam("mode", "want learn, monitor or protect")
	}
	if s.src.Baselines == nil {
		return nil, errorf(http.StatusConflict, "", "baselines are not enabled")
	}
	prev, ok := s.src.Baselines.Mode(id)
	if !ok {
		return nil, notFound("workload %s has no baseline", id)
	}
	if err := s.src.Baselines.SetMode(id, m); err != nil {
		switch {
		case errors.Is(err, baseline.ErrProtectNotAllowed):
			return nil, errorf(http.StatusConflict, "mode", "%v", err)
		case errors.Is(err, baseline.ErrUnknownWorkload):
			return nil, notFound("workload %s has no baseline", id)
		}
		return nil, err
	}
	s.audit(r, who, "set_mode", id, map[string]any{"baseline.mode.from": prev.String(), "baseline.mode.to": m.String()},
		"workload "+id+" mode "+prev.String()+" -> "+m.String())
	return map[string]string{"workload": id, "mode": m.String(), "previous": prev.String()}, nil
}

// AuditRule is the rule name of the audit alerts.
const AuditRule = "Vigil API: state changed"

// audit logs a state change and raises its audit alert.
func (s *Server) audit(r *http.Request, who principal, action, wid string, fields map[string]any, what string) {
	s.log.Info("api: state changed", "action", action, "workload", wid, "by", who.name, "role", who.role.String(),
		"remote", r.RemoteAddr, "what", what)
	of := map[string]any{"api.action": action, "api.user": who.name, "api.role": who.role.String(),
		"api.remote": r.RemoteAddr, "baseline.workload": wid}
	for k, v := range fields {
		of[k] = v
	}
	a := &alert.Alert{
		Time: s.opts.Now().UTC(), Rule: AuditRule, Priority: "Notice", Source: "vigil-api", Hostname: s.opts.Hostname,
		Output:       "Vigil API: " + what + " (by=" + who.name + " role=" + who.role.String() + " remote=" + r.RemoteAddr + ")",
		Tags:         []string{"audit", "api"},
		OutputFields: of,
		Context:      alert.Context{Process: alert.Process{Ancestors: []string{}}},
	}
	if s.opts.Audit != nil {
		s.opts.Audit(a)
		return
	}
	s.Emit(a)
}
