package rules

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

func testPlan(mutate func(*v1alpha1.Profile)) *plan.Plan {
	in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "r"},
		Mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"}, Services: []v1alpha1.Service{{
			Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"},
			SLOs: &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9}, Latency: &v1alpha1.LatencySLO{ThresholdMs: 250, Target: 99}},
		}}}}}
	if mutate != nil {
		mutate(in)
	}
	return plan.Resolve(in)
}

// TestNoRuleReadsAnOrphanMetric: every metric a rule reads is produced by
// a scrape job the plan generates (per MetricsByJob) or recorded by a rule.
func TestNoRuleReadsAnOrphanMetric(t *testing.T) {
	for name, p := range map[string]*plan.Plan{
		"sidecar": testPlan(nil),
		"ambient": testPlan(func(in *v1alpha1.Profile) {
			in.Mesh.DataPlane = v1alpha1.DataPlaneAmbient
			in.Mesh.Waypoints = []v1alpha1.Waypoint{{Name: "waypoint", Namespace: "shop"}}
		}),
		"no mesh": testPlan(func(in *v1alpha1.Profile) { in.Mesh.Provider = v1alpha1.MeshNone; in.Mesh.MTLS = "" }),
	} {
		files := Files(p)
		produced := Produced(p, files)
		var groups []Group
		for _, f := range files {
			groups = append(groups, f.Groups...)
		}
		read := 0
		for _, g := range groups {
			for _, r := range g.Rules {
				expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
				require.NoError(t, err, "%s %s%s", name, r.Alert, r.Record)
				parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
					if vs, ok := n.(*parser.VectorSelector); ok {
						read++
						assert.True(t, produced[vs.Name], "%s: %s%s reads %s, which no generated job produces", name, r.Alert, r.Record, vs.Name)
					}
					return nil
				})
			}
		}
		assert.Greater(t, read, 20, name)
	}
}

// TestEveryAlertHasItsAnnotationsAndATest: severity, summary, description,
// runbook_url, and a firing and a quiet case.
func TestEveryAlertHasItsAnnotationsAndATest(t *testing.T) {
	alerts := 0
	for _, f := range Files(testPlan(nil)) {
		for _, r := range rulesOf(f) {
			if r.Alert == "" {
				continue
			}
			alerts++
			if r.Heartbeat { // the Watchdog: severity none, always fires
				assert.Equal(t, "none", r.Labels["severity"])
				assert.True(t, r.Test.AlwaysFires)
				continue
			}
			assert.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], r.Alert)
			for _, k := range []string{"summary", "description", "runbook_url"} {
				assert.NotEmpty(t, r.Annotations[k], "%s lacks %s", r.Alert, k)
			}
			require.NotNil(t, r.Test, r.Alert)
			assert.NotEmpty(t, r.Test.Fire.Expect, "%s: the firing case expects an alert", r.Alert)
			assert.NotEmpty(t, r.Test.Quiet.Series, "%s: the quiet case has input", r.Alert)
		}
	}
	assert.Greater(t, alerts, 15)
}

func rulesOf(f File) []Rule {
	var out []Rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// TestIstioCSRLeavesOutTheAlertsOnIstiodsCA: with istio-csr istiod runs
// with ENABLE_CA_SERVER=false (cert-manager.io docs/usage/istio-csr), so
// the citadel_server_* series the CA alerts read never exist: those alerts
// could never fire and are left out; without it they are there.
func TestIstioCSRLeavesOutTheAlertsOnIstiodsCA(t *testing.T) {
	alerts := func(p *plan.Plan) map[string]string {
		out := map[string]string{}
		for _, f := range Files(p) {
			for _, r := range rulesOf(f) {
				if r.Alert != "" {
					out[r.Alert] = r.Expr
				}
			}
		}
		return out
	}
	ca := []string{"IstiodCertificateSigningErrors", "IstioRootCertificateExpiring"}
	istiod := alerts(testPlan(nil))
	for _, a := range ca {
		assert.Contains(t, istiod, a)
	}
	csr := alerts(testPlan(func(in *v1alpha1.Profile) { in.Mesh.IstioCSR = &v1alpha1.IstioCSR{} }))
	for name, expr := range csr {
		assert.NotContains(t, expr, "citadel_server_", "%s reads istiod's CA, which is off", name)
	}
	for _, a := range ca {
		assert.NotContains(t, csr, a)
	}
	assert.Contains(t, csr, "IstiodXdsRejected", "istiod's other alerts stay")
}

// TestOnlyTheRulersWatchdogNamesItsEvaluator: with shards and a Mimir
// ruler, the ruler's Watchdog carries evaluator=mimir-ruler (Alertmanager
// routes it to a heartbeat of its own) and the servers' does not; the
// catalogue's rules are left as they were.
func TestOnlyTheRulersWatchdogNamesItsEvaluator(t *testing.T) {
	p := testPlan(func(in *v1alpha1.Profile) {
		in.Monitoring.Prometheus.Shards = 2
		in.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "mimir", URL: "http://mimir.mimir:8080/api/v1/push"}}
		in.Dashboards.Datasource.URL = "http://mimir.mimir:8080/prometheus"
	})
	files := Files(p)
	placed := Place(p, files)
	watchdogs := func(files []File) []Rule {
		var out []Rule
		for _, f := range files {
			for _, g := range f.Groups {
				for _, r := range g.Rules {
					if r.Heartbeat {
						out = append(out, r)
					}
				}
			}
		}
		return out
	}
	ruler, server, catalogue := watchdogs(placed.Ruler), watchdogs(placed.Server), watchdogs(files)
	require.Len(t, ruler, 1)
	require.Len(t, server, 1)
	assert.Equal(t, "mimir-ruler", ruler[0].Labels[plan.WatchdogEvaluatorLabel])
	assert.NotContains(t, server[0].Labels, plan.WatchdogEvaluatorLabel)
	assert.NotContains(t, catalogue[0].Labels, plan.WatchdogEvaluatorLabel, "the catalogue's rule is not changed in place")

	one := testPlan(nil)
	assert.Empty(t, Place(one, Files(one)).Ruler, "one server evaluates everything")
}
