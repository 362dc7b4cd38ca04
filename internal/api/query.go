package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigilsec/vigil/internal/workload"
)

// Limits on every query parameter.
const (
	maxParamLen    = 512
	maxParamValues = 32
	maxQueryLen    = 8192
)

// params reads a query strictly: unknown parameters, repeated
// single-valued ones, values that are too long, not UTF-8 or hold
// control characters are errors naming the parameter.
type params struct {
	v url.Values
}

func parseParams(raw string, allowed ...string) (*params, error) {
	if len(raw) > maxQueryLen {
		return nil, badParam("", "query longer than %d bytes", maxQueryLen)
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badParam("", "malformed query: %v", err)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range v {
			if !yield(k) {
				return
			}
		}
	}) {
		if !slices.Contains(allowed, k) {
			return nil, badParam(printable(k), "unknown parameter")
		}
		if len(v[k]) > maxParamValues {
			return nil, badParam(k, "more than %d values", maxParamValues)
		}
		for _, s := range v[k] {
			if len(s) > maxParamLen {
				return nil, badParam(k, "longer than %d bytes", maxParamLen)
			}
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, badParam(k, "not printable UTF-8")
			}
		}
	}
	return &params{v: v}, nil
}

// printable makes a parameter name safe to echo.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s), "?")
}

// one returns a single-valued parameter ("" when absent).
func (p *params) one(name string) (string, error) {
	vs := p.v[name]
	if len(vs) > 1 {
		return "", badParam(name, "given more than once")
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

// list returns every value, each comma-separated list split, empty
// items dropped.
func (p *params) list(name string) []string {
	var out []string
	for _, v := range p.v[name] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// all returns every value as given (for values that may hold commas).
func (p *params) all(name string) []string {
	var out []string
	for _, v := range p.v[name] {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (p *params) intIn(name string, def, lo, hi int) (int, error) {
	s, err := p.one(name)
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "want a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

func (p *params) time(name string) (time.Time, error) {
	s, err := p.one(name)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badParam(name, "want an RFC 3339 time, like 2026-05-01T10:00:00Z")
	}
	return t, nil
}

func (p *params) boolean(name string, def bool) (bool, error) {
	s, err := p.one(name)
	if err != nil || s == "" {
		return def, err
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badParam(name, "want true or false")
	}
	return b, nil
}

func (p *params) enum(name, def string, values ...string) (string, error) {
	s, err := p.one(name)
	if err != nil || s == "" {
		return def, err
	}
	if !slices.Contains(values, s) {
		return "", badParam(name, "want one of %s", strings.Join(values, ", "))
	}
	return s, nil
}

// workloadIDs validates workload ids.
func (p *params) workloadIDs(name string) ([]string, error) {
	ids := p.all(name)
	for _, id := range ids {
		if _, err := workload.Parse(id); err != nil {
			return nil, badParam(name, "%q is not a workload id (k8s/..., image/..., host/...)", id)
		}
	}
	return ids, nil
}

// Priorities in Falco's order, most severe first.
var priorities = []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// priorityIndex returns a priority's rank (0 is Emergency), ignoring
// case; "info" is Informational.
func priorityIndex(s string) (int, bool) {
	if strings.EqualFold(s, "info") {
		s = "Informational"
	}
	for i, p := range priorities {
		if strings.EqualFold(p, s) {
			return i, true
		}
	}
	return 0, false
}

// alertQuery selects alerts.
type alertQuery struct {
	Priorities  []int // exact priorities; empty: any
	MinPriority int   // least severe priority kept (index); len(priorities) for any
	Rules       []string
	Workloads   []string
	Namespaces  []string
	Text        string // lower case
	Since       time.Time
	Until       time.Time
	Cursor      uint64 // alerts older than this id; 0 for the newest
	Limit       int
}

// alertParams are the parameters parseAlertQuery accepts.
var alertParams = []string{"priority", "min_priority", "rule", "workload", "namespace", "q", "since", "until", "cursor", "limit"}

// parseAlertQuery reads the alert filters. stream is for the stream,
// which takes no cursor or limit.
func parseAlertQuery(raw string, stream bool) (alertQuery, error) {
	allowed := alertParams
	if stream {
		allowed = alertParams[:8]
	}
	p, err := parseParams(raw, allowed...)
	if err != nil {
		return alertQuery{}, err
	}
	q := alertQuery{MinPriority: len(priorities), Rules: p.all("rule"), Namespaces: p.list("namespace")}
	for _, s := range p.list("priority") {
		i, ok := priorityIndex(s)
		if !ok {
			return q, badParam("priority", "%q: want %s", s, strings.Join(priorities, ", "))
		}
		if !slices.Contains(q.Priorities, i) {
			q.Priorities = append(q.Priorities, i)
		}
	}
	slices.Sort(q.Priorities)
	if s, err := p.one("min_priority"); err != nil {
		return q, err
	} else if s != "" {
		i, ok := priorityIndex(s)
		if !ok {
			return q, badParam("min_priority", "%q: want %s", s, strings.Join(priorities, ", "))
		}
		q.MinPriority = i
	}
	if q.Workloads, err = p.workloadIDs("workload"); err != nil {
		return q, err
	}
	text, err := p.one("q")
	if err != nil {
		return q, err
	}
	q.Text = strings.ToLower(strings.TrimSpace(text))
	if q.Since, err = p.time("since"); err != nil {
		return q, err
	}
	if q.Until, err = p.time("until"); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, badParam("until", "before since")
	}
	if stream {
		return q, nil
	}
	if c, err := p.one("cursor"); err != nil {
		return q, err
	} else if c != "" {
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil || n == 0 || c[0] == '0' {
			return q, badParam("cursor", "not a cursor this API returned")
		}
		q.Cursor = n
	}
	q.Limit, err = p.intIn("limit", 50, 1, 500)
	return q, err
}

// encode writes q back as a query string: parseAlertQuery(q.encode())
// gives q again.
func (q *alertQuery) encode(stream bool) string {
	v := url.Values{}
	for _, i := range q.Priorities {
		v.Add("priority", priorities[i])
	}
	if q.MinPriority < len(priorities) {
		v.Set("min_priority", priorities[q.MinPriority])
	}
	for _, r := range q.Rules {
		v.Add("rule", r)
	}
	for _, w := range q.Workloads {
		v.Add("workload", w)
	}
	if len(q.Namespaces) > 0 {
		v.Set("namespace", strings.Join(q.Namespaces, ","))
	}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	if !stream {
		if q.Cursor != 0 {
			v.Set("cursor", strconv.FormatUint(q.Cursor, 10))
		}
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v.Encode()
}
