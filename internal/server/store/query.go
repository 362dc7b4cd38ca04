package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AlertFilter selects alerts; empty fields match everything.
type AlertFilter struct {
	Node, Rule, Priority string
	Since, Until         time.Time
	// Cursor continues a previous page (its NextCursor).
	Cursor string
	Limit  int
}

// StoredAlert is an alert as stored, with where it came from.
type StoredAlert struct {
	MsgID    string          `json:"msg_id"`
	Node     string          `json:"node"`
	Agent    string          `json:"agent"`
	Received time.Time       `json:"received"`
	Alert    json.RawMessage `json:"alert"`
	time     time.Time
}

// AlertPage is one page of alerts, newest first.
type AlertPage struct {
	Alerts []StoredAlert `json:"alerts"`
	// NextCursor fetches the next (older) page; empty on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// MaxPage bounds a page.
const MaxPage = 1000

// Alerts returns a page of alerts matching f, newest first, by keyset
// pagination on (time, msg_id), which the primary key and the filter
// indexes serve without counting skipped rows.
func (s *Store) Alerts(ctx context.Context, f AlertFilter) (AlertPage, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		f.Limit = 100
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Node != "" {
		where = append(where, "node = "+arg(f.Node))
	}
	if f.Rule != "" {
		where = append(where, "rule = "+arg(f.Rule))
	}
	if f.Priority != "" {
		where = append(where, "priority = "+arg(f.Priority))
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < "+arg(f.Until))
	}
	if f.Cursor != "" {
		t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return AlertPage{}, err
		}
		where = append(where, fmt.Sprintf("(time, msg_id) < (%s, %s)", arg(t), arg(id)))
	}
	q := "SELECT msg_id, node, agent, received, body, time FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time DESC, msg_id DESC LIMIT " + arg(f.Limit+1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return AlertPage{}, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StoredAlert, error) {
		var a StoredAlert
		err := r.Scan(&a.MsgID, &a.Node, &a.Agent, &a.Received, &a.Alert, &a.time)
		return a, err
	})
	if err != nil {
		return AlertPage{}, err
	}
	page := AlertPage{Alerts: list}
	if len(list) > f.Limit {
		page.Alerts = list[:f.Limit]
		last := page.Alerts[f.Limit-1]
		page.NextCursor = encodeCursor(last.time, last.MsgID)
	}
	if page.Alerts == nil {
		page.Alerts = []StoredAlert{}
	}
	return page, nil
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// ErrCursor is a cursor that is not one Alerts made.
var ErrCursor = errors.New("invalid cursor")

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", ErrCursor
	}
	ts, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", ErrCursor
	}
	return t, id, nil
}

// CountAlerts counts stored alerts, by node, for tests and benchmarks.
func (s *Store) CountAlerts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT node, count(*) FROM alerts GROUP BY node")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	var node string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&node, &n}, func() error { out[node] = n; return nil })
	return out, err
}

// Rejects returns the refused-message counts by reason.
func (s *Store) Rejects(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT reason, count FROM rejects")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	var reason string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&reason, &n}, func() error { out[reason] = n; return nil })
	return out, err
}
