package kiali

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

func profile(change func(*v1alpha1.Profile)) *plan.Plan {
	p := &v1alpha1.Profile{APIVersion: "obsgen.dev/v1alpha1", Kind: "Profile", Metadata: v1alpha1.Metadata{Name: "c1"},
		Mesh:  v1alpha1.Mesh{Provider: v1alpha1.MeshIstio},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"}, Services: []v1alpha1.Service{{Name: "web", Namespace: "shop", Port: 8080}}}},
		Kiali: v1alpha1.Kiali{Enabled: true}}
	change(p)
	return plan.Resolve(p)
}

func TestConfiguration(t *testing.T) {
	t.Run("this cluster's Prometheus, Grafana's team baselines", func(t *testing.T) {
		c := Configuration(profile(func(p *v1alpha1.Profile) { p.Kiali.GrafanaURL = "http://localhost:3000" }))
		assert.Equal(t, "http://prometheus.monitoring.svc:9090", c.ExternalServices.Prometheus.URL)
		assert.Nil(t, c.ExternalServices.Prometheus.QueryScope, "this cluster's series carry no cluster label")
		assert.Equal(t, "http://grafana.monitoring.svc:3000", c.ExternalServices.Grafana.InternalURL)
		require.Len(t, c.ExternalServices.Grafana.Dashboards, 1)
		assert.Equal(t, "shop baseline (c1)", c.ExternalServices.Grafana.Dashboards[0].Name)
		assert.False(t, c.ExternalServices.Tracing.Enabled)
		assert.Equal(t, 20001, c.Server.Port)
	})
	t.Run("a Grafana Service in front of other ports (the Helm chart's 80)", func(t *testing.T) {
		p := profile(func(p *v1alpha1.Profile) {
			p.Kiali.GrafanaURL = "https://grafana.example"
			p.Kiali.GrafanaInternalURL = "http://grafana.monitoring.svc:80"
		})
		assert.Equal(t, "http://grafana.monitoring.svc:80", Configuration(p).ExternalServices.Grafana.InternalURL)
		var toGrafana *plan.Flow
		for i, f := range p.Flows {
			if f.ID == "kiali-to-grafana" {
				toGrafana = &p.Flows[i]
			}
		}
		require.NotNil(t, toGrafana)
		assert.Equal(t, 3000, toGrafana.Ports[0].Port, "policies see the pods' port, after the Service")
	})
	t.Run("a shared store: tenant header and cluster scope", func(t *testing.T) {
		c := Configuration(profile(func(p *v1alpha1.Profile) {
			p.Monitoring.Prometheus.Shards = 2
			p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "m", URL: "http://mimir.mimir:8080/api/v1/push", Headers: map[string]string{"X-Scope-OrgID": "t1"}}}
			p.Dashboards.Datasource.URL = "http://mimir.mimir:8080/prometheus"
		}))
		assert.Equal(t, "http://mimir.mimir:8080/prometheus", c.ExternalServices.Prometheus.URL)
		assert.Equal(t, map[string]string{"X-Scope-OrgID": "t1"}, c.ExternalServices.Prometheus.CustomHeaders)
		assert.Equal(t, map[string]string{"cluster": "c1"}, c.ExternalServices.Prometheus.QueryScope)
		require.NotNil(t, c.ExternalServices.Prometheus.ThanosProxy, "a store serves no /api/v1/status/config")
		assert.Equal(t, "30s", c.ExternalServices.Prometheus.ThanosProxy.ScrapeInterval)
		// Kiali connects only once its probe answers below 400, and Mimir
		// has no /prometheus/-/healthy (grafana/mimir#7399).
		assert.Equal(t, "http://mimir.mimir:8080/prometheus/api/v1/status/buildinfo", c.ExternalServices.Prometheus.HealthCheckURL)

		c = Configuration(profile(func(p *v1alpha1.Profile) {
			p.Monitoring.Prometheus.Shards = 2
			p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "t", URL: "http://thanos-receive.thanos:19291/api/v1/receive"}}
			p.Dashboards.Datasource.URL = "http://thanos-query.thanos:9090"
		}))
		assert.Empty(t, c.ExternalServices.Prometheus.HealthCheckURL, "Thanos Query serves /-/healthy, Kiali's default probe")
	})
	t.Run("Grafana links need the browsers' URL; a token from a Secret", func(t *testing.T) {
		c := Configuration(profile(func(*v1alpha1.Profile) {}))
		assert.False(t, c.ExternalServices.Grafana.Enabled, "without kiali.grafanaURL Kiali can build no link")
		c = Configuration(profile(func(p *v1alpha1.Profile) {
			p.Kiali.GrafanaURL = "https://grafana.example"
			p.Kiali.GrafanaToken = &v1alpha1.SecretKey{Secret: "kiali-grafana", Key: "token"}
		}))
		assert.True(t, c.ExternalServices.Grafana.Enabled)
		assert.Equal(t, "https://grafana.example", c.ExternalServices.Grafana.ExternalURL)
		assert.Equal(t, "secret:kiali-grafana:token", c.ExternalServices.Grafana.Auth.Token)
		assert.NotEmpty(t, c.ExternalServices.Grafana.DatasourceUID)
	})
	t.Run("obsgen's policies replace Kiali's own", func(t *testing.T) {
		c := Configuration(profile(func(p *v1alpha1.Profile) {
			p.Network.Stance = v1alpha1.StanceDefaultDeny
			p.Cluster.APIServerCIDRs, p.Cluster.NodeCIDRs = []string{"10.0.0.1/32"}, []string{"10.1.0.0/16"}
		}))
		assert.False(t, c.Deployment.NetworkPolicy.Enabled)
	})
	t.Run("Jaeger's gRPC query port, Tempo over HTTP", func(t *testing.T) {
		for url, want := range map[string]bool{"http://tracing.istio-system:16685/jaeger": true, "http://tracing.istio-system:16686/jaeger": false} {
			c := Configuration(profile(func(p *v1alpha1.Profile) {
				p.Tracing = v1alpha1.Tracing{Enabled: true, Query: &v1alpha1.TracingQuery{URL: url}}
			}))
			require.NotNil(t, c.ExternalServices.Tracing.UseGRPC)
			assert.Equal(t, want, *c.ExternalServices.Tracing.UseGRPC, url)
			assert.Equal(t, "jaeger", c.ExternalServices.Tracing.Provider)
		}
		c := Configuration(profile(func(p *v1alpha1.Profile) {
			p.Tracing = v1alpha1.Tracing{Enabled: true, Query: &v1alpha1.TracingQuery{Provider: v1alpha1.TracingTempo, URL: "http://tempo.tempo:3200"}}
		}))
		assert.False(t, *c.ExternalServices.Tracing.UseGRPC)
	})
}

