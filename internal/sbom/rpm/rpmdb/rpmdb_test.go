package rpmdb

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// The samples are the rpm package's (see ../testdata/gen.sh).
const (
	ndbSample = "../testdata/Packages.db"
	bdbSample = "../testdata/Packages"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func TestSamplesHoldThreeHeaders(t *testing.T) {
	for _, c := range []struct {
		file string
		read func(b []byte) ([][]byte, error)
	}{
		{ndbSample, func(b []byte) ([][]byte, error) { return ReadNDB(bytesReader(b), int64(len(b))) }},
		{bdbSample, func(b []byte) ([][]byte, error) { return ReadBDB(bytesReader(b), int64(len(b))) }},
	} {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		blobs, err := c.read(b)
		if err != nil || len(blobs) != 3 {
			t.Fatalf("%s: %d blobs, %v", c.file, len(blobs), err)
		}
		names := map[string]bool{}
		for _, bl := range blobs {
			h, err := ParseHeader(bl)
			if err != nil {
				t.Fatal(err)
			}
			names[h.Name] = true
		}
		if !names["vigil-hello"] || !names["vigil-tools"] || !names["vigil-tools-libs"] {
			t.Errorf("%s: %v", c.file, names)
		}
	}
}

func TestCorruptDatabasesAreErrors(t *testing.T) {
	ndb, _ := os.ReadFile(ndbSample)
	bdb, _ := os.ReadFile(bdbSample)
	cut := func(b []byte, n int) []byte { return append([]byte(nil), b[:n]...) }
	poke := func(b []byte, off int, v uint32) []byte {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	for name, c := range map[string]struct {
		data []byte
		read func([]byte) error
	}{
		"ndb truncated":            {cut(ndb, 5000), readN},
		"ndb slot past the end":    {poke(ndb, 32+8, 1<<20), readN},
		"ndb huge slot page count": {poke(ndb, 12, 1<<30), readN},
		"bdb truncated":            {cut(bdb, 6000), readB},
		"bdb looping overflow":     {loopOverflow(t, bdb), readB},
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.read(c.data); err == nil {
				t.Error("no error")
			}
		})
	}
}

func readN(b []byte) error { _, err := ReadNDB(bytesReader(b), int64(len(b))); return err }
func readB(b []byte) error { _, err := ReadBDB(bytesReader(b), int64(len(b))); return err }

// loopOverflow points the first overflow page's next-page link at itself.
func loopOverflow(t *testing.T, b []byte) []byte {
	c := append([]byte(nil), b...)
	ps := int(binary.LittleEndian.Uint32(c[20:]))
	for pg := 1; (pg+1)*ps <= len(c); pg++ {
		if c[pg*ps+25] == bdbPageOverflow {
			binary.LittleEndian.PutUint32(c[pg*ps+16:], uint32(pg))
			binary.LittleEndian.PutUint16(c[pg*ps+22:], 1)
			return c
		}
	}
	t.Fatal("sample has no overflow page")
	return nil
}

func seedBlobs(f *testing.F) {
	b, err := os.ReadFile(ndbSample)
	if err != nil {
		f.Fatal(err)
	}
	blobs, err := ReadNDB(bytesReader(b), int64(len(b)))
	if err != nil {
		f.Fatal(err)
	}
	for _, bl := range blobs {
		f.Add(bl)
	}
}

func FuzzParseHeader(f *testing.F) {
	seedBlobs(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err == nil && h.Name == "" {
			t.Fatal("header without a name accepted")
		}
	})
}

func FuzzReadNDB(f *testing.F) {
	b, _ := os.ReadFile(ndbSample)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ReadNDB(bytesReader(b), int64(len(b))) }) // only that it does not panic
}

func FuzzReadBDB(f *testing.F) {
	b, _ := os.ReadFile(bdbSample)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ReadBDB(bytesReader(b), int64(len(b))) }) // only that it does not panic
}
