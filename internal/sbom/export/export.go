// Package export writes an inventory as an SBOM: CycloneDX JSON (1.6)
// through github.com/CycloneDX/cyclonedx-go and SPDX JSON (2.3) through
// github.com/spdx/tools-golang, the formats' official Go libraries.
package export

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/github/go-spdx/v2/spdxexp"

	"github.com/vigilsec/vigil/internal/sbom"
)

// Options shape an export.
type Options struct {
	// ToolVersion is Vigil's version, recorded as the SBOM's creator.
	ToolVersion string
	// Files lists each package's files in the SBOM (CycloneDX evidence
	// occurrences, SPDX comments); off by default, as a host's file
	// lists run to megabytes.
	Files bool
	// Now and ID make the output reproducible in tests; zero values mean
	// the current time and a random UUID.
	Now time.Time
	ID  string
}

func (o *Options) defaults() {
	if o.ToolVersion == "" {
		o.ToolVersion = "dev"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	if o.ID == "" {
		o.ID = newUUID()
	}
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// targetName names the thing the SBOM describes.
func targetName(inv *sbom.Inventory) string {
	switch {
	case inv.Target.Name != "":
		return inv.Target.Name
	case inv.Target.ID != "":
		return inv.Target.ID
	}
	return inv.Target.Kind
}

// licenseExpression joins the licenses as an SPDX expression when each
// already is one over the SPDX license list ("MIT", "GPL-2.0-or-later AND
// MIT"); ok is false for free text such as rpm's older "GPLv2+".
func licenseExpression(ls []string) (string, bool) {
	if len(ls) == 0 {
		return "", false
	}
	if ok, _ := spdxexp.ValidateLicenses(ls); !ok {
		return "", false
	}
	if len(ls) == 1 {
		return ls[0], true
	}
	return "(" + strings.Join(ls, ") AND (") + ")", true
}

var spdxOperators = regexp.MustCompile(` (AND|OR|WITH) `)
