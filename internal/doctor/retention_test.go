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
		args      []string
		keeps     time.Duration
		byDefault bool
		unknown   bool
	}{
		{args: []string{"--storage.tsdb.retention.time=30d"}, keeps: 30 * day},
		{args: []string{"--storage.tsdb.retention.time", "45d"}, keeps: 45 * day},
		{args: []string{"--storage.tsdb.retention=7d"}, keeps: 7 * day}, // Prometheus 2.x
		{args: []string{"--storage.tsdb.retention.time=10d", "--storage.tsdb.retention.size=50GB"}, keeps: 10 * day},
		{args: []string{"--storage.tsdb.retention.size=50GB"}, unknown: true},
		{args: []string{"--storage.tsdb.retention.time=0s", "--storage.tsdb.retention.size=50GB"}, unknown: true},
		{args: []string{"--storage.tsdb.retention.time=0s"}, keeps: 15 * day, byDefault: true},
		{args: []string{"--storage.tsdb.path=/prometheus"}, keeps: 15 * day, byDefault: true},
		{args: []string{"--storage.tsdb.retention.time=thirty"}, unknown: true},
	} {
		r := retentionOf(&corev1.Container{Name: "prometheus", Args: tc.args})
		assert.Equal(t, tc.unknown, r.unknown != "", "%v", tc.args)
		if tc.unknown {
			continue
		}
		assert.Equal(t, tc.keeps, r.keeps, "%v", tc.args)
		assert.Equal(t, tc.byDefault, r.byDefault, "%v", tc.args)
		if tc.byDefault {
			assert.Contains(t, r.evidence, "no --storage.tsdb.retention.time", "%v", tc.args)
		} else {
			assert.Contains(t, r.evidence, tc.args[0], "%v: the evidence quotes the flag", tc.args)
		}
	}
}

func TestPrometheusContainersOfTheCommonDeployments(t *testing.T) {
	for _, ctrs := range [][]corev1.Container{
		{{Name: "config-reloader"}, {Name: "prometheus", Image: "quay.io/prometheus/prometheus:v3.13.1"}},            // the operator's
		{{Name: "prometheus-server-configmap-reload"}, {Name: "prometheus-server", Image: "prom/prometheus:v3.7.3"}}, // Istio's samples/addons, the Helm chart
		{{Name: "sidecar"}, {Name: "server", Image: "registry.example:5000/mirror/prometheus@sha256:0123"}},
	} {
		c := prometheusContainer(&corev1.Pod{Spec: corev1.PodSpec{Containers: ctrs}})
		if assert.NotNil(t, c, "%v", ctrs) {
			assert.NotEqual(t, "sidecar", c.Name)
			assert.NotContains(t, c.Name, "reload")
		}
	}
	assert.Nil(t, prometheusContainer(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example/prometheus-exporter:1"}}}}))
}
