// Package kustomize writes the kustomization.yaml at the root of a
// profile's output: every Kubernetes manifest as a resource, and the raw
// Prometheus files, the Alertmanager configuration and the Grafana
// dashboards as ConfigMaps and Secrets, as each file's generator says
// (output.File.Ship).
package kustomize

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

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
	GrafanaConfigMaps []ConfigMap
}

// ConfigMap is a file shipped in its own ConfigMap.
type ConfigMap struct {
	Name, Namespace     string
	Key, File           string
	Labels, Annotations []output.Pair
}

// Generate lists files as their generators ask.
func Generate(p *plan.Plan, r *render.Engine, files []output.File) (output.File, error) {
	f, _, err := GenerateParsed(p, r, files)
	return f, err
}

// GenerateParsed is Generate that also returns the kustomization as it
// decoded strictly, for OversizedIn.
func GenerateParsed(p *plan.Plan, r *render.Engine, files []output.File) (output.File, *types.Kustomization, error) {
	d := Data{Plan: p}
	for _, f := range files {
		d.add(f)
	}
	slices.Sort(d.Resources)
	data, err := r.Render(kustomizationTemplate, d)
	if err != nil {
		return output.File{}, nil, err
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return output.File{}, nil, fmt.Errorf("%s is not a valid kustomization: %w", Path, err)
	}
	return output.YAML(Path, data), &k, nil
}

func (d *Data) add(f output.File) {
	switch f.Ship.As {
	case output.ShipDefault:
		if f.Manifest {
			d.Resources = append(d.Resources, f.Path)
		}
	case output.ShipPrometheusConfig:
		d.ConfigFiles = append(d.ConfigFiles, f.Path)
	case output.ShipPrometheusRules:
		d.RuleFiles = append(d.RuleFiles, f.Path)
	case output.ShipScrapeConfigSecret:
		d.AdditionalScrapeConfigs, d.AdditionalSecret, d.AdditionalKey = f.Path, f.Ship.Name, f.Ship.Key
	case output.ShipAlertmanagerConfig:
		d.AlertmanagerConfig = f.Path
	case output.ShipConfigMap:
		d.GrafanaConfigMaps = append(d.GrafanaConfigMaps, ConfigMap{Name: f.Ship.Name, Namespace: f.Ship.Namespace,
			Key: f.Ship.Key, File: f.Path, Labels: f.Ship.Labels, Annotations: f.Ship.Annotations})
	}
}

// MaxObjectData is the most data a ConfigMap or Secret holds: the API
// server refuses more (k8s.io/api core/v1 MaxSecretSize, 1 MiB, which
// pkg/apis/core/validation applies to a ConfigMap's data and binaryData,
// keys included, as to a Secret's).
const MaxObjectData = 1 << 20

// Oversize is a ConfigMap or Secret the kustomization builds with more
// data than the API server takes.
type Oversize struct {
	Kind, Namespace, Name string
	Bytes                 int
	Files                 []string
}

// Oversized reads the kustomization among files and returns the
// ConfigMaps and Secrets it would build beyond MaxObjectData.
func Oversized(files []output.File) ([]Oversize, error) {
	var kdata []byte
	for _, f := range files {
		if f.Path == Path {
			kdata = f.Data
		}
	}
	if kdata == nil {
		return nil, nil
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(kdata, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	return OversizedIn(&k, files), nil
}

// OversizedIn is Oversized of the kustomization k, already decoded, which
// lists files.
func OversizedIn(k *types.Kustomization, files []output.File) []Oversize {
	size := make(map[string]int, len(files))
	for _, f := range files {
		size[f.Path] = f.Size()
	}
	var out []Oversize
	check := func(kind string, g types.GeneratorArgs) {
		o := Oversize{Kind: kind, Namespace: g.Namespace, Name: g.Name}
		for _, src := range g.FileSources {
			key, file, ok := strings.Cut(src, "=")
			if !ok {
				key, file = path.Base(src), src
			}
			o.Bytes += len(key) + size[file]
			o.Files = append(o.Files, file)
		}
		if o.Bytes > MaxObjectData {
			out = append(out, o)
		}
	}
	for _, g := range k.ConfigMapGenerator {
		check("ConfigMap", g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		check("Secret", g.GeneratorArgs)
	}
	return out
}
