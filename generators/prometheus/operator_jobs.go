package prometheus

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	"obsgen.dev/obsgen/internal/promcheck"
)

// Job is a scrape job as written in the raw configuration: what the
// operator resources copy. The jobs come from the strict check of the
// unsharded configuration (promcheck.Check), so the text is read once, as
// Prometheus reads it; a test checks they agree with Prometheus' loader.
type Job = promcheck.Job

// ParseJobs checks a rendered configuration and returns its scrape jobs by
// name.
func ParseJobs(rendered []byte) (map[string]*Job, error) {
	list, err := promcheck.Check(rendered, false)
	if err != nil {
		return nil, err
	}
	return jobsByName(list), nil
}

func jobsByName(list []Job) map[string]*Job {
	jobs := make(map[string]*Job, len(list))
	for i := range list {
		jobs[list[i].Name] = &list[i]
	}
	return jobs
}

// Relabelings converts relabel rules as written into the operator's type.
func Relabelings(in []promcheck.Relabeling) []monitoringv1.RelabelConfig {
	out := make([]monitoringv1.RelabelConfig, 0, len(in))
	for _, r := range in {
		rc := monitoringv1.RelabelConfig{TargetLabel: r.TargetLabel, Modulus: int64(r.Modulus),
			Separator: r.Separator, Replacement: r.Replacement, Action: r.Action}
		for _, l := range r.SourceLabels {
			rc.SourceLabels = append(rc.SourceLabels, monitoringv1.LabelName(l))
		}
		if r.Regex != nil {
			rc.Regex = *r.Regex
		}
		out = append(out, rc)
	}
	return out
}
