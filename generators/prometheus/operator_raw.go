package prometheus

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	"obsgen.dev/obsgen/internal/promcheck"
)

// renameJob sets the job label to the raw job's name, so queries, alerts
// and dashboards see the same jobs in both flavours.
func renameJob(name string) monitoringv1.RelabelConfig {
	return monitoringv1.RelabelConfig{TargetLabel: "job", Replacement: &name}
}

// withJob is the raw job's relabelings after one that names the job as the
// raw job_name does. The operator sets its own job label before the
// resource's relabelings (pkg/prometheus/promcfg.go: the monitor's
// service or resource name, scrapeConfig/<namespace>/<name>), so the
// raw job_name's value goes first, and a raw relabeling that sets job
// itself (team-services' <team>/<service>) still has the last word, as in
// Prometheus, where job_name is the label's value before relabeling.
func withJob(name string, raw []promcheck.Relabeling) []monitoringv1.RelabelConfig {
	return append([]monitoringv1.RelabelConfig{renameJob(name)}, Relabelings(raw)...)
}
