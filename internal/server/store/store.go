// Package store is the server's PostgreSQL schema and queries: alerts
// from every node in daily partitions with idempotent inserts keyed by
// message id, the state of each node's agent, and the counts of refused
// messages. Migrations are embedded and applied at start.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store writes to and reads from one PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool

	mu    sync.Mutex
	parts map[string]bool // daily partitions known to exist, by name
}

// Open connects to url with at most maxConns connections and applies the
// migrations.
func Open(ctx context.Context, url string, maxConns int) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	cfg.MaxConns = int32(maxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if _, err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, parts: map[string]bool{}}, nil
}

// Pool is the connection pool, for tests and health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// AlertRow is one alert to store.
type AlertRow struct {
	MsgID, Node, Agent               string
	Time                             time.Time
	Rule, Priority, Source, Hostname string
	ContainerID, Namespace, Pod      string
	Body                             json.RawMessage
}

// InsertAlerts stores rows in one statement; rows whose message id is
// already stored are skipped. It returns how many were new. Daily
// partitions are created as needed.
func (s *Store) InsertAlerts(ctx context.Context, rows []AlertRow) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if err := s.ensureDays(ctx, rows); err != nil {
		return 0, err
	}
	n, err := s.insert(ctx, rows)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23514" { // no partition: another replica's retention dropped one
		s.mu.Lock()
		s.parts = map[string]bool{}
		s.mu.Unlock()
		if err := s.ensureDays(ctx, rows); err != nil {
			return 0, err
		}
		n, err = s.insert(ctx, rows)
	}
	return n, err
}

func (s *Store) insert(ctx context.Context, rows []AlertRow) (int64, error) {
	n := len(rows)
	times := make([]time.Time, n)
	cols := make([][]string, 11)
	for i := range cols {
		cols[i] = make([]string, n)
	}
	for i, r := range rows {
		times[i] = r.Time
		for j, v := range []string{r.MsgID, r.Node, r.Agent, r.Rule, r.Priority, r.Source, r.Hostname,
			r.ContainerID, r.Namespace, r.Pod, string(r.Body)} {
			cols[j][i] = v
		}
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO alerts (time, msg_id, node, agent, rule, priority, source, hostname,
		container_id, k8s_ns, k8s_pod, body)
		SELECT t, id, n, a, r, p, so, h, c, ns, pod, b::jsonb FROM unnest($1::timestamptz[], $2::text[], $3::text[],
			$4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
			AS u(t, id, n, a, r, p, so, h, c, ns, pod, b)
		ON CONFLICT DO NOTHING`,
		times, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9], cols[10])
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// partitionLock serialises partition DDL between replicas.
const partitionLock = 0x766967696d

func partName(day time.Time) string { return "alerts_" + day.UTC().Format("20060102") }

// ensureDays creates the daily partitions rows fall in that are not known
// to exist.
func (s *Store) ensureDays(ctx context.Context, rows []AlertRow) error {
	var need []time.Time
	s.mu.Lock()
	seen := map[string]bool{}
	for _, r := range rows {
		day := r.Time.UTC().Truncate(24 * time.Hour)
		if name := partName(day); !s.parts[name] && !seen[name] {
			seen[name] = true
			need = append(need, day)
		}
	}
	s.mu.Unlock()
	return s.EnsurePartitions(ctx, need...)
}

// EnsurePartitions creates the partitions of the given days (UTC) if
// they do not exist.
func (s *Store) EnsurePartitions(ctx context.Context, days ...time.Time) error {
	if len(days) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(partitionLock)); err != nil {
			return err
		}
		for _, d := range days {
			d = d.UTC().Truncate(24 * time.Hour)
			sql := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF alerts FOR VALUES FROM ('%s') TO ('%s')",
				partName(d), d.Format(time.RFC3339), d.Add(24*time.Hour).Format(time.RFC3339))
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("alert partitions: %w", err)
	}
	s.mu.Lock()
	for _, d := range days {
		s.parts[partName(d.UTC().Truncate(24*time.Hour))] = true
	}
	s.mu.Unlock()
	return nil
}

// DropBefore drops the daily partitions wholly before cutoff and returns
// their names.
func (s *Store) DropBefore(ctx context.Context, cutoff time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'alerts' ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var dropped []string
	limit := partName(cutoff.UTC().Truncate(24 * time.Hour))
	for _, n := range names {
		if len(n) != len(limit) || n >= limit {
			continue
		}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(partitionLock)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
			return err
		})
		if err != nil {
			return dropped, err
		}
		dropped = append(dropped, n)
		s.mu.Lock()
		delete(s.parts, n)
		s.mu.Unlock()
	}
	return dropped, nil
}

// CountReject records a refused message.
func (s *Store) CountReject(ctx context.Context, reason, detail string) error {
	if len(detail) > 500 {
		detail = detail[:500]
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO rejects (reason, count, last, detail) VALUES ($1, 1, now(), $2)
		ON CONFLICT (reason) DO UPDATE SET count = rejects.count + 1, last = now(), detail = excluded.detail`, reason, detail)
	return err
}
