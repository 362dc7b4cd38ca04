package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MaxRecordBytes bounds one record: the largest published records (long
// explicit version lists) are a few MiB.
const MaxRecordBytes = 64 << 20

// DecodeError places a bad record: the byte offset and line:column in its
// source where decoding or validation failed (0 when unknown).
type DecodeError struct {
	Offset       int64
	Line, Column int
	ID           string // the record's id, when it was read
	Err          error
}

func (e *DecodeError) Error() string {
	where := ""
	if e.Line > 0 {
		where = fmt.Sprintf("line %d, column %d: ", e.Line, e.Column)
	}
	if e.ID != "" {
		where += e.ID + ": "
	}
	return where + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Decode reads one record from JSON and validates it.
func Decode(data []byte) (*Record, error) {
	return decodeAt(data, data, 0)
}

// decodeAt decodes data, which starts at offset base of whole, so that
// errors give positions in the whole source.
func decodeAt(whole, data []byte, base int64) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, positioned(whole, base+jsonOffset(err), err)
	}
	if err := r.Validate(); err != nil {
		de := positioned(whole, base, err)
		de.ID = r.ID
		return nil, de
	}
	r.Raw = data
	return &r, nil
}

// DecodeAll reads a source that holds one record or a JSON array of them.
// Each element is decoded on its own, so one bad record costs only itself:
// good records come back with one error per bad one. A source that is not
// JSON at all yields only an error.
func DecodeAll(data []byte) ([]*Record, []error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		r, err := Decode(data)
		if err != nil {
			return nil, []error{err}
		}
		return []*Record{r}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the '['
		return nil, []error{positioned(data, dec.InputOffset(), err)}
	}
	var recs []*Record
	var errs []error
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The array itself is broken: nothing after this can be trusted.
			return recs, append(errs, positioned(data, dec.InputOffset()+jsonOffset(err), err))
		}
		start := dec.InputOffset() - int64(len(raw))
		r, err := decodeAt(data, raw, start)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, r)
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		errs = append(errs, positioned(data, dec.InputOffset(), err))
	}
	return recs, errs
}

// jsonOffset is the offending byte encoding/json reports, relative to its
// input: it counts the bytes read, so the culprit is the last of them.
func jsonOffset(err error) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(0)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	return max(off-1, 0)
}

// positioned builds a DecodeError with the line and column of offset.
func positioned(data []byte, offset int64, err error) *DecodeError {
	var pe *DecodeError
	if errors.As(err, &pe) {
		return pe
	}
	if offset < 0 || offset > int64(len(data)) {
		offset = 0
	}
	line := 1 + bytes.Count(data[:offset], []byte{'\n'})
	col := int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	return &DecodeError{Offset: offset, Line: line, Column: col, Err: err}
}

// Validate checks what the schema requires and matching depends on.
func (r *Record) Validate() error {
	if r.ID == "" {
		return errors.New("missing id")
	}
	if len(r.ID) > 256 {
		return errors.New("id longer than 256 bytes")
	}
	if r.Modified == "" {
		return errors.New("missing modified")
	}
	if _, err := time.Parse(time.RFC3339, r.Modified); err != nil {
		return fmt.Errorf("modified: %v", err)
	}
	if r.Withdrawn != "" {
		if _, err := time.Parse(time.RFC3339, r.Withdrawn); err != nil {
			return fmt.Errorf("withdrawn: %v", err)
		}
	}
	for i, a := range r.Affected {
		if err := a.validate(); err != nil {
			return fmt.Errorf("affected[%d]: %w", i, err)
		}
	}
	return nil
}

// Bounds on what names a package: the store keys its index by them, and
// refuses keys over 32 KiB; real ones are far shorter.
const (
	maxEcosystem   = 256
	maxPackageName = 4096
)

func (a *Affected) validate() error {
	if (a.Package.Name == "") != (a.Package.Ecosystem == "") {
		return errors.New("package needs both ecosystem and name")
	}
	if eco := a.Package.Ecosystem; eco != "" && strings.HasPrefix(eco, ":") {
		return fmt.Errorf("ecosystem %q has no name before the ':'", eco)
	}
	if len(a.Package.Ecosystem) > maxEcosystem || len(a.Package.Name) > maxPackageName {
		return fmt.Errorf("package ecosystem (%d bytes) or name (%d bytes) longer than %d or %d bytes",
			len(a.Package.Ecosystem), len(a.Package.Name), maxEcosystem, maxPackageName)
	}
	for i, rg := range a.Ranges {
		if err := rg.validate(); err != nil {
			return fmt.Errorf("ranges[%d]: %w", i, err)
		}
	}
	return nil
}

func (rg *Range) validate() error {
	switch rg.Type {
	case RangeSemVer, RangeEcosystem, RangeGit:
	default:
		return fmt.Errorf("unknown range type %q", rg.Type)
	}
	if len(rg.Events) == 0 {
		return errors.New("no events")
	}
	introduced := false
	for i, e := range rg.Events {
		n := 0
		for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("events[%d]: want exactly one of introduced, fixed, last_affected, limit", i)
		}
		introduced = introduced || e.Introduced != ""
	}
	if !introduced {
		return errors.New("no introduced event")
	}
	return nil
}
