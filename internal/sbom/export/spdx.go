package export

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/vigilsec/vigil/internal/sbom"
)

const noAssertion = "NOASSERTION"

// SPDX writes the inventory as an SPDX 2.3 JSON document: a package for
// the target that the document DESCRIBES and that CONTAINS one package
// per inventory entry, each with its package URL as an external
// reference.
func SPDX(w io.Writer, inv *sbom.Inventory, opts Options) error {
	opts.defaults()
	name := targetName(inv)
	doc := &v2_3.Document{
		SPDXVersion:       v2_3.Version,
		DataLicense:       v2_3.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: "https://vigil.invalid/spdx/" + sanitize(name) + "-" + opts.ID,
		CreationInfo: &v2_3.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "vigil-" + opts.ToolVersion}},
			Created:  opts.Now.Format(time.RFC3339),
		},
	}
	rootID := common.ElementID("Target")
	root := &v2_3.Package{
		PackageName: name, PackageSPDXIdentifier: rootID, PackageVersion: inv.Target.ID,
		PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: rootPurpose(inv.Target.Kind),
		PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
	}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships, &v2_3.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(rootID)), Relationship: "DESCRIBES",
	})
	if inv.Distro.ID != "" {
		id := common.ElementID("OperatingSystem")
		doc.Packages = append(doc.Packages, &v2_3.Package{
			PackageName: inv.Distro.ID, PackageSPDXIdentifier: id, PackageVersion: inv.Distro.VersionID,
			PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "OPERATING_SYSTEM",
			PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
		})
		doc.Relationships = append(doc.Relationships, contains(rootID, id))
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		id := common.ElementID(fmt.Sprintf("Package-%d-%s", i, sanitize(p.Name)))
		sp := &v2_3.Package{
			PackageName: p.Name, PackageSPDXIdentifier: id, PackageVersion: p.Version,
			PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "LIBRARY",
			PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
			PackageSourceInfo: "found by Vigil in " + p.Location,
		}
		if expr, ok := licenseExpression(p.Licenses); ok {
			sp.PackageLicenseDeclared = expr
		} else if len(p.Licenses) > 0 {
			sp.PackageLicenseComments = "declared as: " + strings.Join(p.Licenses, "; ")
		}
		if p.PURL != "" {
			sp.PackageExternalReferences = []*v2_3.PackageExternalReference{{
				Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL,
			}}
		}
		if p.SourceName != "" {
			sp.PackageComment = "source package " + p.SourceName + " " + p.SourceVersion
		}
		if opts.Files && len(p.Files) > 0 {
			sp.PackageComment = strings.TrimSpace(sp.PackageComment + "\nfiles:\n" + strings.Join(p.Files, "\n"))
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, contains(rootID, id))
	}
	return spdxjson.Write(doc, w, spdxjson.Indent("  "))
}

func contains(a, b common.ElementID) *v2_3.Relationship {
	return &v2_3.Relationship{RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: "CONTAINS"}
}

func rootPurpose(kind string) string {
	switch kind {
	case sbom.TargetImage, sbom.TargetContainer:
		return "CONTAINER"
	case sbom.TargetHost:
		return "DEVICE"
	}
	return "FILE"
}

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9.\-]+`)

// sanitize makes a string fit SPDX identifiers ([A-Za-z0-9.-]).
func sanitize(s string) string {
	s = strings.Trim(notIDChar.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "x"
	}
	return s
}
