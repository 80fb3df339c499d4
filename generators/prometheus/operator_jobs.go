package prometheus

import (
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"go.yaml.in/yaml/v3"
)

// Job is a scrape job as written in the raw configuration: what the
// operator resources copy. It is read without Prometheus' validation
// (regexes are not compiled), because the same bytes are loaded by
// Prometheus' config loader alongside; a test checks both reads agree.
type Job struct {
	JobName              string        `yaml:"job_name"`
	MetricsPath          string        `yaml:"metrics_path"`
	Scheme               string        `yaml:"scheme"`
	HonorLabels          bool          `yaml:"honor_labels"`
	RelabelConfigs       []RelabelRule `yaml:"relabel_configs"`
	MetricRelabelConfigs []RelabelRule `yaml:"metric_relabel_configs"`
}

// RelabelRule is one relabel_configs entry as written.
type RelabelRule struct {
	SourceLabels []string `yaml:"source_labels"`
	Separator    *string  `yaml:"separator"`
	TargetLabel  string   `yaml:"target_label"`
	Regex        *string  `yaml:"regex"`
	Modulus      uint64   `yaml:"modulus"`
	Replacement  *string  `yaml:"replacement"`
	Action       string   `yaml:"action"`
}

// ParseJobs reads the scrape jobs of a rendered configuration by name.
func ParseJobs(rendered []byte) (map[string]*Job, error) {
	var cfg struct {
		ScrapeConfigs []*Job `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(rendered, &cfg); err != nil {
		return nil, fmt.Errorf("read scrape jobs: %w", err)
	}
	jobs := make(map[string]*Job, len(cfg.ScrapeConfigs))
	for _, j := range cfg.ScrapeConfigs {
		if j.MetricsPath == "" {
			j.MetricsPath = "/metrics"
		}
		if j.Scheme == "" {
			j.Scheme = "http"
		}
		jobs[j.JobName] = j
	}
	return jobs, nil
}

// Relabelings converts relabel rules as written into the operator's type.
func Relabelings(in []RelabelRule) []monitoringv1.RelabelConfig {
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
