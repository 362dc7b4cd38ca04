// Package sbom is the software inventory's data model: the packages a scan
// finds in a root file system, and where each came from.
//
// The parsers live in one sub-package per source format (dpkg, apk, rpm,
// gobinary, npm, python, java, osrelease); package scan walks a target and
// runs them; package export writes an Inventory as CycloneDX or SPDX.
// The vulnerability matcher (internal/vulndb) reads Package.Ecosystem,
// Name, Version and SourceName/SourceVersion, so their meanings are fixed
// here and documented in docs/sbom.md.
package sbom
