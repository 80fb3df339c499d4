package operator

import (
	"bytes"
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/relabel"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// rawJobs is the raw configuration's jobs, parsed and as YAML nodes: the
// operator resources copy their relabeling from the proven raw jobs, and
// jobs no resource can express go into additionalScrapeConfigs verbatim.
type rawJobs struct {
	parsed map[string]*config.ScrapeConfig
	nodes  map[string]*yaml.Node
}

// loadRawJobs renders the raw configuration, unsharded (the operator shards
// by itself with spec.shards).
func loadRawJobs(p *plan.Plan, r *render.Engine) (*rawJobs, error) {
	unsharded := *p
	unsharded.Scrape.Shards = 1
	f, err := prometheus.Config(&unsharded, r, 0)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(string(f.Data), promslog.NewNopLogger())
	if err != nil {
		return nil, err
	}
	jobs := &rawJobs{parsed: map[string]*config.ScrapeConfig{}, nodes: map[string]*yaml.Node{}}
	for _, sc := range cfg.ScrapeConfigs {
		jobs.parsed[sc.JobName] = sc
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(f.Data, &doc); err != nil {
		return nil, err
	}
	for _, item := range mappingValue(doc.Content[0], "scrape_configs").Content {
		jobs.nodes[mappingValue(item, "job_name").Value] = item
	}
	return jobs, nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return &yaml.Node{Kind: yaml.SequenceNode}
}

// additionalYAML renders the named raw jobs as a list of scrape configs.
func (j *rawJobs) additionalYAML(names []string) ([]byte, error) {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, n := range names {
		seq.Content = append(seq.Content, j.nodes[n])
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(seq); err != nil {
		return nil, fmt.Errorf("encode additional scrape configs: %w", err)
	}
	return buf.Bytes(), nil
}

// relabelings converts a raw job's relabel rules, leaving out defaults so
// the resources read like the raw configuration.
func relabelings(in []*relabel.Config) []monitoringv1.RelabelConfig {
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
