package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Spool is an on-disk FIFO of messages, bounded in bytes: appending past
// the bound drops the oldest segment, whose unread messages are counted.
// It is split into segment files so that dropping the oldest and removing
// what was sent are file deletions. A record is a 4-byte length, a 4-byte
// CRC-32C and the bytes; a torn or corrupt record (a crash mid-write) ends
// its segment.
//
// The read position is kept in a small file after each Commit, without
// fsync: after a crash some messages may be sent again, which message ids
// make harmless. A Spool is used by one goroutine; Stats may be called
// from any.
type Spool struct {
	dir    string
	max    int64
	segMax int64

	mu      sync.Mutex // guards the counters read by Stats
	segs    []*segment // oldest first; the last is written to
	w       *os.File
	bytes   int64  // bytes in all segments, read or not
	records int64  // unread records
	dropped uint64 // unread records dropped for space or corruption

	// fileErr is the first failure to remove a segment, close one or
	// save the cursor. None stops the spool (at worst messages are sent
	// again or a file is left behind); Close reports it.
	fileErr error
}

type segment struct {
	seq     uint64
	size    int64
	records int64 // records written to it
	readOff int64 // offset of the next unread record
	read    int64 // records read and committed
}

const (
	recordHeader = 8
	cursorFile   = "cursor"
	segPrefix    = "seg-"
	segSuffix    = ".log"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// OpenSpool opens or creates the spool in dir, bounded to maxBytes, and
// counts the messages a previous run left in it.
func OpenSpool(dir string, maxBytes int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, max: maxBytes, segMax: min(max(maxBytes/8, 64<<10), 16<<20)}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil {
			continue
		}
		seg := &segment{seq: seq}
		if err := s.scan(seg); err != nil {
			return nil, err
		}
		s.segs = append(s.segs, seg)
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].seq < s.segs[j].seq })
	s.loadCursor()
	for _, seg := range s.segs {
		s.bytes += seg.size
		s.records += seg.records - seg.read
	}
	return s, nil
}

