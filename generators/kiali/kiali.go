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
	"fmt"
	"strings"

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
	Deployment       Deployment       `json:"deployment" yaml:"deployment"`
	Server           Server           `json:"server" yaml:"server"`
	ExternalServices ExternalServices `json:"external_services" yaml:"external_services"`
}

// Deployment is how Kiali is deployed.
type Deployment struct {
	// Namespace is where the operator deploys Kiali (the chart deploys it
	// to its release's namespace).
	Namespace     string        `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	NetworkPolicy NetworkPolicy `json:"network_policy" yaml:"network_policy"`
}

// NetworkPolicy is the NetworkPolicy Kiali ships (kiali-operator
// roles/default/kiali-deploy/templates/kubernetes/networkpolicy.yaml;
// kiali/helm-charts kiali-server templates/networkpolicy.yaml): it lets
// every source reach 20001 and 9090, and under Calico, which runs
// Kubernetes policies before a global deny of a higher order, it would
// open Kiali to everyone. Off whenever obsgen writes the policies.
type NetworkPolicy struct {
	Enabled bool `json:"enabled" yaml:"enabled"`
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
	// HealthCheckURL is what Kiali probes before it uses the store; it
	// reads nothing from it until that answers below 400.
	HealthCheckURL string `json:"health_check_url,omitempty" yaml:"health_check_url,omitempty"`
	// QueryScope adds these matchers to every query (a shared store holds
	// other clusters' series too).
	QueryScope map[string]string `json:"query_scope,omitempty" yaml:"query_scope,omitempty"`
	// ThanosProxy tells Kiali the store serves no /api/v1/status/config
	// (Thanos Query, Mimir): it takes the scrape interval from here
	// (kiali/kiali handlers/config.go).
	ThanosProxy *ThanosProxy `json:"thanos_proxy,omitempty" yaml:"thanos_proxy,omitempty"`
}

// ThanosProxy is external_services.prometheus.thanos_proxy.
type ThanosProxy struct {
	Enabled        bool   `json:"enabled" yaml:"enabled"`
	ScrapeInterval string `json:"scrape_interval" yaml:"scrape_interval"`
}

// Auth is a credential Kiali presents; Token may read a Secret
// ("secret:<name>:<key>", Kiali's Secret reference for credentials).
type Auth struct {
	Type          string `json:"type" yaml:"type"`
	Token         string `json:"token,omitempty" yaml:"token,omitempty"`
	UseKialiToken bool   `json:"use_kiali_token" yaml:"use_kiali_token"`
}

// Grafana is external_services.grafana.
type Grafana struct {
	Enabled     bool   `json:"enabled" yaml:"enabled"`
	InternalURL string `json:"internal_url,omitempty" yaml:"internal_url,omitempty"`
	ExternalURL string `json:"external_url,omitempty" yaml:"external_url,omitempty"`
	// DatasourceUID makes Kiali pass the data source to the dashboards'
	// datasource variable (kiali/kiali frontend GrafanaLinks.tsx).
	DatasourceUID string      `json:"datasource_uid,omitempty" yaml:"datasource_uid,omitempty"`
	Auth          *Auth       `json:"auth,omitempty" yaml:"auth,omitempty"`
	Dashboards    []Dashboard `json:"dashboards,omitempty" yaml:"dashboards,omitempty"`
}

// Dashboard is a Grafana dashboard Kiali links to, found by title, with the
// dashboard variables Kiali fills in.
type Dashboard struct {
	Name      string            `json:"name" yaml:"name"`
	Variables map[string]string `json:"variables" yaml:"variables"`
}

// Tracing is external_services.tracing.
type Tracing struct {
	Enabled       bool              `json:"enabled" yaml:"enabled"`
	Provider      string            `json:"provider,omitempty" yaml:"provider,omitempty"`
	InternalURL   string            `json:"internal_url,omitempty" yaml:"internal_url,omitempty"`
	ExternalURL   string            `json:"external_url,omitempty" yaml:"external_url,omitempty"`
	UseGRPC       *bool             `json:"use_grpc,omitempty" yaml:"use_grpc,omitempty"`
	CustomHeaders map[string]string `json:"custom_headers,omitempty" yaml:"custom_headers,omitempty"`
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
		head := fmt.Sprintf("# Kiali's configuration for a Kiali installed with the kiali-server chart:\n#   helm upgrade kiali-server kiali/kiali-server -n %s --reuse-values -f kiali-server-values.yaml\n# The chart renders it into the ConfigMap kiali (config.yaml). A Kiali applied from\n# rendered manifests (Istio's samples/addons/kiali.yaml) takes the same keys in that ConfigMap.\n", k.Namespace)
		return []output.File{output.YAML(ValuesPath, append([]byte(head), data...))}, nil
	}
	meta := manifest.Meta(p, "")
	cfg.Deployment.Namespace = k.Namespace
	cr := Kiali{APIVersion: "kiali.io/v1alpha1", Kind: "Kiali", Spec: cfg,
		Metadata: map[string]any{"name": "kiali", "namespace": k.Namespace, "labels": meta.Labels}}
	f, err := manifest.File(CRPath, cr)
	if err != nil {
		return nil, err
	}
	return []output.File{f}, nil
}

// healthCheckURL is what Kiali should probe before it queries a store at
// url. Kiali connects to Prometheus only once <url>/-/healthy (or
// health_check_url) answers below 400, and retries every 30 seconds
// until then (kiali/kiali prometheus/lazy_client.go, connect); the probe
// sends no custom header, so no tenant. Mimir and Cortex serve the
// Prometheus API under /prometheus but no /-/healthy there
// (grafana/mimir#7399, declined: it is no part of the Prometheus API);
// their build information answers without a tenant (Mimir pkg/api
// registers /api/v1/status/buildinfo without authentication). Thanos
// Query serves /-/healthy, so Kiali's default stands there.
func healthCheckURL(url string) string {
	if strings.HasSuffix(strings.TrimSuffix(url, "/"), "/prometheus") {
		return strings.TrimSuffix(url, "/") + "/api/v1/status/buildinfo"
	}
	return ""
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
		prom.ThanosProxy = &ThanosProxy{Enabled: true, ScrapeInterval: k.ScrapeInterval}
		prom.HealthCheckURL = healthCheckURL(ds.URL)
	}
	g := Grafana{Enabled: k.GrafanaURL != "", InternalURL: k.GrafanaURL}
	if g.Enabled {
		g.ExternalURL, g.DatasourceUID = k.GrafanaExternalURL, p.Dashboards.Datasource.UID
		if tok := k.GrafanaToken; tok != nil {
			g.Auth = &Auth{Type: "bearer", Token: fmt.Sprintf("secret:%s:%s", tok.Secret, tok.Key)}
		}
	}
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
			ExternalURL: t.Query.ExternalURL, UseGRPC: &grpc}
		if len(t.Query.Headers) > 0 {
			tr.CustomHeaders = t.Query.Headers.Map()
		}
	}
	return Config{Deployment: Deployment{NetworkPolicy: NetworkPolicy{Enabled: k.OwnNetworkPolicy}}, Server: Server{Port: k.Port},
		ExternalServices: ExternalServices{Prometheus: prom, Grafana: g, Tracing: tr}}
}
