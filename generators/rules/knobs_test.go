package rules

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/ruletest"
)

func knobPlan() *plan.Plan {
	ten, fifty, ms := 10.0, 50.0, 250.0
	slo := &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9}}
	off := false
	return plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "knobs"},
		Mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		Alerting: v1alpha1.Alerts{
			Disable: []string{"KubeJobFailed", "obsgen-istio-control-plane"},
			Labels:  map[string]string{"env": "prod"},
			Overrides: map[string]v1alpha1.AlertOverride{
				"IstioHighErrorRate": {Threshold: &ten},
				"TargetDown":         {For: "30m"},
			},
		},
		Teams: []v1alpha1.Team{
			{Name: "shop", Namespaces: []string{"shop"}, Alerting: v1alpha1.Alerting{
				Disable:   []string{"CPUThrottlingHigh"},
				Overrides: map[string]v1alpha1.AlertOverride{"IstioHighLatency": {Threshold: &ms, For: "20m"}},
			}, Services: []v1alpha1.Service{{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}, SLOs: slo}}},
			{Name: "search", Namespaces: []string{"search"}, Alerting: v1alpha1.Alerting{
				Overrides: map[string]v1alpha1.AlertOverride{"TargetDown": {Threshold: &fifty}},
			}},
			{Name: "web", Namespaces: []string{"web"}, Alerting: v1alpha1.Alerting{Disable: []string{"ErrorBudgetBurn"}},
				Services: []v1alpha1.Service{{Name: "front", Namespace: "web", Port: 8080, Selector: map[string]string{"app": "front"}, SLOs: slo}}},
		}})
}

func alertRules(files []File, alert string) []Rule { return find(files, alert) }

// TestKnobsChangeTheRulesAndKeepTheirTestsPassing applies every knob and
// runs the resulting unit tests with the in-process runner.
func TestKnobsChangeTheRulesAndKeepTheirTestsPassing(t *testing.T) {
	p := knobPlan()
	files := Files(p)

	assert.Empty(t, alertRules(files, "KubeJobFailed"), "disabled by name")
	assert.Empty(t, alertRules(files, "IstiodDown"), "disabled with its group")
	assert.NotEmpty(t, alertRules(files, "KubePodCrashLooping"))
	var recordings int
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recordings++
				} else {
					assert.Equal(t, "prod", r.Labels["env"], "%s carries alerting.labels", r.Alert)
				}
			}
		}
	}
	assert.Greater(t, recordings, 50, "recording rules stay")

	cpu := alertRules(files, "CPUThrottlingHigh")
	require.Len(t, cpu, 1, "shop disabled it for itself only")
	assert.Contains(t, cpu[0].Expr, `team!~"shop"`)

	latency := alertRules(files, "IstioHighLatency")
	require.Len(t, latency, 2)
	assert.Contains(t, latency[0].Expr, `team!~"shop"`)
	assert.Contains(t, latency[0].Expr, `> 1000, "namespace"`)
	assert.Equal(t, "10m", latency[0].For)
	assert.Contains(t, latency[1].Expr, `team="shop"`)
	assert.Contains(t, latency[1].Expr, `> 250, "namespace"`)
	assert.Equal(t, "20m", latency[1].For)

	errs := alertRules(files, "IstioHighErrorRate")
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Expr, "> 0.1 ")

	down := alertRules(files, "TargetDown")
	require.Len(t, down, 2)
	assert.Contains(t, down[0].Expr, `team!~"search"`)
	assert.Contains(t, down[0].Expr, "> 10")
	assert.Contains(t, down[1].Expr, `team="search"`)
	assert.Contains(t, down[1].Expr, "> 50")
	assert.Equal(t, "30m", down[0].For, "the global for applies to the shared rule")
	assert.Equal(t, "30m", down[1].For, "and to the team's copy")
	assert.Contains(t, down[0].Annotations["description"], "down for 30 minutes", "the text follows the new for")
	assert.Contains(t, latency[1].Annotations["description"], "above 250 ms for 20 minutes")

	for _, r := range alertRules(files, "ErrorBudgetBurn") {
		assert.Equal(t, "shop", r.Labels["team"], "web disabled its objectives' alerts")
	}
	assert.NotEmpty(t, alertRules(files, "ErrorBudgetBurn"))

	// Every rule's unit tests still pass.
	out, err := Generate(p, nil)
	require.NoError(t, err)
	runAll(t, out)
}

