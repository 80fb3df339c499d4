// Package profiles holds obsgen's example profiles. They are embedded so
// `obsgen generate` without arguments works from any directory; their
// generated output is committed under out/ as the end-to-end golden.
package profiles

import "embed"

// Default is the profile `obsgen generate` uses without arguments.
const Default = "default-permissive.yaml"

// FS holds the example profiles.
//
//go:embed *.yaml
var FS embed.FS
