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

// Generate renders prometheus.yml for the raw flavour.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	if !p.Monitoring.RawFlavour {
		return nil, nil
	}
	data, err := r.Render(configTemplate, p)
	if err != nil {
		return nil, err
	}
	f := output.YAML(ConfigPath, data)
	if _, err := config.Load(string(f.Data), promslog.NewNopLogger()); err != nil {
		return nil, fmt.Errorf("%s does not load in Prometheus: %w", ConfigPath, err)
	}
	patch, err := podPatch(p, r)
	if err != nil {
		return nil, err
	}
	return []output.File{f, patch}, nil
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
