package sbom

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Package types, the values of Package.Type.
const (
	TypeDeb      = "deb"
	TypeAPK      = "apk"
	TypeRPM      = "rpm"
	TypeGoModule = "go-module"
	TypeGoStdlib = "go-stdlib"
	TypeNPM      = "npm"
	TypePython   = "python"
	TypeJava     = "java"
)

// Language ecosystems, in OSV's spelling. Distribution ecosystems depend on
// the release and come from package osrelease.
const (
	EcosystemGo    = "Go"
	EcosystemNPM   = "npm"
	EcosystemPyPI  = "PyPI"
	EcosystemMaven = "Maven"
)

// Package is one installed package found in a target.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Ecosystem is the OSV ecosystem name: "Debian:12", "Ubuntu:22.04",
	// "Alpine:v3.19", "Red Hat", "AlmaLinux:9", "Go", "npm", "PyPI",
	// "Maven", ... Empty when the distribution is unknown.
	Ecosystem string `json:"ecosystem,omitempty"`
	// SourceName and SourceVersion name the distribution source package
	// (dpkg Source:, rpm SOURCERPM, apk origin); empty when the same as
	// the binary package's.
	SourceName    string `json:"sourceName,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	PURL          string `json:"purl,omitempty"`
	// Type is one of the Type* constants.
	Type string `json:"type"`
	// Location is the file the record came from (the dpkg status file, the
	// Go binary, the jar, ...), as an absolute path inside the target.
	Location string `json:"location"`
	// Files are the files the package owns, where the format says so, as
	// absolute paths inside the target.
	Files    []string `json:"files,omitempty"`
	Licenses []string `json:"licenses,omitempty"`
}

// Key identifies a package within an inventory for sorting and
// deduplication.
func (p *Package) Key() string {
	return p.Type + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Location
}

// Target kinds, the values of Target.Kind.
const (
	TargetRootFS    = "rootfs"
	TargetHost      = "host"
	TargetContainer = "container"
	TargetImage     = "image"
)

// Target says what was scanned.
type Target struct {
	Kind string `json:"kind"`
	// Name is the directory, container name or id, or image reference or
	// tar path, as the user gave it.
	Name string `json:"name"`
	// ID is the container or image id, when there is one.
	ID string `json:"id,omitempty"`
}

// Distro is the operating system release, from os-release.
type Distro struct {
	ID        string `json:"id,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Codename  string `json:"codename,omitempty"`
	Name      string `json:"prettyName,omitempty"`
}

// ScanError is a file that could not be read or parsed. Scans go on past
// them, but never drop one silently.
type ScanError struct {
	// File is the absolute path inside the target, with ":line" when the
	// format has lines and the problem has one.
	File    string `json:"file"`
	Message string `json:"message"`
}

// Error implements error.
func (e ScanError) Error() string { return e.File + ": " + e.Message }

// Inventory is what a scan found.
type Inventory struct {
	Target   Target      `json:"target"`
	Distro   Distro      `json:"distro"`
	Packages []Package   `json:"packages"`
	Errors   []ScanError `json:"errors,omitempty"`
}

// Sort orders packages by type, name, version and location, and errors by
// file, so that two scans of the same content compare equal.
func (inv *Inventory) Sort() {
	slices.SortFunc(inv.Packages, func(a, b Package) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version), cmp.Compare(a.Location, b.Location))
	})
	slices.SortFunc(inv.Errors, func(a, b ScanError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Message, b.Message))
	})
}

// LineError is a parse error at a line of a file, for formats with lines.
type LineError struct {
	Line int
	Msg  string
}

// Error implements error.
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// FileError turns a parser's error about the file at abs (a path inside
// the target) into a ScanError, naming the line for a *LineError.
func FileError(abs string, err error) ScanError {
	var le *LineError
	if errors.As(err, &le) {
		return ScanError{File: fmt.Sprintf("%s:%d", abs, le.Line), Message: le.Msg}
	}
	return ScanError{File: abs, Message: err.Error()}
}
