// Package kustomize writes the kustomization.yaml at the root of a
// profile's output: every Kubernetes manifest as a resource, and the raw
// Prometheus files and the Grafana dashboards as ConfigMaps.
package kustomize

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators/alertmanager"
	"obsgen.dev/obsgen/generators/grafana"
	"obsgen.dev/obsgen/generators/operator"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Path of the kustomization in a profile's output.
const Path = "kustomization.yaml"

const kustomizationTemplate = "kustomization.yaml.tmpl"

// Data is what the kustomization template sees.
type Data struct {
	Plan *plan.Plan
	// Resources are the Kubernetes manifests, sorted.
	Resources []string
	// ConfigFiles are the raw Prometheus files for the config ConfigMap.
	ConfigFiles []string
	// RuleFiles are the raw rule files for the rules ConfigMap, mounted at
	// rules/ next to prometheus.yml.
	RuleFiles []string
	// AdditionalScrapeConfigs is the operator flavour's file for the
	// additionalScrapeConfigs Secret, if any.
	AdditionalScrapeConfigs string
	AdditionalSecret        string
	AdditionalKey           string
	// AlertmanagerConfig is alertmanager.yml, for the Alertmanager Secret.
	AlertmanagerConfig string
	// GrafanaConfigMaps are the dashboards and the data source for
	// Grafana's sidecar.
	GrafanaConfigMaps []grafana.ConfigMap
}

// Generate lists the manifests among files.
func Generate(p *plan.Plan, r *render.Engine, files []output.File) (output.File, error) {
	d := Data{Plan: p}
	for _, f := range files {
		switch {
		case f.Manifest && strings.HasPrefix(f.Path, "ruler/"):
			// A central ruler's rules: applied where the ruler runs.
		case f.Manifest:
			d.Resources = append(d.Resources, f.Path)
		case strings.HasPrefix(f.Path, "prometheus/prometheus") && strings.HasSuffix(f.Path, ".yml"):
			d.ConfigFiles = append(d.ConfigFiles, f.Path)
		case strings.HasPrefix(f.Path, "prometheus/rules/"):
			d.RuleFiles = append(d.RuleFiles, f.Path)
		case f.Path == alertmanager.Path && p.Monitoring.Prometheus.Agent:
			// For the Alertmanager the ruler notifies, outside this cluster.
		case f.Path == alertmanager.Path:
			d.AlertmanagerConfig = f.Path
		case f.Path == operator.AdditionalPath:
			d.AdditionalScrapeConfigs = f.Path
			d.AdditionalSecret, d.AdditionalKey = operator.AdditionalSecret(p), operator.AdditionalKey
		}
	}
	slices.Sort(d.Resources)
	d.GrafanaConfigMaps = grafana.ConfigMaps(p, files)
	data, err := r.Render(kustomizationTemplate, d)
	if err != nil {
		return output.File{}, err
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return output.File{}, fmt.Errorf("%s is not a valid kustomization: %w", Path, err)
	}
	return output.YAML(Path, data), nil
}
