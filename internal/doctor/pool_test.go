package doctor

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPoolIsTheOperatorsPoolsOfTheJob: the Prometheus Operator names a
// monitor's pool kind/namespace/name/index (pkg/prometheus/promcfg.go) and
// obsgen names its monitors after the Prometheus resource and the job.
func TestPoolIsTheOperatorsPoolsOfTheJob(t *testing.T) {
	e := expectation{Pool: "node-exporter"}
	for pool, want := range map[string]bool{
		"node-exporter": true,
		"podMonitor/monitoring/prometheus-node-exporter/0":   true,
		"podMonitor/monitoring/node-exporter/0":              true,
		"scrapeConfig/monitoring/prometheus-node-exporter":   true,
		"podMonitor/monitoring/prometheus-node-exporter-x/0": false,
		"podMonitor/monitoring/kube-state-metrics/0":         false,
		"node-exporter-extra":                                false,
		"other/monitoring/prometheus-node-exporter/0":        false,
	} {
		assert.Equal(t, want, e.poolIs(pool), pool)
	}
}