// scan counts a segment's whole records and cuts a torn tail.
func (s *Spool) scan(seg *segment) error {
	f, err := os.OpenFile(s.path(seg.seq), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	r := bufio.NewReader(f)
	var off int64
	for {
		rec, err := readRecord(r)
		if err != nil {
			break
		}
		off += int64(recordHeader + len(rec))
		seg.records++
	}
	seg.size = off
	if err := errors.Join(f.Truncate(off), f.Close()); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// note keeps the first failed file operation for Close. A file that is
// already gone is no failure: removing it was the point.
func (s *Spool) note(err error) {
	if err != nil && !errors.Is(err, fs.ErrNotExist) && s.fileErr == nil {
		s.fileErr = err
	}
}

// loadCursor applies the saved read position, if it names a segment.
func (s *Spool) loadCursor() {
	b, err := os.ReadFile(filepath.Join(s.dir, cursorFile))
	if err != nil {
		return
	}
	var seq uint64
	var off, read int64
	if _, err := fmt.Sscanf(string(b), "%d %d %d", &seq, &off, &read); err != nil {
		return
	}
	var keep []*segment
	for _, seg := range s.segs {
		switch {
		case seg.seq < seq: // fully sent before the restart
			s.note(os.Remove(s.path(seg.seq)))
			continue
		case seg.seq == seq && off <= seg.size && read <= seg.records:
			seg.readOff, seg.read = off, read
		}
		keep = append(keep, seg)
	}
	s.segs = keep
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%020d%s", segPrefix, seq, segSuffix))
}

func readRecord(r *bufio.Reader) ([]byte, error) {
	var h [recordHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(h[:4])
	if n > MaxMessageBytes {
		return nil, errors.New("spool: corrupt record length")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if crc32.Checksum(b, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, errors.New("spool: corrupt record")
	}
	return b, nil
}

// Append adds messages at the tail, in order, then drops the oldest
// segments while the spool is over its bound. It returns how many unread
// messages were dropped.
func (s *Spool) Append(msgs [][]byte) (dropped int64, err error) {
	var buf []byte
	for _, m := range msgs {
		var h [recordHeader]byte
		binary.LittleEndian.PutUint32(h[:4], uint32(len(m)))
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(m, crcTable))
		buf = append(append(buf, h[:]...), m...)
	}
	if err := s.writeTail(buf, int64(len(msgs))); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.bytes > s.max && len(s.segs) > 1 {
		seg := s.segs[0]
		n := seg.records - seg.read
		s.dropped += uint64(n)
		dropped += n
		s.records -= n
		s.bytes -= seg.size
		s.note(os.Remove(s.path(seg.seq)))
		s.segs = s.segs[1:]
	}
	return dropped, nil
}

func (s *Spool) writeTail(buf []byte, n int64) error {
	tail := s.tail()
	if tail == nil || tail.size > 0 && tail.size+int64(len(buf)) > s.segMax {
		if err := s.rotate(); err != nil {
			return err
		}
		tail = s.tail()
	}
	if _, err := s.w.Write(buf); err != nil {
		// A partial write leaves a torn record that ends the segment; start
		// a new one for what comes next.
		err = errors.Join(err, s.w.Close())
		s.w = nil
		return fmt.Errorf("spool: %w", err)
	}
	s.mu.Lock()
	tail.size += int64(len(buf))
	tail.records += n
	s.bytes += int64(len(buf))
	s.records += n
	s.mu.Unlock()
	return nil
}

func (s *Spool) tail() *segment {
	if s.w == nil || len(s.segs) == 0 {
		return nil
	}
	return s.segs[len(s.segs)-1]
}

func (s *Spool) rotate() error {
	if s.w != nil {
		s.note(s.w.Close())
		s.w = nil
	}
	seq := uint64(1)
	if n := len(s.segs); n > 0 {
		seq = s.segs[n-1].seq + 1
	}
	f, err := os.OpenFile(s.path(seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.w = f
	s.mu.Lock()
	s.segs = append(s.segs, &segment{seq: seq})
	s.mu.Unlock()
	return nil
}

// Peek returns up to n of the oldest unread messages, without consuming
// them; Commit consumes them once sent. It stops at a segment's end.
func (s *Spool) Peek(n int) ([][]byte, error) {
	for len(s.segs) > 0 {
		seg := s.segs[0]
		if seg.read < seg.records {
			return s.readFrom(seg, n)
		}
		if seg == s.tail() {
			return nil, nil
		}
		s.removeHead()
	}
	return nil, nil
}

func (s *Spool) readFrom(seg *segment, n int) ([][]byte, error) {
	f, err := os.Open(s.path(seg.seq))
	if err != nil {
		s.dropHead(seg)
		return nil, fmt.Errorf("spool: %w", err)
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	if _, err := f.Seek(seg.readOff, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	r := bufio.NewReader(io.LimitReader(f, seg.size-seg.readOff))
	var out [][]byte
	for len(out) < n && seg.read+int64(len(out)) < seg.records {
		rec, err := readRecord(r)
		if err != nil {
			if len(out) == 0 {
				// Unreadable from here on: count the rest as dropped.
				s.dropHead(seg)
			}
			break
		}
		out = append(out, rec)
	}
	return out, nil
}

// dropHead gives up on the unread rest of the head segment.
func (s *Spool) dropHead(seg *segment) {
	s.mu.Lock()
	n := seg.records - seg.read
	s.dropped += uint64(n)
	s.records -= n
	seg.read = seg.records
	seg.readOff = seg.size
	s.mu.Unlock()
	if seg != s.tail() {
		s.removeHead()
	}
}

// Commit consumes the first n messages the last Peek returned.
func (s *Spool) Commit(msgs [][]byte) {
	if len(msgs) == 0 || len(s.segs) == 0 {
		return
	}
	seg := s.segs[0]
	s.mu.Lock()
	for _, m := range msgs {
		seg.readOff += int64(recordHeader + len(m))
		seg.read++
		s.records--
	}
	s.mu.Unlock()
	if seg.read >= seg.records && seg != s.tail() {
		s.removeHead()
	} else if seg.read >= seg.records && seg == s.tail() {
		// All sent: start afresh, so the spool does not keep sent bytes.
		s.note(s.w.Close())
		s.w = nil
		s.removeHead()
	}
	s.saveCursor()
}

func (s *Spool) removeHead() {
	seg := s.segs[0]
	s.note(os.Remove(s.path(seg.seq)))
	s.mu.Lock()
	s.bytes -= seg.size
	s.segs = s.segs[1:]
	s.mu.Unlock()
}

func (s *Spool) saveCursor() {
	seq, off, read := uint64(0), int64(0), int64(0)
	if len(s.segs) > 0 {
		seq, off, read = s.segs[0].seq, s.segs[0].readOff, s.segs[0].read
	} else if s.w == nil {
		s.note(os.Remove(filepath.Join(s.dir, cursorFile)))
		return
	}
	tmp := filepath.Join(s.dir, cursorFile+".tmp")
	err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d %d %d\n", seq, off, read)), 0o600)
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, cursorFile))
	}
	s.note(err)
}

// SpoolStats are a spool's counters.
type SpoolStats struct {
	Records int64  // unread messages
	Bytes   int64  // bytes on disk
	Dropped uint64 // unread messages dropped for space (or lost to corruption)
}

// Stats returns the counters.
func (s *Spool) Stats() SpoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SpoolStats{Records: s.records, Bytes: s.bytes, Dropped: s.dropped}
}

// Len is the number of unread messages.
func (s *Spool) Len() int64 { return s.Stats().Records }

// Close closes the tail file and reports the first file operation that
// failed while the spool was open; what is unread stays for the next run.
func (s *Spool) Close() error {
	s.saveCursor()
	if s.w != nil {
		s.note(s.w.Close())
	}
	if s.fileErr != nil {
		return fmt.Errorf("spool: %w", s.fileErr)
	}
	return nil
}
