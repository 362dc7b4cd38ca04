package version

import (
	"regexp"
	"strings"
)

// RubyGems is Gem::Version ordering. No maintained Go library implements
// it, so this follows rubygems' lib/rubygems/version.rb: "-" reads as
// ".pre.", the version splits into digit runs and letter runs, trailing
// zeros are dropped from the numeric release and from the pre-release part
// separately, and a letter segment sorts before a number ("1.0.a" < "1.0").
var RubyGems Scheme = gemScheme{}

// gemPattern is Gem::Version::ANCHORED_VERSION_PATTERN.
var gemPattern = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$`)

var gemSegment = regexp.MustCompile(`[0-9]+|[a-zA-Z]+`)

type gemScheme struct{}

// gemSegment is a digit run (num, leading zeros removed) or a letter run.
type gemSeg struct {
	num   string
	str   string
	isNum bool
}

type gemVersion struct {
	raw  string
	segs []gemSeg // canonical segments
}

func (gemScheme) Name() string { return "rubygems" }

func (gemScheme) Parse(s string) (Version, error) {
	if !gemPattern.MatchString(s) {
		return nil, parseErr("rubygems", s, "malformed version number string")
	}
	v := strings.TrimSpace(s)
	if v == "" {
		v = "0"
	}
	v = strings.ReplaceAll(v, "-", ".pre.")
	var segs []gemSeg
	for _, tok := range gemSegment.FindAllString(v, -1) {
		if tok[0] >= '0' && tok[0] <= '9' {
			n := strings.TrimLeft(tok, "0")
			segs = append(segs, gemSeg{num: n, isNum: true})
		} else {
			segs = append(segs, gemSeg{str: tok})
		}
	}
	return gemVersion{raw: s, segs: canonicalGem(segs)}, nil
}

// canonicalGem drops trailing zeros from the numeric release (the segments
// before the first letter run) and from the rest, as canonical_segments does.
func canonicalGem(segs []gemSeg) []gemSeg {
	split := len(segs)
	for i, s := range segs {
		if !s.isNum {
			split = i
			break
		}
	}
	out := append([]gemSeg(nil), trimZeros(segs[:split])...)
	return append(out, trimZeros(segs[split:])...)
}

func trimZeros(segs []gemSeg) []gemSeg {
	for len(segs) > 0 && segs[len(segs)-1].isNum && segs[len(segs)-1].num == "" {
		segs = segs[:len(segs)-1]
	}
	return segs
}

func (a gemVersion) Compare(o Version) int {
	b := o.(gemVersion)
	n := max(len(a.segs), len(b.segs))
	zero := gemSeg{isNum: true}
	for i := range n {
		l, r := zero, zero
		if i < len(a.segs) {
			l = a.segs[i]
		}
		if i < len(b.segs) {
			r = b.segs[i]
		}
		switch {
		case l.isNum && r.isNum:
			if c := compareDigits(l.num, r.num); c != 0 {
				return c
			}
		case !l.isNum && r.isNum:
			return -1
		case l.isNum && !r.isNum:
			return 1
		default:
			if c := strings.Compare(l.str, r.str); c != 0 {
				return c
			}
		}
	}
	return 0
}

// compareDigits compares two digit strings without leading zeros, of any
// length, numerically.
func compareDigits(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func (a gemVersion) String() string { return a.raw }
