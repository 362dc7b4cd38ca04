package baseline

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/workload"
)

// maxImportErrors bounds the problems one import reports.
const maxImportErrors = 50

var identityRE = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha256-head:[0-9a-f]{64}:[0-9]+)$`)

// ParseDocument reads a document written by Document.JSON (or by hand)
// strictly: unknown keys, wrong types, invalid values and duplicate keys
// are errors naming file:line:col and the field. It reports every problem
// (up to 50) at once, as *ImportError values joined, and never panics.
func ParseDocument(file string, data []byte) (*Document, error) {
	pos := newPositions(file, data)
	root, err := parseJSONTree(data, pos)
	if err != nil {
		return nil, err
	}
	r := &docReader{pos: pos}
	d := r.document(root)
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	d.sort()
	return d, nil
}

type docReader struct {
	pos  *positions
	errs []error
}

func (r *docReader) bad(n *jnode, path, format string, args ...any) {
	if len(r.errs) < maxImportErrors {
		r.errs = append(r.errs, r.pos.errorf(n.off, path, format, args...))
	}
}

// want checks a node's kind.
func (r *docReader) want(n *jnode, kind byte, path string) bool {
	if n.kind != kind {
		r.bad(n, path, "want %s, got %s", kindNames[kind], kindNames[n.kind])
		return false
	}
	return true
}

// fields walks an object, calling the handler of each key; unknown keys
// and missing required ones are errors.
func (r *docReader) fields(n *jnode, path string, handlers map[string]func(*jnode, string), required ...string) {
	if !r.want(n, 'o', path) {
		return
	}
	for i, k := range n.keys {
		h, ok := handlers[k]
		if !ok {
			r.errs = append(r.errs, r.pos.errorf(n.kOffs[i], join(path, k), "unknown key"))
			continue
		}
		h(n.vals[i], join(path, k))
	}
	for _, k := range required {
		found := false
		for _, have := range n.keys {
			found = found || have == k
		}
		if !found {
			r.bad(n, orDoc(path), "missing required key %q", k)
		}
	}
}

func orDoc(path string) string {
	if path == "" {
		return "document"
	}
	return path
}

func (r *docReader) str(dst *string) func(*jnode, string) {
	return func(n *jnode, path string) {
		if r.want(n, 's', path) {
			*dst = n.str
		}
	}
}

func (r *docReader) time(dst *time.Time) func(*jnode, string) {
	return func(n *jnode, path string) {
		if !r.want(n, 's', path) {
			return
		}
		t, err := time.Parse(time.RFC3339Nano, n.str)
		if err != nil {
			r.bad(n, path, "want an RFC 3339 time, such as 2030-01-01T00:00:00Z")
			return
		}
		*dst = t
	}
}

func (r *docReader) port(dst *uint16, min int) func(*jnode, string) {
	return func(n *jnode, path string) {
		if !r.want(n, 'n', path) {
			return
		}
		v, err := strconv.Atoi(n.str)
		if err != nil || v < min || v > 65535 {
			r.bad(n, path, "want an integer from %d to 65535, got %s", min, n.str)
			return
		}
		*dst = uint16(v)
	}
}

// list reads an array, calling each for every element.
func (r *docReader) list(each func(*jnode, string)) func(*jnode, string) {
	return func(n *jnode, path string) {
		if !r.want(n, 'a', path) {
			return
		}
		for i, el := range n.vals {
			each(el, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func (r *docReader) document(root *jnode) *Document {
	d := newDocument(&workload.Workload{}, Learn, 0, 0, 0, 0, nil)
	d.Schema, d.Mode = "", ""
	r.fields(root, "", map[string]func(*jnode, string){
		"schema": func(n *jnode, path string) {
			if r.want(n, 's', path) && n.str != DocumentSchema {
				r.bad(n, path, "%q: this Vigil reads %q", n.str, DocumentSchema)
			}
			d.Schema = DocumentSchema
		},
		"workload": func(n *jnode, path string) {
			r.fields(n, path, map[string]func(*jnode, string){
				"id": func(n *jnode, path string) {
					if r.want(n, 's', path) {
						if _, err := workload.Parse(n.str); err != nil {
							r.bad(n, path, "%v", err)
						}
						d.Workload.ID = n.str
					}
				},
				"name": r.str(&d.Workload.Name),
				"kind": r.str(&d.Workload.Kind),
				"inferred": func(n *jnode, path string) {
					if r.want(n, 'b', path) {
						d.Workload.Inferred = n.bool
					}
				},
			}, "id")
		},
		"mode": func(n *jnode, path string) {
			if r.want(n, 's', path) {
				if _, ok := ParseMode(n.str); !ok {
					r.bad(n, path, "%q: want learn, monitor or protect", n.str)
				}
				d.Mode = n.str
			}
		},
		"created":      r.time(&d.Created),
		"learn_since":  r.time(&d.LearnSince),
		"mode_changed": r.time(&d.ModeChanged),
		"last_change":  r.time(&d.LastChange),
		"executables": r.list(func(n *jnode, path string) {
			var x DocExec
			r.fields(n, path, map[string]func(*jnode, string){
				"path": r.pattern(&x.Path),
				"identity": func(n *jnode, path string) {
					if r.want(n, 's', path) {
						if n.str != "" && !identityRE.MatchString(n.str) {
							r.bad(n, path, "%q: want sha256:<64 hex digits>", n.str)
						}
						x.Identity = n.str
					}
				},
			}, "path")
			d.Executables = append(d.Executables, x)
		}),
		"exec_edges": r.list(func(n *jnode, path string) {
			var x DocEdge
			r.fields(n, path, map[string]func(*jnode, string){"parent": r.pattern(&x.Parent), "child": r.pattern(&x.Child)}, "parent", "child")
			d.ExecEdges = append(d.ExecEdges, x)
		}),
		"files_written":   r.list(r.appendPattern(&d.FilesWritten)),
		"sensitive_reads": r.list(r.appendPattern(&d.SensitiveReads)),
		"listening": r.list(func(n *jnode, path string) {
			var x DocPort
			r.fields(n, path, map[string]func(*jnode, string){
				"proto": r.proto(&x.Proto), "port": r.port(&x.Port, 1), "port_end": r.port(&x.PortEnd, 1),
			}, "proto", "port")
			if x.PortEnd != 0 && x.PortEnd < x.Port {
				r.bad(n, path, "port_end %d is below port %d", x.PortEnd, x.Port)
			}
			d.Listening = append(d.Listening, x)
		}),
		"outbound": r.list(r.peer(&d.Outbound)),
		"inbound":  r.list(r.peer(&d.Inbound)),
		"syscalls": r.list(r.appendName(&d.Syscalls, "syscall", func(s string) bool {
			nr, ok := syscalls.Number(s)
			return ok && nr >= 0 && nr < 512
		})),
		"capabilities": r.list(r.appendName(&d.Capabilities, "capability", func(s string) bool { _, ok := ParseCap(s); return ok })),
		"users": r.list(r.appendName(&d.Users, "user id", func(s string) bool {
			_, err := strconv.ParseUint(s, 10, 32)
			return s == "*" || err == nil
		})),
	}, "schema", "workload", "mode")
	return d
}

// pattern reads an absolute path pattern.
func (r *docReader) pattern(dst *string) func(*jnode, string) {
	return func(n *jnode, path string) {
		if !r.want(n, 's', path) {
			return
		}
		if msg := patternProblem(n.str); msg != "" {
			r.bad(n, path, "%q: %s", n.str, msg)
		}
		*dst = n.str
	}
}

func (r *docReader) appendPattern(dst *[]string) func(*jnode, string) {
	return func(n *jnode, path string) {
		var s string
		r.pattern(&s)(n, path)
		*dst = append(*dst, s)
	}
}

func patternProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "want an absolute path"
	case !isClean(p):
		return "want a clean path (no //, . or ..)"
	case strings.ContainsRune(p, 0) || strings.ContainsAny(p, "\n"):
		return "contains a NUL or newline"
	}
	for seg, rest, more := cutSegment(p); ; seg, rest, more = cutSegment(rest) {
		if seg == anyDepth && more {
			return `"**" may only be the last segment`
		}
		if !more {
			return ""
		}
	}
}

func (r *docReader) proto(dst *string) func(*jnode, string) {
	return func(n *jnode, path string) {
		if r.want(n, 's', path) {
			if _, ok := ParseProto(n.str); !ok {
				r.bad(n, path, "%q: want tcp, udp or any", n.str)
			}
			*dst = n.str
		}
	}
}

func (r *docReader) peer(dst *[]DocPeer) func(*jnode, string) {
	return func(n *jnode, path string) {
		var x DocPeer
		r.fields(n, path, map[string]func(*jnode, string){
			"peer": func(n *jnode, path string) {
				if r.want(n, 's', path) {
					if _, err := netip.ParsePrefix(n.str); err != nil {
						if _, err := netip.ParseAddr(n.str); err != nil {
							r.bad(n, path, "%q: want an address or a CIDR", n.str)
						}
					}
					x.Peer = n.str
				}
			},
			"dns": func(n *jnode, path string) {
				if r.want(n, 's', path) {
					if n.str == "" || strings.ContainsAny(n.str, " /\x00\n") || len(n.str) > 253 {
						r.bad(n, path, "%q is not a host name", n.str)
					}
					x.DNS = n.str
				}
			},
			"proto": r.proto(&x.Proto),
			"port":  r.port(&x.Port, 0),
		}, "proto", "port")
		if (x.Peer == "") == (x.DNS == "") {
			r.bad(n, path, "want exactly one of peer and dns")
		}
		*dst = append(*dst, x)
	}
}

func (r *docReader) appendName(dst *[]string, what string, valid func(string) bool) func(*jnode, string) {
	return func(n *jnode, path string) {
		if r.want(n, 's', path) {
			if !valid(n.str) {
				r.bad(n, path, "%q is not a known %s", n.str, what)
			}
			*dst = append(*dst, n.str)
		}
	}
}
