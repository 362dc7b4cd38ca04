package export

import (
	"fmt"
	"io"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigilsec/vigil/internal/sbom"
)

// Properties Vigil adds to CycloneDX components, in its own namespace as
// the CycloneDX property taxonomy asks.
const (
	propType          = "vigil:package:type"
	propEcosystem     = "vigil:package:ecosystem"
	propLocation      = "vigil:package:location"
	propSourceName    = "vigil:package:source-name"
	propSourceVersion = "vigil:package:source-version"
)

// CycloneDX writes the inventory as a CycloneDX 1.6 JSON BOM: the target
// as the metadata component, the distribution as an operating-system
// component, and one library (or application, for a Go main module)
// component per package.
func CycloneDX(w io.Writer, inv *sbom.Inventory, opts Options) error {
	opts.defaults()
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + opts.ID
	rootRef := "target"
	bom.Metadata = &cdx.Metadata{
		Timestamp: opts.Now.Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "vigil", Version: opts.ToolVersion,
		}}},
		Component: &cdx.Component{BOMRef: rootRef, Type: targetType(inv.Target.Kind), Name: targetName(inv), Version: inv.Target.ID},
	}
	var comps []cdx.Component
	var refs []string
	if inv.Distro.ID != "" {
		comps = append(comps, cdx.Component{
			BOMRef: "os", Type: cdx.ComponentTypeOS, Name: inv.Distro.ID, Version: inv.Distro.VersionID,
			Description: inv.Distro.Name,
		})
		refs = append(refs, "os")
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		ref := fmt.Sprintf("pkg-%d", i)
		c := cdx.Component{
			BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version,
			PackageURL: p.PURL,
		}
		props := []cdx.Property{{Name: propType, Value: p.Type}, {Name: propLocation, Value: p.Location}}
		if p.Ecosystem != "" {
			props = append(props, cdx.Property{Name: propEcosystem, Value: p.Ecosystem})
		}
		if p.SourceName != "" {
			props = append(props, cdx.Property{Name: propSourceName, Value: p.SourceName},
				cdx.Property{Name: propSourceVersion, Value: p.SourceVersion})
		}
		c.Properties = &props
		if len(p.Licenses) > 0 {
			c.Licenses = cdxLicenses(p.Licenses)
		}
		if opts.Files && len(p.Files) > 0 {
			occ := make([]cdx.EvidenceOccurrence, len(p.Files))
			for j, f := range p.Files {
				occ[j] = cdx.EvidenceOccurrence{Location: f}
			}
			c.Evidence = &cdx.Evidence{Occurrences: &occ}
		}
		comps = append(comps, c)
		refs = append(refs, ref)
	}
	bom.Components = &comps
	bom.Dependencies = &[]cdx.Dependency{{Ref: rootRef, Dependencies: &refs}}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
}

func cdxLicenses(ls []string) *cdx.Licenses {
	if expr, ok := licenseExpression(ls); ok && len(ls) == 1 && !isSingleID(expr) {
		return &cdx.Licenses{{Expression: expr}}
	}
	out := make(cdx.Licenses, 0, len(ls))
	for _, l := range ls {
		// Name, not ID: the schema restricts ID to the SPDX list, and
		// package metadata is free text as often as not.
		out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
	}
	return &out
}

func isSingleID(s string) bool { return !spdxOperators.MatchString(s) }

func targetType(kind string) cdx.ComponentType {
	switch kind {
	case sbom.TargetImage, sbom.TargetContainer:
		return cdx.ComponentTypeContainer
	case sbom.TargetHost:
		return cdx.ComponentTypeDevice
	}
	return cdx.ComponentTypeFile
}
