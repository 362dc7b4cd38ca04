package version

import (
	"errors"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
	pep440 "github.com/aquasecurity/go-pep440-version"
	apk "github.com/knqyf263/go-apk-version"
	deb "github.com/knqyf263/go-deb-version"
	rpm "github.com/knqyf263/go-rpm-version"
	mvn "github.com/masahiro331/go-mvn-version"
)

// The schemes backed by established libraries. Each wrapper validates,
// since some of the libraries accept anything and order garbage silently.
var (
	// SemVer is Semantic Versioning 2.0.0 (npm, crates.io, and OSV ranges of
	// type SEMVER), leniently accepting a "v" prefix and short forms.
	SemVer Scheme = semverScheme{}
	// Debian is dpkg ordering: epochs, "~" before anything, revisions.
	Debian Scheme = debScheme{}
	// APK is apk-tools ordering: suffixes (_alpha … _p) and -rN revisions.
	APK Scheme = apkScheme{}
	// RPM is rpmvercmp over epoch:version-release.
	RPM Scheme = rpmScheme{}
	// PEP440 is Python's version ordering (dev < a < b < rc < final < post).
	PEP440 Scheme = pep440Scheme{}
	// Maven is Maven's ComparableVersion ordering (qualifiers, SNAPSHOT).
	Maven Scheme = mvnScheme{}
)

var errEmpty = errors.New("empty version")

type semverScheme struct{}

type semverVersion struct{ v *semver.Version }

func (semverScheme) Name() string { return "semver" }

func (semverScheme) Parse(s string) (_ Version, err error) {
	defer guard("semver", s, &err)
	if strings.TrimSpace(s) == "" {
		return nil, parseErr("semver", s, errEmpty)
	}
	v, err := semver.NewVersion(s)
	if err != nil {
		return nil, parseErr("semver", s, err)
	}
	return semverVersion{v}, nil
}

func (a semverVersion) Compare(o Version) int {
	b := o.(semverVersion)
	return safeCompare(func() int { return a.v.Compare(b.v) })
}

func (a semverVersion) String() string { return a.v.Original() }

type debScheme struct{}

type debVersion struct{ v deb.Version }

func (debScheme) Name() string { return "debian" }

func (debScheme) Parse(s string) (_ Version, err error) {
	defer guard("debian", s, &err)
	if strings.TrimSpace(s) == "" {
		return nil, parseErr("debian", s, errEmpty)
	}
	v, err := deb.NewVersion(s)
	if err != nil {
		return nil, parseErr("debian", s, err)
	}
	return debVersion{v}, nil
}

func (a debVersion) Compare(o Version) int {
	b := o.(debVersion)
	return safeCompare(func() int { return sign(a.v.Compare(b.v)) })
}

func (a debVersion) String() string { return a.v.String() }

type apkScheme struct{}

// apkPattern is the version grammar apk-tools accepts (apk_version_validate).
var apkPattern = regexp.MustCompile(`^[0-9]+(?:\.[0-9]+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(?:-r[0-9]+)?$`)

type apkVersion struct{ v apk.Version }

func (apkScheme) Name() string { return "apk" }

func (apkScheme) Parse(s string) (_ Version, err error) {
	defer guard("apk", s, &err)
	if !apkPattern.MatchString(s) {
		return nil, parseErr("apk", s, "want digits.digits[letter][_suffixN...][-rN]")
	}
	v, err := apk.NewVersion(s)
	if err != nil {
		return nil, parseErr("apk", s, err)
	}
	return apkVersion{v}, nil
}

func (a apkVersion) Compare(o Version) int {
	b := o.(apkVersion)
	return safeCompare(func() int { return sign(a.v.Compare(b.v)) })
}

func (a apkVersion) String() string { return string(a.v) }

type rpmScheme struct{}

type rpmVersion struct {
	raw string
	v   rpm.Version
}

// rpmEVR is what rpm itself accepts in an epoch:version-release: the
// library takes any string and would silently read a bad epoch as 0.
var rpmEVR = regexp.MustCompile(`^(?:[0-9]+:)?[A-Za-z0-9._+~^]+(?:-[A-Za-z0-9._+~^]+)?$`)

func (rpmScheme) Name() string { return "rpm" }

func (rpmScheme) Parse(s string) (_ Version, err error) {
	defer guard("rpm", s, &err)
	if !rpmEVR.MatchString(s) {
		return nil, parseErr("rpm", s, "want [epoch:]version[-release] of letters, digits and ._+~^")
	}
	if e, _, ok := strings.Cut(s, ":"); ok && len(e) > 9 {
		return nil, parseErr("rpm", s, "epoch out of range")
	}
	return rpmVersion{raw: s, v: rpm.NewVersion(s)}, nil
}

func (a rpmVersion) Compare(o Version) int {
	b := o.(rpmVersion)
	return safeCompare(func() int { return sign(a.v.Compare(b.v)) })
}

func (a rpmVersion) String() string { return a.raw }

type pep440Scheme struct{}

type pep440Version struct{ v pep440.Version }

func (pep440Scheme) Name() string { return "pep440" }

func (pep440Scheme) Parse(s string) (_ Version, err error) {
	defer guard("pep440", s, &err)
	v, err := pep440.Parse(s)
	if err != nil {
		return nil, parseErr("pep440", s, err)
	}
	return pep440Version{v}, nil
}

func (a pep440Version) Compare(o Version) int {
	b := o.(pep440Version)
	return safeCompare(func() int { return sign(a.v.Compare(b.v)) })
}

func (a pep440Version) String() string { return a.v.Original() }

type mvnScheme struct{}

type mvnVersion struct {
	raw string
	v   mvn.Version
}

func (mvnScheme) Name() string { return "maven" }

func (mvnScheme) Parse(s string) (_ Version, err error) {
	defer guard("maven", s, &err)
	if strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t\r\n") {
		return nil, parseErr("maven", s, "empty or contains white space")
	}
	v, err := mvn.NewVersion(s)
	if err != nil {
		return nil, parseErr("maven", s, err)
	}
	return mvnVersion{raw: s, v: v}, nil
}

func (a mvnVersion) Compare(o Version) int {
	b := o.(mvnVersion)
	return safeCompare(func() int { return sign(a.v.Compare(b.v)) })
}

func (a mvnVersion) String() string { return a.raw }
