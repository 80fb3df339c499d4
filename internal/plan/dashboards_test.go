package plan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

func TestDashboardsDefaults(t *testing.T) {
	d := Resolve(minimal()).Dashboards
	assert.True(t, d.Mesh && d.Team && d.ControlPlane && d.Monitoring, "every dashboard by default")
	assert.False(t, d.Gateways, "no gateway is declared")
	assert.Equal(t, Datasource{Name: "Prometheus", UID: "obsgen-c1", URL: "http://prometheus.monitoring.svc:9090",
		Endpoint: NetEndpoint{Peer: Peer{Namespace: "monitoring"}, Port: 9090, InCluster: true}}, d.Datasource)
	assert.Equal(t, "platform", d.PlatformFolder)
	assert.Equal(t, "monitoring", d.Namespace, "Grafana's namespace")
	assert.Nil(t, d.Operator)
}

func TestDashboardsFollowTheProfile(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*v1alpha1.Profile)
		check  func(*testing.T, Dashboards)
	}{
		"without Istio there is no mesh or control plane to show": {
			mutate: func(p *v1alpha1.Profile) { p.Mesh.Provider = v1alpha1.MeshNone },
			check: func(t *testing.T, d Dashboards) {
				assert.False(t, d.Mesh || d.ControlPlane)
				assert.True(t, d.Team && d.Monitoring)
			},
		},
		"disabled dashboards are left out": {
			mutate: func(p *v1alpha1.Profile) {
				p.Dashboards.Disable = []v1alpha1.DashboardKind{v1alpha1.DashboardTeam, v1alpha1.DashboardMonitoring}
			},
			check: func(t *testing.T, d Dashboards) {
				assert.False(t, d.Team || d.Monitoring)
				assert.True(t, d.Any())
			},
		},
		"the operator gets the default instance labels": {
			mutate: func(p *v1alpha1.Profile) { p.Dashboards.GrafanaOperator.Enabled = true },
			check: func(t *testing.T, d Dashboards) {
				assert.Equal(t, &GrafanaOperator{InstanceLabels: Labels{{Name: "dashboards", Value: "grafana"}},
					Namespace: "monitoring", PodLabels: Labels{{Name: "app.kubernetes.io/name", Value: "grafana-operator"}}}, d.Operator)
			},
		},
		"Grafana's namespace and the Prometheus Service name the defaults": {
			mutate: func(p *v1alpha1.Profile) {
				p.Monitoring.Grafana.Namespace = "grafana"
				p.Monitoring.Prometheus.Name = "prom"
				p.Monitoring.Namespace = "obs"
			},
			check: func(t *testing.T, d Dashboards) {
				assert.Equal(t, "grafana", d.Namespace)
				assert.Equal(t, "http://prom.obs.svc:9090", d.Datasource.URL)
			},
		},
		"this cluster's Prometheus holds its own series, without external labels": {
			mutate: func(p *v1alpha1.Profile) {
				p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "m", URL: "https://m.example/api/v1/push",
					Headers: map[string]string{"X-Scope-OrgID": "c1"}}}
				p.Dashboards.Datasource.URL = "http://prometheus.monitoring:9090"
			},
			check: func(t *testing.T, d Dashboards) {
				assert.False(t, d.Datasource.Shared)
				assert.Nil(t, d.Datasource.Headers, "the remote write's tenant is for the store")
			},
		},
		"another URL is a store, queried as the remote write's tenant": {
			mutate: func(p *v1alpha1.Profile) {
				p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "m", URL: "https://m.example/api/v1/push",
					Headers: map[string]string{"x-scope-orgid": "c1"}}}
				p.Dashboards.Datasource.URL = "https://m.example/prometheus"
			},
			check: func(t *testing.T, d Dashboards) {
				assert.True(t, d.Datasource.Shared)
				assert.Equal(t, Labels{{Name: TenantHeader, Value: "c1"}}, d.Datasource.Headers)
			},
		},
		"an agent always queries a store; headers the profile gives win, {} sends none": {
			mutate: func(p *v1alpha1.Profile) {
				p.Monitoring.Prometheus.Mode = v1alpha1.ModeAgent
				p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "m", URL: "https://m.example/api/v1/push",
					Headers: map[string]string{"X-Scope-OrgID": "c1"}}}
				p.Dashboards.Datasource.URL = "http://prometheus.monitoring.svc:9090"
				p.Dashboards.Datasource.Headers = map[string]string{}
			},
			check: func(t *testing.T, d Dashboards) {
				assert.True(t, d.Datasource.Shared, "an agent serves no queries: the URL leads elsewhere whatever its name")
				assert.Nil(t, d.Datasource.Headers)
			},
		},
		"shards always query a store": {
			mutate: func(p *v1alpha1.Profile) {
				p.Monitoring.Prometheus.Shards = 2
				p.Dashboards.Datasource.URL = "http://thanos-query.monitoring:9090"
				p.Dashboards.Datasource.Headers = map[string]string{"X-Scope-OrgID": "other"}
			},
			check: func(t *testing.T, d Dashboards) {
				assert.True(t, d.Datasource.Shared)
				assert.Equal(t, Labels{{Name: TenantHeader, Value: "other"}}, d.Datasource.Headers)
			},
		},
		"the gateway dashboard needs declared gateways": {
			mutate: func(p *v1alpha1.Profile) {
				p.Mesh.Gateways = []v1alpha1.Gateway{{Name: "ingress", PodLabels: map[string]string{"istio": "ingressgateway"}, Ports: []int{8080}}}
			},
			check: func(t *testing.T, d Dashboards) { assert.True(t, d.Gateways) },
		},
		"extra rows get their panels' defaults": {
			mutate: func(p *v1alpha1.Profile) {
				p.Dashboards.ExtraRows = []v1alpha1.DashboardRow{{Title: "x", Teams: []string{"b-team", "a-team"},
					Panels: []v1alpha1.DashboardPanel{{Title: "p", Queries: []v1alpha1.PanelQuery{{Expr: "up"}}}}}}
			},
			check: func(t *testing.T, d Dashboards) {
				assert.Equal(t, []DashboardRow{{Title: "x", Teams: []string{"a-team", "b-team"}, Panels: []DashboardPanel{
					{Title: "p", Type: "timeseries", Unit: "short", Width: 12, Queries: []PanelQuery{{Expr: "up"}}}}}}, d.ExtraRows)
				assert.True(t, d.ExtraRows[0].AppliesTo("a-team"))
				assert.False(t, d.ExtraRows[0].AppliesTo("c-team"))
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			in := minimal()
			tc.mutate(in)
			tc.check(t, Resolve(in).Dashboards)
		})
	}
}

