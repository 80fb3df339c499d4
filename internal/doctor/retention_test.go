package doctor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
)

func TestRetentionIsReadFromPrometheusFlags(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		args  []string
		keeps time.Duration
		known bool
	}{
		{[]string{"--storage.tsdb.retention.time=30d"}, 30 * day, true},
		{[]string{"--storage.tsdb.retention.time", "45d"}, 45 * day, true},
		{[]string{"--storage.tsdb.retention=7d"}, 7 * day, true}, // before Prometheus 2.7
		{[]string{"--storage.tsdb.retention.size=50GB"}, time.Duration(1<<63 - 1), true},
		{[]string{"--storage.tsdb.path=/prometheus"}, 15 * day, false},
		{[]string{"--storage.tsdb.retention.time=thirty"}, -1, false},
	} {
		keeps, evidence, known := retentionOf(&corev1.Container{Name: "prometheus", Args: tc.args})
		assert.Equal(t, tc.keeps, keeps, "%v", tc.args)
		assert.Equal(t, tc.known, known, "%v", tc.args)
		assert.NotEmpty(t, evidence)
	}
}

func TestPrometheusImagesFrom311MaySetRetentionInTheirConfiguration(t *testing.T) {
	for image, want := range map[string]bool{
		"quay.io/prometheus/prometheus:v3.11.0": true,
		"prom/prometheus:v3.15.1":               true,
		"prom/prometheus:v4.0.0":                true,
		"prom/prometheus:v3.10.2":               false,
		"prom/prometheus:v2.55.1":               false,
		"prom/prometheus":                       false,
		"registry:5000/prometheus":              false,
		"prom/prometheus:latest":                false,
	} {
		assert.Equal(t, want, fromPrometheus311(image), image)
	}
}
