// Package store keeps learned baselines and workload modes on disk, in an
// embedded SQLite database (modernc.org/sqlite, pure Go, so the binary
// stays static).
//
// The database runs in WAL mode with synchronous=FULL: every commit is on
// disk when it returns, and a crash (of the agent or of the machine) can
// lose only what was not committed yet. Writes from the event path go
// through a Writer, which batches them into one transaction at most every
// flush interval (1s by default), so the event path never waits on the
// disk. A file that is not a usable database is moved aside and replaced
// by an empty one, so that a damaged store never stops the agent: Open
// then returns the new store together with a *CorruptError.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// FileName is the store's file inside its directory.
const FileName = "baselines.db"

// SchemaVersion is the version of the schema this code writes; older
// stores are migrated on open.
const SchemaVersion = 1

// migrations[i] takes a store from version i to i+1.
var migrations = []string{
	`CREATE TABLE workloads (
		id           TEXT PRIMARY KEY,
		name         TEXT NOT NULL,
		kind         TEXT NOT NULL,
		inferred     INTEGER NOT NULL DEFAULT 0,
		mode         TEXT NOT NULL,
		created      INTEGER NOT NULL,
		learn_since  INTEGER NOT NULL,
		mode_changed INTEGER NOT NULL,
		last_change  INTEGER NOT NULL
	) STRICT;
	CREATE TABLE items (
		workload   TEXT NOT NULL,
		dim        TEXT NOT NULL,
		a          TEXT NOT NULL,
		b          TEXT NOT NULL,
		first_seen INTEGER NOT NULL,
		PRIMARY KEY (workload, dim, a, b)
	) STRICT, WITHOUT ROWID;`,
}

// Store is an open store. Its methods are safe for concurrent use; they
// are serialised on one connection.
type Store struct {
	db   *sql.DB
	path string
}

// CorruptError says the store file could not be used and was moved
// aside; the Store returned with it is a fresh, empty one.
type CorruptError struct {
	Path    string // the store file
	MovedTo string // where the unusable file now is
	Cause   error
}

// Error says what happened to the store, for an alert.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("baseline store %s is unreadable (%v); moved it to %s and started an empty store", e.Path, e.Cause, e.MovedTo)
}

// Unwrap returns why the store was unreadable.
func (e *CorruptError) Unwrap() error { return e.Cause }

// ErrNewerSchema is returned for a store written by a newer Vigil: it is
// left alone, since moving it aside would lose it on a downgrade.
var ErrNewerSchema = errors.New("baseline store has a newer schema than this Vigil understands")

// Open opens the store in dir (created with mode 0700), creating the file
// (mode 0600) if needed. On a *CorruptError the returned store is usable.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("baseline store: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("baseline store: %w", err)
	}
	return OpenFile(filepath.Join(dir, FileName))
}

// OpenFile is Open for a file path; its directory must exist.
func OpenFile(path string) (*Store, error) {
	s, err := open(path)
	if err == nil || !isCorrupt(err) {
		return s, err
	}
	moved, merr := moveAside(path)
	if merr != nil {
		return nil, fmt.Errorf("baseline store %s is unreadable (%v) and could not be moved aside: %w", path, err, merr)
	}
	s, err2 := open(path)
	if err2 != nil {
		return nil, fmt.Errorf("baseline store %s: fresh store after moving a corrupt one aside: %w", path, err2)
	}
	return s, &CorruptError{Path: path, MovedTo: moved, Cause: err}
}

func open(path string) (*Store, error) {
	// Create the file ourselves so that it never exists with wider
	// permissions; SQLite gives the WAL and shared-memory files the
	// database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("baseline store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("baseline store: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("baseline store: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	if err := s.check(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if err := s.migrate(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// check verifies the file is a sound database.
func (s *Store) check() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return err
	}
	defer rows.Close() //nolint:errcheck // read-only; rows.Err reports what reading found
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return &integrityError{problems}
	}
	return nil
}

type integrityError struct{ problems []string }

func (e *integrityError) Error() string {
	if len(e.problems) > 3 {
		return "integrity check: " + strings.Join(e.problems[:3], "; ") + "; ..."
	}
	return "integrity check: " + strings.Join(e.problems, "; ")
}

func (s *Store) migrate() error {
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w: %s is version %d, this Vigil writes %d", ErrNewerSchema, s.path, v, SchemaVersion)
	}
	if v < 0 {
		return &integrityError{[]string{fmt.Sprintf("schema version %d", v)}}
	}
	for ; v < SchemaVersion; v++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[v]); err != nil {
			return errors.Join(fmt.Errorf("migrate the baseline store to version %d: %w", v+1, err), tx.Rollback())
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			return errors.Join(err, tx.Rollback())
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return s.checkTables()
}

// checkTables makes sure a store that claims the current version has the
// tables of it: a file with a version but other content is corrupt.
func (s *Store) checkTables() error {
	for _, t := range []string{"workloads", "items"} {
		var n int
		if err := s.db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", t).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return &integrityError{[]string{"table " + t + " is missing"}}
		}
	}
	return nil
}

// isCorrupt tells a damaged file from other failures (permissions, a
// full disk, a newer schema), which must not lead to moving it aside.
func isCorrupt(err error) bool {
	if ie := (*integrityError)(nil); errors.As(err, &ie) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return true
		}
	}
	return false
}

// moveAside renames the store file and its WAL and shared-memory files
// to <path>.corrupt-<UTC time>.
func moveAside(path string) (string, error) {
	dst := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	if err := os.Rename(path, dst); err != nil {
		return "", err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Rename(path+suffix, dst+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return dst, err
		}
	}
	return dst, nil
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// IntegrityCheck runs SQLite's full integrity check.
func (s *Store) IntegrityCheck() error {
	var res string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return &integrityError{[]string{res}}
	}
	return nil
}
