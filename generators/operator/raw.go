package operator

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/model/relabel"
)

// Relabelings converts a raw job's relabel rules, leaving out defaults so
// the resources read like the raw configuration.
func Relabelings(in []*relabel.Config) []monitoringv1.RelabelConfig {
	out := make([]monitoringv1.RelabelConfig, 0, len(in))
	for _, c := range in {
		rc := monitoringv1.RelabelConfig{TargetLabel: c.TargetLabel, Modulus: int64(c.Modulus)}
		for _, l := range c.SourceLabels {
			rc.SourceLabels = append(rc.SourceLabels, monitoringv1.LabelName(l))
		}
		if c.Separator != relabel.DefaultRelabelConfig.Separator {
			rc.Separator = &c.Separator
		}
		if re := c.Regex.String(); re != relabel.DefaultRelabelConfig.Regex.String() {
			rc.Regex = re
		}
		if c.Replacement != relabel.DefaultRelabelConfig.Replacement {
			rc.Replacement = &c.Replacement
		}
		if c.Action != relabel.Replace {
			rc.Action = string(c.Action)
		}
		out = append(out, rc)
	}
	return out
}

// renameJob sets the job label to the raw job's name, so queries, alerts
// and dashboards see the same jobs in both flavours.
func renameJob(name string) monitoringv1.RelabelConfig {
	return monitoringv1.RelabelConfig{TargetLabel: "job", Replacement: &name}
}