func TestGenerateWritesTheCROrTheChartValues(t *testing.T) {
	files, err := Generate(profile(func(*v1alpha1.Profile) {}), nil)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, CRPath, files[0].Path)
	assert.True(t, files[0].Manifest)
	var cr struct {
		APIVersion string `yaml:"apiVersion"`
		Spec       struct {
			Deployment       map[string]any `yaml:"deployment"`
			ExternalServices map[string]any `yaml:"external_services"`
		}
	}
	require.NoError(t, yaml.Unmarshal(files[0].Data, &cr))
	assert.Equal(t, "kiali.io/v1alpha1", cr.APIVersion)
	assert.Equal(t, "istio-system", cr.Spec.Deployment["namespace"])
	assert.Equal(t, map[string]any{"enabled": true}, cr.Spec.Deployment["network_policy"], "the open stance keeps Kiali's own policy")
	assert.Contains(t, cr.Spec.ExternalServices, "prometheus")

	files, err = Generate(profile(func(p *v1alpha1.Profile) { p.Kiali.Install = v1alpha1.KialiHelm }), nil)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, ValuesPath, files[0].Path)
	assert.False(t, files[0].Manifest, "chart values are no cluster object")
	var values map[string]any
	require.NoError(t, yaml.Unmarshal(files[0].Data, &values))
	assert.Contains(t, values, "external_services", "the chart takes the keys at the top level")
}
