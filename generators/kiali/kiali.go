// Package kiali writes Kiali's configuration for the profile: Kiali reads
// the metrics of its graph from the Prometheus (or shared store) the
// dashboards query, links to the generated dashboards through Grafana and
// reads traces from the tracing store. The keys are Kiali's own
// (kiali/kiali config/config.go; kiali-operator crd-docs/cr/
// kiali.io_v1alpha1_kiali.yaml); the Helm chart (kiali/helm-charts
// kiali-server) takes the same keys at the top level of its values and
// renders them into the `kiali` ConfigMap's config.yaml.
package kiali

import (
	"bytes"
	"cmp"
	"fmt"

	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Files obsgen writes for Kiali.
const (
	// CRPath holds the Kiali resource (install: operator).
	CRPath = "kiali/kiali.yaml"
	// ValuesPath holds the kiali-server chart's values (install: helm).
	ValuesPath = "kiali/kiali-server-values.yaml"
)

// Kiali is the kiali.io/v1alpha1 Kiali resource, with the fields obsgen
// sets.
type Kiali struct {
	APIVersion string         `json:"apiVersion" yaml:"apiVersion"`
	Kind       string         `json:"kind" yaml:"kind"`
	Metadata   map[string]any `json:"metadata" yaml:"metadata"`
	Spec       Config         `json:"spec" yaml:"spec"`
}

// Config is Kiali's configuration, as the CR's spec and the chart's values
// hold it.
type Config struct {
	Deployment       *Deployment      `json:"deployment,omitempty" yaml:"deployment,omitempty"`
	Server           Server           `json:"server" yaml:"server"`
	ExternalServices ExternalServices `json:"external_services" yaml:"external_services"`
}

// Deployment is where the operator deploys Kiali.
type Deployment struct {
	Namespace string `json:"namespace" yaml:"namespace"`
}

// Server is Kiali's HTTP server.
type Server struct {
	Port int `json:"port" yaml:"port"`
}

// ExternalServices are what Kiali reads.
type ExternalServices struct {
	Prometheus Prometheus `json:"prometheus" yaml:"prometheus"`
	Grafana    Grafana    `json:"grafana" yaml:"grafana"`
	Tracing    Tracing    `json:"tracing" yaml:"tracing"`
}

// Prometheus is external_services.prometheus.
type Prometheus struct {
	URL           string            `json:"url" yaml:"url"`
	CustomHeaders map[string]string `json:"custom_headers,omitempty" yaml:"custom_headers,omitempty"`
	// QueryScope adds these matchers to every query (a shared store holds
	// other clusters' series too).
	QueryScope map[string]string `json:"query_scope,omitempty" yaml:"query_scope,omitempty"`
}

// Grafana is external_services.grafana.
type Grafana struct {
	Enabled     bool        `json:"enabled" yaml:"enabled"`
	InternalURL string      `json:"internal_url,omitempty" yaml:"internal_url,omitempty"`
	ExternalURL string      `json:"external_url,omitempty" yaml:"external_url,omitempty"`
	Dashboards  []Dashboard `json:"dashboards,omitempty" yaml:"dashboards,omitempty"`
}

// Dashboard is a Grafana dashboard Kiali links to, found by title, with the
// dashboard variables Kiali fills in.
type Dashboard struct {
	Name      string            `json:"name" yaml:"name"`
	Variables map[string]string `json:"variables" yaml:"variables"`
}

// Tracing is external_services.tracing.
type Tracing struct {
	Enabled     bool   `json:"enabled" yaml:"enabled"`
	Provider    string `json:"provider,omitempty" yaml:"provider,omitempty"`
	InternalURL string `json:"internal_url,omitempty" yaml:"internal_url,omitempty"`
	ExternalURL string `json:"external_url,omitempty" yaml:"external_url,omitempty"`
	UseGRPC     *bool  `json:"use_grpc,omitempty" yaml:"use_grpc,omitempty"`
}

// Generate writes the Kiali resource or the chart's values.
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	k := p.Kiali
	if k == nil {
		return nil, nil
	}
	cfg := Configuration(p)
	if k.Install == v1alpha1.KialiHelm {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(cfg); err != nil {
			return nil, err
		}
		data := buf.Bytes()
		head := fmt.Sprintf("# Kiali's configuration for the kiali-server chart: helm upgrade kiali-server kiali/kiali-server -n %s --reuse-values -f kiali-server-values.yaml\n# The chart renders it into the ConfigMap kiali (config.yaml).\n", k.Namespace)
		return []output.File{output.YAML(ValuesPath, append([]byte(head), data...))}, nil
	}
	meta := manifest.Meta(p, "")
	cfg.Deployment = &Deployment{Namespace: k.Namespace}
	cr := Kiali{APIVersion: "kiali.io/v1alpha1", Kind: "Kiali", Spec: cfg,
		Metadata: map[string]any{"name": "kiali", "namespace": k.Namespace, "labels": meta.Labels}}
	f, err := manifest.File(CRPath, cr)
	if err != nil {
		return nil, err
	}
	return []output.File{f}, nil
}

// Configuration is Kiali's configuration for the plan.
func Configuration(p *plan.Plan) Config {
	k := p.Kiali
	ds := k.Prometheus
	prom := Prometheus{URL: ds.URL}
	if len(ds.Headers) > 0 {
		prom.CustomHeaders = ds.Headers.Map()
	}
	if ds.Shared {
		// Every series in a store carries the cluster external label.
		prom.QueryScope = map[string]string{"cluster": p.Cluster.Name}
	}
	g := Grafana{Enabled: k.GrafanaURL != "", InternalURL: k.GrafanaURL, ExternalURL: k.GrafanaExternalURL}
	if g.Enabled && p.Dashboards.Team {
		for _, t := range p.Teams {
			g.Dashboards = append(g.Dashboards, Dashboard{Name: plan.TeamDashboardTitle(p, t.Name),
				Variables: map[string]string{"datasource": "var-datasource", "namespace": "var-namespace", "workload": "var-workload"}})
		}
	}
	tr := Tracing{Enabled: false}
	if t := p.Tracing; t != nil && t.Query != nil {
		grpc := t.Query.UsesGRPC()
		tr = Tracing{Enabled: true, Provider: string(t.Query.Provider), InternalURL: t.Query.URL,
			ExternalURL: cmp.Or(t.Query.ExternalURL, ""), UseGRPC: &grpc}
	}
	return Config{Server: Server{Port: k.Port}, ExternalServices: ExternalServices{Prometheus: prom, Grafana: g, Tracing: tr}}
}
