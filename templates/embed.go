// Package templates holds obsgen's default templates. Each can be replaced
// by a file at the same path in the directory given with --templates; run
// `obsgen templates dump DIR` to start from the defaults.
package templates

import "embed"

// FS holds the default templates.
//
//go:embed all:prometheus all:alertmanager all:init all:import all:grafana *.tmpl
var FS embed.FS
