package prometheus

import (
	"cmp"
	"fmt"
	"math"
	"strings"

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
// The operator writes each field of a RelabelConfig into the configuration
// only when it is set, and an empty regex counts as not set
// (pkg/prometheus/promcfg.go generateRelabelConfig: `if c.Regex != ""`), so
// Prometheus would read the default (.*) where the raw job writes an empty
// or null regex, which matches only the empty value. (?:) is that regex in
// a form the operator keeps: Prometheus anchors both to ^(?s:...)$
// (relabel.NewRegexp). The action is Prometheus' lower-case spelling, one
// the CRD's enum takes (RelabelConfig.Action: replace or Replace, not
// REPLACE). expressible refuses what the type cannot hold.
func Relabelings(in []promcheck.Relabeling) []monitoringv1.RelabelConfig {
	out := make([]monitoringv1.RelabelConfig, 0, len(in))
	for _, r := range in {
		rc := monitoringv1.RelabelConfig{TargetLabel: r.TargetLabel, Modulus: int64(min(r.Modulus, math.MaxInt64)),
			Separator: r.Separator, Replacement: r.Replacement, Action: r.Action}
		for _, l := range r.SourceLabels {
			rc.SourceLabels = append(rc.SourceLabels, monitoringv1.LabelName(l))
		}
		if r.Regex != nil {
			rc.Regex = cmp.Or(*r.Regex, emptyRegex)
		}
		out = append(out, rc)
	}
	return out
}

// emptyRegex matches only the empty value, as an empty regex does.
const emptyRegex = "(?:)"

// expressible tells why a raw job cannot be copied into an operator
// resource without changing what it scrapes.
func expressible(j *Job) error {
	// Endpoint.Scheme and ScrapeConfigSpec.Scheme take http or https (the
	// CRD's enum); Prometheus reads any scheme and fails each scrape of
	// another (scrape/target.go URL: the target's __scheme__; url.Parse
	// reads HTTPS as https, so either case works).
	if s := strings.ToLower(j.Scheme); s != "http" && s != "https" {
		return fmt.Errorf("scrape job %q writes scheme %q; the operator flavour's resources take http or https: write one of them", j.Name, j.Scheme)
	}
	// An empty path is left out of the resource (path,omitempty) and the
	// operator then scrapes /metrics.
	if j.MetricsPath == "" {
		return fmt.Errorf("scrape job %q writes an empty metrics_path, which an operator resource cannot hold (it scrapes /metrics then): write metrics_path: /", j.Name)
	}
	for k, list := range [][]promcheck.Relabeling{j.RelabelConfigs, j.MetricRelabelConfigs} {
		for i, r := range list {
			// RelabelConfig.Modulus is an int64 with minimum 0.
			if r.Modulus > math.MaxInt64 {
				return fmt.Errorf("scrape job %q: %s[%d] writes modulus %d, more than an operator RelabelConfig holds (%d)",
					j.Name, []string{"relabel_configs", "metric_relabel_configs"}[k], i, r.Modulus, int64(math.MaxInt64))
			}
		}
	}
	return nil
}