func runAll(t *testing.T, files []output.File) {
	t.Helper()
	dir := t.TempDir()
	var tests []string
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, f.Data, 0o644))
		if strings.HasPrefix(f.Path, TestsDir) && !strings.Contains(f.Path, "slos") {
			tests = append(tests, path)
		}
	}
	require.NotEmpty(t, tests)
	for _, path := range tests {
		passed, failures := ruletest.RunFile(path)
		assert.Empty(t, failures, "%s", filepath.Base(path))
		assert.NotEmpty(t, passed)
	}
}

// TestAlertGroupsListEveryAlert keeps the catalogue the profile validation
// reads equal to the rules obsgen generates.
func TestAlertGroupsListEveryAlert(t *testing.T) {
	got := map[string][]string{}
	gateway := []v1alpha1.Gateway{{Name: "ingress", Namespace: "istio-system", PodLabels: map[string]string{"istio": "ingressgateway"}, Ports: []int{8080}}}
	remote := []v1alpha1.RemoteWrite{{Name: "store", URL: "http://thanos-receive.store:19291/api/v1/receive"}}
	sidecar := testPlan(func(in *v1alpha1.Profile) { in.Mesh.Gateways = gateway; in.Monitoring.Prometheus.RemoteWrite = remote })
	ambient := testPlan(func(in *v1alpha1.Profile) {
		in.Mesh.DataPlane = v1alpha1.DataPlaneAmbient
		in.Monitoring.Prometheus.Mode = v1alpha1.ModeAgent
		in.Monitoring.Prometheus.RemoteWrite = remote
	})
	for _, f := range append(Files(sidecar), Files(ambient)...) {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" && !slices.Contains(got[f.Name], r.Alert) {
					got[f.Name] = append(got[f.Name], r.Alert)
				}
			}
		}
	}
	assert.Equal(t, AlertGroups, got)
	for name := range Thresholds {
		if !slices.Contains(AlertGroups["obsgen-istio-gateways"], name) { // the platform's gateways
			assert.Contains(t, TeamAlerts, name, "tunable alerts are team alerts")
		}
	}
}

// TestPrometheusRulesCarryTheRuleFiles: the operator flavour's
// PrometheusRule of each rule file decodes strictly and holds the same
// groups and rules as the raw file.
func TestPrometheusRulesCarryTheRuleFiles(t *testing.T) {
	p := testPlan(func(in *v1alpha1.Profile) {
		in.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourPrometheus, v1alpha1.FlavourOperator}
	})
	files, err := Generate(p, nil)
	require.NoError(t, err)
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	n := 0
	for _, rf := range Files(p) {
		data, ok := byPath[PrometheusRulePath(rf.Name)]
		require.True(t, ok, rf.Name)
		var pr monitoringv1.PrometheusRule
		require.NoError(t, sigsyaml.UnmarshalStrict(data, &pr), rf.Name)
		raw, err := rulefmt.Parse(byPath[RulesDir+rf.Name+".yaml"], false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
		require.Empty(t, err)
		require.Len(t, pr.Spec.Groups, len(raw.Groups))
		for i, g := range raw.Groups {
			assert.Equal(t, g.Name, pr.Spec.Groups[i].Name)
			require.Len(t, pr.Spec.Groups[i].Rules, len(g.Rules))
			for j, r := range g.Rules {
				got := pr.Spec.Groups[i].Rules[j]
				assert.Equal(t, r.Alert+r.Record, got.Alert+got.Record)
				assert.Equal(t, r.Expr, got.Expr.String())
				assert.Equal(t, r.Labels, got.Labels)
				assert.Equal(t, r.Annotations, got.Annotations)
				n++
			}
		}
		assert.Equal(t, p.Name, pr.Labels["obsgen.dev/profile"], "the Prometheus resource selects it")
	}
	assert.Greater(t, n, 50)
}