func TestWithDefaultsLeavesTheExtraRowsOfTheInputAlone(t *testing.T) {
	in := minimal()
	in.Dashboards.ExtraRows = []v1alpha1.DashboardRow{{Title: "x", Panels: []v1alpha1.DashboardPanel{{Title: "p"}}}}
	WithDefaults(in)
	assert.Empty(t, in.Dashboards.ExtraRows[0].Panels[0].Type)
}

func TestWithDefaultsLeavesTheHeadersOfTheInputAlone(t *testing.T) {
	in := minimal()
	in.Dashboards.Datasource.Headers = map[string]string{"X-Scope-OrgID": "a"}
	WithDefaults(in).Dashboards.Datasource.Headers["X-Scope-OrgID"] = "b"
	assert.Equal(t, "a", in.Dashboards.Datasource.Headers["X-Scope-OrgID"])
}

func TestGrafanaUID(t *testing.T) {
	assert.Equal(t, "obsgen-shop", GrafanaUID("obsgen", "shop"))
	long := GrafanaUID("a-profile-with-a-rather-long-name", "team", "payments-settlement")
	assert.Len(t, long, 40)
	assert.True(t, strings.HasPrefix(long, "a-profile-with-a-rather-long-na-"), long)
	assert.Equal(t, long, GrafanaUID("a-profile-with-a-rather-long-name", "team", "payments-settlement"), "stable")
	assert.NotEqual(t, long, GrafanaUID("a-profile-with-a-rather-long-name", "team", "payments-settlement2"), "unique")
}
