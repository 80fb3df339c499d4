// Package prometheus generates the raw Prometheus configuration
// (prometheus/prometheus.yml) and proves it loads with Prometheus' own
// config loader before it reaches the writer.
package prometheus

import (
	"fmt"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	// Registers kubernetes_sd_configs with the config loader.
	_ "github.com/prometheus/prometheus/discovery/kubernetes"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Paths of the raw flavour's files in a profile's output.
const (
	ConfigPath   = "prometheus/prometheus.yml"
	PodPatchPath = "prometheus/prometheus-pod-patch.yaml"
)

const (
	configTemplate   = "prometheus/prometheus.yml.tmpl"
	podPatchTemplate = "prometheus/prometheus-pod-patch.yaml.tmpl"
)

// ConfigData is what prometheus.yml.tmpl sees: the plan, and which shard
// the configuration is for (0 when the targets are not split).
type ConfigData struct {
	*plan.Plan
	Shard int
}

// Generate renders prometheus.yml (or one configuration per shard) and the
// pod patch for the raw flavour.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	if !p.Monitoring.RawFlavour {
		return nil, nil
	}
	var files []output.File
	for shard := range max(p.Scrape.Shards, 1) {
		f, err := Config(p, r, shard)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	patch, err := podPatch(p, r)
	if err != nil {
		return nil, err
	}
	return append(files, patch), nil
}

// ConfigFile is the path of shard's configuration.
func ConfigFile(p *plan.Plan, shard int) string {
	if p.Scrape.Shards <= 1 {
		return ConfigPath
	}
	return fmt.Sprintf("prometheus/prometheus-shard-%d.yml", shard)
}

// Config renders and checks one configuration.
func Config(p *plan.Plan, r *render.Engine, shard int) (output.File, error) {
	name := ConfigFile(p, shard)
	data, err := r.Render(configTemplate, ConfigData{Plan: p, Shard: shard})
	if err != nil {
		return output.File{}, err
	}
	f := output.YAML(name, data)
	if _, err := config.Load(string(f.Data), promslog.NewNopLogger()); err != nil {
		return output.File{}, fmt.Errorf("%s does not load in Prometheus: %w", name, err)
	}
	return f, nil
}

// podPatch renders the strategic-merge patch that wires the user's
// Prometheus pod for the strategy, and decodes it strictly into the
// Kubernetes workload type it patches.
func podPatch(p *plan.Plan, r *render.Engine) (output.File, error) {
	data, err := r.Render(podPatchTemplate, p)
	if err != nil {
		return output.File{}, err
	}
	var obj any = &appsv1.StatefulSet{}
	if p.Monitoring.Prometheus.Workload == "Deployment" {
		obj = &appsv1.Deployment{}
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		return output.File{}, fmt.Errorf("%s is not a valid %s: %w", PodPatchPath, p.Monitoring.Prometheus.Workload, err)
	}
	return output.YAML(PodPatchPath, data), nil
}
