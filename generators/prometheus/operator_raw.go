package prometheus

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// renameJob sets the job label to the raw job's name, so queries, alerts
// and dashboards see the same jobs in both flavours.
func renameJob(name string) monitoringv1.RelabelConfig {
	return monitoringv1.RelabelConfig{TargetLabel: "job", Replacement: &name}
}
