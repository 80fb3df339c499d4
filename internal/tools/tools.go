//go:build tools

// Package tools pins the real Prometheus server, promtool and amtool to the
// same Prometheus and Alertmanager modules obsgen links against, so tests run
// the exact versions whose libraries validate the generated configuration.
package tools

import (
	_ "github.com/prometheus/alertmanager/cmd/amtool"
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
