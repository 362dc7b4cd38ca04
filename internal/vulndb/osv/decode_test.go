package osv

import (
	"errors"
	"strings"
	"testing"
)

const good = `{
  "id": "GO-2022-1059",
  "modified": "2023-01-02T03:04:05Z",
  "aliases": ["CVE-2022-32149"],
  "affected": [{
    "package": {"ecosystem": "Go", "name": "golang.org/x/text"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.3.8"}]}]
  }]
}`

func TestDecodeGood(t *testing.T) {
	r, err := Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "GO-2022-1059" || r.Aliases[0] != "CVE-2022-32149" || r.ModifiedAt().Year() != 2023 {
		t.Fatalf("decoded %+v", r)
	}
	ev := r.Affected[0].Ranges[0].Events
	if len(ev) != 2 || ev[0].Introduced != "0" || ev[1].Fixed != "0.3.8" {
		t.Fatalf("events %+v", ev)
	}
	if r.IsWithdrawn() {
		t.Fatal("not withdrawn")
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, c := range map[string]struct {
		in        string
		want      string
		line, col int
	}{
		"syntax":        {"{\n  \"id\": \"X\",\n  \"modified\": }", "invalid character '}'", 3, 15},
		"type":          {"{\"id\": 5}", "cannot unmarshal number", 1, 8},
		"no id":         {`{"modified": "2023-01-01T00:00:00Z"}`, "missing id", 1, 1},
		"no modified":   {`{"id": "A"}`, "A: missing modified", 1, 1},
		"bad modified":  {`{"id": "A", "modified": "yesterday"}`, "modified: parsing time", 1, 1},
		"bad withdrawn": {`{"id": "A", "modified": "2023-01-01T00:00:00Z", "withdrawn": "x"}`, "withdrawn:", 1, 1},
		"half package": {`{"id": "A", "modified": "2023-01-01T00:00:00Z", "affected": [{"package": {"name": "x"}}]}`,
			"affected[0]: package needs both ecosystem and name", 1, 1},
		"range type": {`{"id": "A", "modified": "2023-01-01T00:00:00Z", "affected": [{"package": {"name": "x", "ecosystem": "npm"}, "ranges": [{"type": "FOO", "events": [{"introduced": "0"}]}]}]}`,
			`affected[0]: ranges[0]: unknown range type "FOO"`, 1, 1},
		"two keys": {`{"id": "A", "modified": "2023-01-01T00:00:00Z", "affected": [{"package": {"name": "x", "ecosystem": "npm"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}]}`,
			"ranges[0]: events[0]: want exactly one", 1, 1},
		"no introduced": {`{"id": "A", "modified": "2023-01-01T00:00:00Z", "affected": [{"package": {"name": "x", "ecosystem": "npm"}, "ranges": [{"type": "SEMVER", "events": [{"fixed": "1"}]}]}]}`,
			"ranges[0]: no introduced event", 1, 1},
		"no events": {`{"id": "A", "modified": "2023-01-01T00:00:00Z", "affected": [{"package": {"name": "x", "ecosystem": "npm"}, "ranges": [{"type": "SEMVER", "events": []}]}]}`,
			"ranges[0]: no events", 1, 1},
	} {
		_, err := Decode([]byte(c.in))
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want *DecodeError", name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || de.Line != c.line || de.Column != c.col {
			t.Errorf("%s: err = %q at %d:%d, want %q at %d:%d", name, err, de.Line, de.Column, c.want, c.line, c.col)
		}
	}
}

func TestDecodeAllArray(t *testing.T) {
	in := "[\n" + good + ",\n{\"id\": \"BAD\"},\n" + strings.Replace(good, "GO-2022-1059", "GO-2", 1) + "\n]"
	recs, errs := DecodeAll([]byte(in))
	if len(recs) != 2 || recs[0].ID != "GO-2022-1059" || recs[1].ID != "GO-2" {
		t.Fatalf("records %v", recs)
	}
	if len(errs) != 1 {
		t.Fatalf("errors %v", errs)
	}
	var de *DecodeError
	if !errors.As(errs[0], &de) || de.ID != "BAD" || de.Line != 11 || de.Column != 1 {
		t.Fatalf("error %#v", errs[0])
	}
}

func TestDecodeAllBrokenArray(t *testing.T) {
	recs, errs := DecodeAll([]byte("[" + good + ", {\"id\": ]"))
	if len(recs) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "invalid character") {
		t.Fatalf("records %v errors %v", recs, errs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, errs := DecodeAll(data)
		for _, r := range recs {
			if err := r.Validate(); err != nil {
				t.Fatalf("returned an invalid record: %v", err)
			}
		}
		for _, err := range errs {
			if err == nil {
				t.Fatal("nil error in list")
			}
		}
	})
}
