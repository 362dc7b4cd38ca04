package baseline

import (
	"path"
	"strings"
)

// Path patterns. A pattern is an absolute path whose segments may hold
// '*', matching any run of bytes within one segment, and whose last
// segment may be "**", matching one or more further segments. Nothing
// else is special; a '*' in an observed path is taken as a wildcard, which
// can only make a baseline more permissive, never miss what it saw.

// anyDepth is the last segment of a pattern that covers a whole subtree.
const anyDepth = "**"

// Normalise rewrites the parts of a path that differ from one run of a
// program to the next as '*', the first step of generalisation (the
// others work on the set: see PathSet). Within each segment:
//
//   - a segment of digits only ("/proc/4242/status"), a UUID, or 16 or
//     more hex digits (container ids, hashes) becomes '*' as a whole;
//   - otherwise the segment is split into words at . - _ + @ : , ~ and
//     each random-looking word becomes '*': three or more digits
//     ("vigil-12345.sock" -> "vigil-*.sock"), eight or more hex digits
//     mixing letters and digits, a run of four digits after letters
//     ("go-build1234567" -> "go-*"), and a word of six or more bytes
//     that switches between lower case, upper case and digits three
//     times or more ("tmp.Xy3kPq9ZaB" -> "tmp.*").
//
// A path that is not clean (path.Clean) is cleaned first. It returns p
// itself, without allocating, when nothing changes.
func Normalise(p string) string {
	if !strings.HasPrefix(p, "/") {
		return p
	}
	if !isClean(p) {
		p = path.Clean(p)
	}
	var b []byte
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		seg := p[start:i]
		if out, changed := normaliseSegment(seg); changed {
			if b == nil {
				b = make([]byte, 0, len(p))
				b = append(b, p[:start]...)
			}
			b = append(b, out...)
		} else if b != nil {
			b = append(b, seg...)
		}
		if b != nil && i < len(p) {
			b = append(b, '/')
		}
		start = i + 1
	}
	if b == nil {
		return p
	}
	return string(b)
}

func normaliseSegment(seg string) (string, bool) {
	if seg == "" || seg == "*" || seg == anyDepth {
		return seg, false
	}
	if allDigits(seg) || isUUID(seg) || (len(seg) >= 16 && isHex(seg)) {
		return "*", true
	}
	var out []byte
	wstart := 0
	for i := 0; i <= len(seg); i++ {
		if i < len(seg) && !isWordSep(seg[i]) {
			continue
		}
		word := seg[wstart:i]
		random := randomWord(word)
		if random && out == nil {
			out = append(make([]byte, 0, len(seg)), seg[:wstart]...)
		}
		if out != nil {
			if random {
				out = append(out, '*')
			} else {
				out = append(out, word...)
			}
			if i < len(seg) {
				out = append(out, seg[i])
			}
		}
		wstart = i + 1
	}
	if out == nil {
		return seg, false
	}
	return string(out), true
}

func isWordSep(c byte) bool {
	switch c {
	case '.', '-', '_', '+', '@', ':', ',', '~':
		return true
	}
	return false
}

// randomWord reports whether a word looks generated rather than chosen.
func randomWord(w string) bool {
	if len(w) < 2 || w == "*" {
		return false
	}
	if allDigits(w) {
		return len(w) >= 3
	}
	var digits, letters, transitions, run, maxRunAfterLetter int
	prev := byte(0)
	for i := 0; i < len(w); i++ {
		c := w[i]
		cls := charClass(c)
		switch cls {
		case 'd':
			digits++
			run++
			if letters > 0 && run > maxRunAfterLetter {
				maxRunAfterLetter = run
			}
		case 'l', 'u':
			letters++
			run = 0
		default:
			run = 0
		}
		if prev != 0 && cls != prev {
			transitions++
		}
		prev = cls
	}
	switch {
	case len(w) >= 8 && digits > 0 && letters > 0 && isHex(w):
		return true
	case maxRunAfterLetter >= 4:
		return true
	case len(w) >= 6 && transitions >= 3:
		return true
	}
	return false
}

func charClass(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return 'd'
	case c >= 'a' && c <= 'z':
		return 'l'
	case c >= 'A' && c <= 'Z':
		return 'u'
	}
	return 'o'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return s != ""
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !isHex(s[i : i+1]) {
			return false
		}
	}
	return true
}

// segmentMatch reports whether one segment pattern (with '*') matches a
// segment. It does not allocate.
func segmentMatch(pat, s string) bool {
	// Classic wildcard matching with one backtrack point.
	var pi, si int
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pat) && pat[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// MatchPattern reports whether a path pattern matches a path (or, when p
// is itself a pattern, whether pat matches it textually: '*' in p is
// just a byte there). It does not allocate.
func MatchPattern(pat, p string) bool {
	for {
		pseg, prest, pmore := cutSegment(pat)
		if pseg == anyDepth && !pmore {
			return p != ""
		}
		sseg, srest, smore := cutSegment(p)
		if !segmentMatch(pseg, sseg) {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pat, p = prest, srest
	}
}

// cutSegment splits "a/b/c" into "a" and "b/c"; a leading '/' is skipped.
func cutSegment(p string) (seg, rest string, more bool) {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:], true
	}
	return p, "", false
}

// hasWildcard reports whether a pattern has any '*'.
func hasWildcard(p string) bool { return strings.IndexByte(p, '*') >= 0 }

// isClean reports whether path.Clean would leave an absolute path as it
// is, without computing it.
func isClean(p string) bool {
	if len(p) > 1 && p[len(p)-1] == '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		rest := p[i+1:]
		if strings.HasPrefix(rest, "/") || rest == "." || strings.HasPrefix(rest, "./") ||
			rest == ".." || strings.HasPrefix(rest, "../") {
			return false
		}
	}
	return true
}
