package store

import (
	"database/sql"
	"errors"
	"fmt"
)

// Workload is a workload's row: its identity, mode and times (Unix
// nanoseconds).
type Workload struct {
	ID          string
	Name        string
	Kind        string
	Inferred    bool
	Mode        string
	Created     int64
	LearnSince  int64
	ModeChanged int64
	LastChange  int64
}

// Item is one entry of a baseline (see baseline.Item for what A and B
// hold in each dimension).
type Item struct {
	Dim       string
	A, B      string
	FirstSeen int64
}

// Record is a workload and its items.
type Record struct {
	Workload
	Items []Item
}

// Op is what a Change does.
type Op uint8

// Operations.
const (
	// OpPutWorkload inserts or replaces the workload's row.
	OpPutWorkload Op = iota + 1
	// OpDeleteWorkload removes the workload and its items.
	OpDeleteWorkload
	// OpClearItems removes the workload's items and keeps its row.
	OpClearItems
	// OpAddItem adds an item (keeping the first-seen time of an existing one).
	OpAddItem
	// OpDeleteItem removes an item.
	OpDeleteItem
)

// Change is one write.
type Change struct {
	Op       Op
	Workload Workload // the row for OpPutWorkload; only ID for the others
	Item     Item
}

// Apply writes changes in one transaction, in order.
func (s *Store) Apply(changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := apply(tx, changes); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

func apply(tx *sql.Tx, changes []Change) error {
	stmts := map[Op]string{
		OpPutWorkload: `INSERT INTO workloads (id, name, kind, inferred, mode, created, learn_since, mode_changed, last_change)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, inferred = excluded.inferred,
			mode = excluded.mode, created = excluded.created, learn_since = excluded.learn_since,
			mode_changed = excluded.mode_changed, last_change = excluded.last_change`,
		OpClearItems: `DELETE FROM items WHERE workload = ?`,
		OpAddItem:    `INSERT OR IGNORE INTO items (workload, dim, a, b, first_seen) VALUES (?, ?, ?, ?, ?)`,
		OpDeleteItem: `DELETE FROM items WHERE workload = ? AND dim = ? AND a = ? AND b = ?`,
	}
	prepared := map[Op]*sql.Stmt{}
	defer func() {
		for _, st := range prepared {
			_ = st.Close() // a statement holds no data: Commit reports what was written
		}
	}()
	stmt := func(op Op) (*sql.Stmt, error) {
		if st := prepared[op]; st != nil {
			return st, nil
		}
		st, err := tx.Prepare(stmts[op])
		if err != nil {
			return nil, err
		}
		prepared[op] = st
		return st, nil
	}
	for _, c := range changes {
		w, it := &c.Workload, &c.Item
		var err error
		switch c.Op {
		case OpPutWorkload:
			var st *sql.Stmt
			if st, err = stmt(c.Op); err == nil {
				_, err = st.Exec(w.ID, w.Name, w.Kind, w.Inferred, w.Mode, w.Created, w.LearnSince, w.ModeChanged, w.LastChange)
			}
		case OpDeleteWorkload:
			if _, err = tx.Exec(`DELETE FROM items WHERE workload = ?`, w.ID); err == nil {
				_, err = tx.Exec(`DELETE FROM workloads WHERE id = ?`, w.ID)
			}
		case OpClearItems:
			var st *sql.Stmt
			if st, err = stmt(c.Op); err == nil {
				_, err = st.Exec(w.ID)
			}
		case OpAddItem:
			var st *sql.Stmt
			if st, err = stmt(c.Op); err == nil {
				_, err = st.Exec(w.ID, it.Dim, it.A, it.B, it.FirstSeen)
			}
		case OpDeleteItem:
			var st *sql.Stmt
			if st, err = stmt(c.Op); err == nil {
				_, err = st.Exec(w.ID, it.Dim, it.A, it.B)
			}
		default:
			err = fmt.Errorf("unknown operation %d", c.Op)
		}
		if err != nil {
			return fmt.Errorf("baseline store: %s: %w", c.Workload.ID, err)
		}
	}
	return nil
}

// Load returns every workload with its items, ordered by id. Items of a
// workload without a row (left by a write that was dropped) are skipped.
func (s *Store) Load() ([]Record, error) {
	return s.load("")
}

// Get returns one workload.
func (s *Store) Get(id string) (Record, bool, error) {
	recs, err := s.load(id)
	if err != nil || len(recs) == 0 {
		return Record{}, false, err
	}
	return recs[0], true, nil
}

func (s *Store) load(only string) ([]Record, error) {
	where := ""
	var args []any
	if only != "" {
		where, args = " WHERE id = ?", []any{only}
	}
	rows, err := s.db.Query(`SELECT id, name, kind, inferred, mode, created, learn_since, mode_changed, last_change
		FROM workloads`+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	var recs []Record
	index := map[string]int{}
	for rows.Next() {
		var r Record
		w := &r.Workload
		if err := rows.Scan(&w.ID, &w.Name, &w.Kind, &w.Inferred, &w.Mode, &w.Created, &w.LearnSince, &w.ModeChanged, &w.LastChange); err != nil {
			_ = rows.Close() // read-only: the scan error is the one to report
			return nil, err
		}
		index[w.ID] = len(recs)
		recs = append(recs, r)
	}
	_ = rows.Close() // read-only; rows.Err reports what reading found
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if only != "" {
		where = " WHERE workload = ?"
	}
	rows, err = s.db.Query(`SELECT workload, dim, a, b, first_seen FROM items`+where+` ORDER BY workload, dim, a, b`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close() //nolint:errcheck // read-only; rows.Err reports what reading found
	for rows.Next() {
		var id string
		var it Item
		if err := rows.Scan(&id, &it.Dim, &it.A, &it.B, &it.FirstSeen); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			recs[i].Items = append(recs[i].Items, it)
		}
	}
	return recs, rows.Err()
}
