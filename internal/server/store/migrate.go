package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key that serialises migrations
// between replicas starting at once ("vigil" in ASCII).
const migrationLock = 0x766967696c

// Migrate applies the embedded migrations not yet applied, each in its
// own transaction, under an advisory lock, so two replicas starting at
// once apply each migration once. It returns the schema version.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (_ int, err error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("migrations: lock: %w", err)
	}
	defer func() {
		// The lock belongs to the session, which goes back to the pool:
		// left held, it would stop every later migration.
		if _, uerr := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrationLock)); uerr != nil {
			err = errors.Join(err, fmt.Errorf("migrations: unlock: %w", uerr))
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	version := 0
	for _, f := range files {
		name := strings.TrimPrefix(f, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return 0, fmt.Errorf("migrations: %s: no version number", name)
		}
		var done bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", v).Scan(&done); err != nil {
			return 0, fmt.Errorf("migrations: %w", err)
		}
		if !done {
			sql, _ := migrations.ReadFile(f)
			if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, string(sql)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", v, name)
				return err
			}); err != nil {
				return 0, fmt.Errorf("migration %s: %w", name, err)
			}
		}
		version = v
	}
	return version, nil
}
