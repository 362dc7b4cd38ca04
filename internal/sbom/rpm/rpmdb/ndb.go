package rpmdb

import (
	"encoding/binary"
	"fmt"
	"io"
)

// NDB layout (rpm's lib/backend/ndb/rpmpkg.c): little-endian words; page 0
// starts with a 32-byte header, the first slotPages pages hold 16-byte
// slots (magic, package index, block offset, block count), and each blob
// sits in 16-byte blocks between a 16-byte head and a 12-byte tail.
const (
	ndbMagic     = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbPageSize  = 4096
	ndbSlotSize  = 16
	ndbBlockSize = 16
	ndbBlobHead  = 16
	ndbBlobTail  = 12
	// ndbMaxSlotPages bounds the slot area a corrupt header can claim:
	// 64 pages hold 16,382 packages.
	ndbMaxSlotPages = 64
	// MaxBlob bounds one header blob; rpm's own limit is 256 MiB, real
	// headers are far below 16 MiB.
	MaxBlob = 64 << 20
)

// ReadNDB returns the header blobs of an NDB Packages.db of the given size.
func ReadNDB(r io.ReaderAt, size int64) ([][]byte, error) {
	var hdr [32]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("read ndb header: %w", err)
	}
	if binary.LittleEndian.Uint32(hdr[0:]) != ndbMagic {
		return nil, fmt.Errorf("not an ndb database (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(hdr[4:]); v != 0 {
		return nil, fmt.Errorf("ndb version %d is not supported", v)
	}
	slotPages := binary.LittleEndian.Uint32(hdr[12:])
	if slotPages == 0 || slotPages > ndbMaxSlotPages {
		return nil, fmt.Errorf("ndb header claims %d slot pages", slotPages)
	}
	slots := make([]byte, int(slotPages)*ndbPageSize)
	if _, err := r.ReadAt(slots, 0); err != nil {
		return nil, fmt.Errorf("read ndb slots: %w", err)
	}
	var blobs [][]byte
	for off := 32; off < len(slots); off += ndbSlotSize {
		s := slots[off : off+ndbSlotSize]
		if binary.LittleEndian.Uint32(s) != ndbSlotMagic {
			return nil, fmt.Errorf("ndb slot at %d: bad magic", off)
		}
		pkgIdx := binary.LittleEndian.Uint32(s[4:])
		blkOff := binary.LittleEndian.Uint32(s[8:])
		blkCnt := binary.LittleEndian.Uint32(s[12:])
		if blkOff == 0 {
			continue // free slot
		}
		blob, err := readNDBBlob(r, size, pkgIdx, blkOff, blkCnt)
		if err != nil {
			return nil, fmt.Errorf("ndb package %d: %w", pkgIdx, err)
		}
		blobs = append(blobs, blob)
	}
	return blobs, nil
}

func readNDBBlob(r io.ReaderAt, size int64, pkgIdx, blkOff, blkCnt uint32) ([]byte, error) {
	start := int64(blkOff) * ndbBlockSize
	length := int64(blkCnt) * ndbBlockSize
	if length < ndbBlobHead+ndbBlobTail || start+length > size {
		return nil, fmt.Errorf("blocks %d+%d outside the file of %d bytes", blkOff, blkCnt, size)
	}
	var head [ndbBlobHead]byte
	if _, err := r.ReadAt(head[:], start); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint32(head[0:]) != ndbBlobMagic {
		return nil, fmt.Errorf("bad blob magic")
	}
	if got := binary.LittleEndian.Uint32(head[4:]); got != pkgIdx {
		return nil, fmt.Errorf("blob belongs to package %d", got)
	}
	n := int64(binary.LittleEndian.Uint32(head[12:]))
	if n > MaxBlob || ndbBlobHead+n+ndbBlobTail > length {
		return nil, fmt.Errorf("blob length %d does not fit its %d blocks", n, blkCnt)
	}
	blob := make([]byte, n)
	if _, err := r.ReadAt(blob, start+ndbBlobHead); err != nil {
		return nil, err
	}
	return blob, nil
}
