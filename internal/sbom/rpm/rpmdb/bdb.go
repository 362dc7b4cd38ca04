package rpmdb

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Berkeley DB hash databases (rpm's Packages before 4.16): page 0 is the
// hash metadata; hash pages hold key/value items, and rpm's header blobs,
// being large, normally sit in chains of overflow pages that an "off-page"
// item points at. The byte order is the writer's, told by the magic.
const (
	bdbHashMagic      = 0x061561
	bdbPageHeaderSize = 26
	bdbPageHashUnsort = 2
	bdbPageOverflow   = 7
	bdbPageHash       = 13
	bdbItemKeyData    = 1
	bdbItemOffPage    = 3
	bdbOffPageSize    = 12
	// bdbMaxPages bounds the file a corrupt header can make us walk.
	bdbMaxPages = 1 << 22
)

type bdb struct {
	r        io.ReaderAt
	order    binary.ByteOrder
	pageSize uint32
	lastPage uint32
}

// ReadBDB returns the values (header blobs) of a Berkeley DB hash file.
func ReadBDB(r io.ReaderAt, size int64) ([][]byte, error) {
	var meta [512]byte
	if _, err := r.ReadAt(meta[:], 0); err != nil {
		return nil, fmt.Errorf("read bdb metadata: %w", err)
	}
	db := &bdb{r: r}
	switch {
	case binary.LittleEndian.Uint32(meta[12:]) == bdbHashMagic:
		db.order = binary.LittleEndian
	case binary.BigEndian.Uint32(meta[12:]) == bdbHashMagic:
		db.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("not a Berkeley DB hash database (bad magic)")
	}
	db.pageSize = db.order.Uint32(meta[20:])
	if db.pageSize < 512 || db.pageSize > 64<<10 || db.pageSize&(db.pageSize-1) != 0 {
		return nil, fmt.Errorf("bdb page size %d", db.pageSize)
	}
	db.lastPage = db.order.Uint32(meta[32:])
	if db.lastPage > bdbMaxPages || int64(db.lastPage+1)*int64(db.pageSize) > size {
		return nil, fmt.Errorf("bdb claims %d pages of %d bytes, the file has %d bytes", db.lastPage+1, db.pageSize, size)
	}
	page := make([]byte, db.pageSize)
	var blobs [][]byte
	for pg := uint32(1); pg <= db.lastPage; pg++ {
		if _, err := r.ReadAt(page, int64(pg)*int64(db.pageSize)); err != nil {
			return nil, fmt.Errorf("read bdb page %d: %w", pg, err)
		}
		if t := page[25]; t != bdbPageHash && t != bdbPageHashUnsort {
			continue
		}
		vals, err := db.values(page)
		if err != nil {
			return nil, fmt.Errorf("bdb page %d: %w", pg, err)
		}
		blobs = append(blobs, vals...)
	}
	return blobs, nil
}

// values returns the values of a hash page: items come in key/value
// pairs, so the odd-numbered ones.
func (db *bdb) values(page []byte) ([][]byte, error) {
	n := int(db.order.Uint16(page[20:]))
	if bdbPageHeaderSize+2*n > len(page) {
		return nil, fmt.Errorf("%d entries overflow the page", n)
	}
	offset := func(i int) int { return int(db.order.Uint16(page[bdbPageHeaderSize+2*i:])) }
	var out [][]byte
	for i := 1; i < n; i += 2 {
		off, end := offset(i), offset(i-1)
		if off < bdbPageHeaderSize+2*n || off >= end || end > len(page) {
			return nil, fmt.Errorf("item %d at %d..%d is outside the page", i, off, end)
		}
		if keyOff := offset(i - 1); isZeroKey(page, keyOff, i-1, offset) {
			continue // record 0 holds rpm's next header number, not a header
		}
		switch page[off] {
		case bdbItemKeyData:
			out = append(out, append([]byte(nil), page[off+1:end]...))
		case bdbItemOffPage:
			if end-off < bdbOffPageSize {
				return nil, fmt.Errorf("item %d: short off-page reference", i)
			}
			v, err := db.overflow(db.order.Uint32(page[off+4:]), db.order.Uint32(page[off+8:]))
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// isZeroKey reports whether item k is the inline 4-byte key 0.
func isZeroKey(page []byte, off, k int, offset func(int) int) bool {
	end := len(page)
	if k > 0 {
		end = offset(k - 1)
	}
	if off < 0 || end > len(page) || end-off != 5 || page[off] != bdbItemKeyData {
		return false
	}
	return page[off+1]|page[off+2]|page[off+3]|page[off+4] == 0
}

// overflow follows a chain of overflow pages for total bytes. Each page
// is visited at most once, so a looping chain ends with an error.
func (db *bdb) overflow(pg, total uint32) ([]byte, error) {
	if total > MaxBlob {
		return nil, fmt.Errorf("value of %d bytes", total)
	}
	out := make([]byte, 0, total)
	page := make([]byte, db.pageSize)
	seen := map[uint32]bool{}
	for uint32(len(out)) < total {
		if pg == 0 || pg > db.lastPage || seen[pg] {
			return nil, fmt.Errorf("overflow chain broken at page %d after %d of %d bytes", pg, len(out), total)
		}
		seen[pg] = true
		if _, err := db.r.ReadAt(page, int64(pg)*int64(db.pageSize)); err != nil {
			return nil, fmt.Errorf("read overflow page %d: %w", pg, err)
		}
		if page[25] != bdbPageOverflow {
			return nil, fmt.Errorf("page %d in an overflow chain has type %d", pg, page[25])
		}
		used := int(db.order.Uint16(page[22:])) // hf_offset holds the bytes used on overflow pages
		if bdbPageHeaderSize+used > len(page) || uint32(len(out)+used) > total {
			return nil, fmt.Errorf("overflow page %d claims %d bytes", pg, used)
		}
		out = append(out, page[bdbPageHeaderSize:bdbPageHeaderSize+used]...)
		pg = db.order.Uint32(page[16:])
	}
	return out, nil
}
