package rpm

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // pure Go, so the binary stays static

	"github.com/vigilsec/vigil/internal/sbom/rpm/rpmdb"
)

// readSQLite returns the header blobs of an rpmdb.sqlite. The database is
// opened read-only and immutable: a scan must never take rpm's locks or
// write a journal into the target.
func readSQLite(ctx context.Context, file string) ([][]byte, error) {
	u := url.URL{Scheme: "file", Path: file, RawQuery: "mode=ro&immutable=1"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	defer db.Close() //nolint:errcheck // read-only: closing loses nothing
	rows, err := db.QueryContext(ctx, "SELECT blob FROM Packages")
	if err != nil {
		return nil, fmt.Errorf("query Packages: %w", err)
	}
	defer rows.Close() //nolint:errcheck // read-only; rows.Err reports what reading found
	var blobs [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read Packages row: %w", err)
		}
		if len(b) > rpmdb.MaxBlob {
			return nil, fmt.Errorf("header blob of %d bytes", len(b))
		}
		blobs = append(blobs, b)
	}
	return blobs, rows.Err()
}
