//go:build tools

// Package tools pins the real Prometheus server and promtool to the same
// Prometheus module obsgen links against, so tests run the exact version
// whose libraries validate the generated configuration.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
