package rpmdb

import (
	"encoding/binary"
	"fmt"
	"path"
)

// Header tags Vigil reads (rpm's lib/rpmtag.h).
const (
	tagName       = 1000
	tagVersion    = 1001
	tagRelease    = 1002
	tagEpoch      = 1003
	tagVendor     = 1011
	tagLicense    = 1014
	tagArch       = 1022
	tagOldFiles   = 1027
	tagSourceRPM  = 1044
	tagDirIndexes = 1116
	tagBaseNames  = 1117
	tagDirNames   = 1118
)

// Header entry types.
const (
	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// maxEntries bounds the index of one header; real ones have a few hundred.
const maxEntries = 1 << 16

// Header is the part of an installed package's header Vigil uses.
type Header struct {
	Name, Version, Release, Arch string
	Epoch                        int // -1 when the header has none
	License, Vendor, SourceRPM   string
	Files                        []string
}

// ParseHeader decodes a header blob as the databases store it: the index
// length and data length (big-endian int32s), the index entries, then
// the data. Every offset is checked against the data, so a corrupt blob is
// an error, never a panic.
func ParseHeader(blob []byte) (*Header, error) {
	if len(blob) < 8 {
		return nil, fmt.Errorf("header blob of %d bytes is too short", len(blob))
	}
	il := binary.BigEndian.Uint32(blob[0:4])
	dl := binary.BigEndian.Uint32(blob[4:8])
	if il == 0 || il > maxEntries {
		return nil, fmt.Errorf("header has %d index entries", il)
	}
	dataStart := 8 + uint64(il)*16
	if dataStart+uint64(dl) > uint64(len(blob)) {
		return nil, fmt.Errorf("header index (%d entries) and data (%d bytes) exceed the blob's %d bytes", il, dl, len(blob))
	}
	data := blob[dataStart : dataStart+uint64(dl)]
	h := &Header{Epoch: -1}
	var dirIndexes []uint32
	var baseNames, dirNames, oldFiles []string
	for i := range il {
		e := blob[8+i*16 : 8+i*16+16]
		tag := binary.BigEndian.Uint32(e[0:4])
		typ := binary.BigEndian.Uint32(e[4:8])
		off := binary.BigEndian.Uint32(e[8:12])
		count := binary.BigEndian.Uint32(e[12:16])
		if uint64(off) > uint64(len(data)) {
			return nil, fmt.Errorf("tag %d: offset %d beyond data of %d bytes", tag, off, len(data))
		}
		var err error
		switch tag {
		case tagName:
			h.Name, err = str(data, typ, off)
		case tagVersion:
			h.Version, err = str(data, typ, off)
		case tagRelease:
			h.Release, err = str(data, typ, off)
		case tagArch:
			h.Arch, err = str(data, typ, off)
		case tagLicense:
			h.License, err = str(data, typ, off)
		case tagVendor:
			h.Vendor, err = str(data, typ, off)
		case tagSourceRPM:
			h.SourceRPM, err = str(data, typ, off)
		case tagEpoch:
			var v []uint32
			if v, err = int32s(data, typ, off, count); err == nil && len(v) > 0 {
				h.Epoch = int(int32(v[0]))
			}
		case tagDirIndexes:
			dirIndexes, err = int32s(data, typ, off, count)
		case tagBaseNames:
			baseNames, err = strs(data, typ, off, count)
		case tagDirNames:
			dirNames, err = strs(data, typ, off, count)
		case tagOldFiles:
			oldFiles, err = strs(data, typ, off, count)
		}
		if err != nil {
			return nil, fmt.Errorf("tag %d: %w", tag, err)
		}
	}
	if h.Name == "" {
		return nil, fmt.Errorf("header has no package name")
	}
	files, err := joinFiles(dirIndexes, baseNames, dirNames)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", h.Name, err)
	}
	if files == nil {
		files = oldFiles // rpm before 4.0 stored whole paths
	}
	h.Files = files
	return h, nil
}

// joinFiles rebuilds paths from rpm's compressed file list: each base
// name with the directory its index points at.
func joinFiles(idx []uint32, base, dirs []string) ([]string, error) {
	if len(base) == 0 {
		return nil, nil
	}
	if len(idx) != len(base) {
		return nil, fmt.Errorf("%d dir indexes for %d base names", len(idx), len(base))
	}
	out := make([]string, len(base))
	for i, b := range base {
		if int(idx[i]) >= len(dirs) {
			return nil, fmt.Errorf("dir index %d out of %d dirs", idx[i], len(dirs))
		}
		out[i] = path.Join(dirs[idx[i]], b)
	}
	return out, nil
}

// str reads a NUL-terminated string at off.
func str(data []byte, typ, off uint32) (string, error) {
	if typ != typeString && typ != typeI18NString && typ != typeStringArray {
		return "", fmt.Errorf("type %d is not a string", typ)
	}
	s, _, err := cstring(data, off)
	return s, err
}

func cstring(data []byte, off uint32) (string, uint32, error) {
	for i := off; i < uint32(len(data)); i++ {
		if data[i] == 0 {
			return string(data[off:i]), i + 1, nil
		}
	}
	return "", 0, fmt.Errorf("unterminated string at %d", off)
}

// strs reads count NUL-terminated strings from off.
func strs(data []byte, typ, off, count uint32) ([]string, error) {
	if typ != typeStringArray && typ != typeI18NString {
		return nil, fmt.Errorf("type %d is not a string array", typ)
	}
	if uint64(count) > uint64(len(data)) { // each string takes at least its NUL
		return nil, fmt.Errorf("%d strings cannot fit in %d bytes", count, len(data))
	}
	out := make([]string, 0, count)
	for range count {
		s, next, err := cstring(data, off)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		off = next
	}
	return out, nil
}

// int32s reads count big-endian int32s from off.
func int32s(data []byte, typ, off, count uint32) ([]uint32, error) {
	if typ != typeInt32 {
		return nil, fmt.Errorf("type %d is not int32", typ)
	}
	end := uint64(off) + 4*uint64(count)
	if end > uint64(len(data)) {
		return nil, fmt.Errorf("%d int32s at %d exceed data of %d bytes", count, off, len(data))
	}
	out := make([]uint32, count)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(data[off+uint32(i)*4:])
	}
	return out, nil
}
