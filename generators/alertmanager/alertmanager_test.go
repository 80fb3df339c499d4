package alertmanager

import (
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// testPlan scrapes Istio metrics with envoy-stats (istio-certs).
func testPlan() *plan.Plan {
	off := false
	return plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "am"},
		Mesh:     v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		Alerting: v1alpha1.Alerts{PlatformTeam: "infra", SeverityReceivers: map[string]string{"critical": "infra-pager"}},
		Teams: []v1alpha1.Team{
			{Name: "shop", Namespaces: []string{"shop"}, Alerting: v1alpha1.Alerting{Receiver: "shop-chat", SeverityReceivers: map[string]string{"critical": "shop-pager"}},
				Services: []v1alpha1.Service{{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"},
					SLOs: &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9}}}}},
			{Name: "search", Namespaces: []string{"search"}},
		}})
}

func load(t *testing.T, p *plan.Plan) *amconfig.Config {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	files, err := Generate(p, engine)
	require.NoError(t, err)
	require.Len(t, files, 1)
	cfg, err := amconfig.Load(string(files[0].Data))
	require.NoError(t, err)
	return cfg
}

// TestRoutesByTeamAndSeverity routes alerts through Alertmanager's own
// dispatch tree.
func TestRoutesByTeamAndSeverity(t *testing.T) {
	route := dispatch.NewRoute(load(t, testPlan()).Route, nil)
	receiver := func(labels model.LabelSet) []string {
		var out []string
		for _, r := range route.Match(labels) {
			out = append(out, r.RouteOpts.Receiver)
		}
		return out
	}
	assert.Equal(t, []string{"shop-pager"}, receiver(model.LabelSet{"team": "shop", "severity": "critical"}))
	assert.Equal(t, []string{"shop-chat"}, receiver(model.LabelSet{"team": "shop", "severity": "warning"}))
	assert.Equal(t, []string{"search"}, receiver(model.LabelSet{"team": "search", "severity": "critical"}), "the receiver defaults to the team name")
	assert.Equal(t, []string{"infra-pager"}, receiver(model.LabelSet{"team": "infra", "severity": "critical", "alertname": "IstiodDown"}))
	assert.Equal(t, []string{"infra"}, receiver(model.LabelSet{"team": "infra", "severity": "warning"}))
	assert.Equal(t, []string{"infra"}, receiver(model.LabelSet{"team": "nobody"}), "unknown teams go to the platform receiver")
	grouping := route.Match(model.LabelSet{"team": "shop", "severity": "warning"})[0].RouteOpts.GroupBy
	assert.Len(t, grouping, 3)
	for _, l := range plan.DefaultGroupBy {
		assert.Contains(t, grouping, model.LabelName(l), "pods of one namespace share a notification")
	}
}

// TestInhibition evaluates the inhibition rules as Alertmanager does: a
// firing source mutes a target when both sets of matchers match and the
// equal labels agree.
func TestInhibition(t *testing.T) {
	cfg := load(t, testPlan())
	muted := func(source, target model.LabelSet) bool {
		for _, r := range cfg.InhibitRules {
			if !labels.Matchers(r.SourceMatchers).Matches(source) || !labels.Matchers(r.TargetMatchers).Matches(target) {
				continue
			}
			equal := true
			for _, l := range r.Equal {
				equal = equal && source[model.LabelName(l)] == target[model.LabelName(l)]
			}
			if equal {
				return true
			}
		}
		return false
	}
	envoyDown := model.LabelSet{"alertname": "TargetDown", "job": "envoy-stats", "namespace": "shop", "team": "shop", "severity": "warning"}
	errors := model.LabelSet{"alertname": "IstioHighErrorRate", "team": "shop", "destination_workload_namespace": "shop",
		"destination_canonical_service": "web", "severity": "warning"}
	assert.True(t, muted(envoyDown, errors), "envoy-stats down in shop mutes shop's Istio warnings")
	other := errors.Clone()
	other["team"] = "search"
	assert.False(t, muted(envoyDown, other), "but not another team's")
	page := model.LabelSet{"alertname": "ErrorBudgetBurn", "team": "shop", "destination_workload_namespace": "shop",
		"destination_canonical_service": "web", "slo": "availability", "severity": "critical"}
	assert.False(t, muted(envoyDown, page), "a page is never muted by TargetDown")

	ksmDown := model.LabelSet{"alertname": "TargetDown", "job": "kube-state-metrics", "namespace": "monitoring", "team": "infra", "severity": "warning"}
	crash := model.LabelSet{"alertname": "KubePodCrashLooping", "team": "shop", "namespace": "shop", "pod": "web-1", "container": "web", "severity": "warning"}
	assert.True(t, muted(ksmDown, crash), "kube-state-metrics down mutes its warnings in every namespace")
	assert.False(t, muted(envoyDown, crash), "envoy-stats down does not mute kube-state-metrics' alerts")

	ticket := page.Clone()
	ticket["severity"] = "warning"
	assert.True(t, muted(page, ticket), "the SLO page mutes the ticket of the same objective")
	otherSLO := ticket.Clone()
	otherSLO["slo"] = "latency"
	assert.False(t, muted(page, otherSLO), "but not another objective's")
	otherPod := crash.Clone()
	otherPod["pod"] = "web-2"
	critical := crash.Clone()
	critical["severity"] = "critical"
	assert.False(t, muted(critical, otherPod), "a critical alert mutes only its own object's warning")
}

// TestJobDependentsCoverTheirAlerts: every alert that reads a job's
// metrics is a target of that job's TargetDown rule.
func TestJobDependentsCoverTheirAlerts(t *testing.T) {
	cfg, err := Build(testPlan())
	require.NoError(t, err)
	targets := map[string]string{}
	for _, in := range cfg.Inhibit[2:] {
		targets[in.Source[1]] = in.Target[0]
	}
	assert.Contains(t, targets[`job="kube-state-metrics"`], "KubePodCrashLooping")
	assert.Contains(t, targets[`job="cadvisor"`], "CPUThrottlingHigh")
	assert.Contains(t, targets[`job="kubelet"`], "KubePersistentVolumeFillingUp")
	assert.Contains(t, targets[`job="envoy-stats"`], "IstioHighLatency", "through the recording rules")
	assert.Contains(t, targets[`job="envoy-stats"`], "ErrorBudgetBurn", "through the SLO recording rules")
	assert.Contains(t, targets[`job="istiod"`], "IstiodXdsPushErrors")
	assert.Contains(t, targets[`job="alertmanager"`], "AlertmanagerFailedToSendAlerts")
	assert.NotContains(t, targets, `job="node-exporter"`, "no alert reads node-exporter")
}

func TestAgentHasNoAlertmanagerConfig(t *testing.T) {
	p := testPlan()
	p.Monitoring.Prometheus.Agent = true
	files, err := Generate(p, nil)
	require.NoError(t, err)
	assert.Empty(t, files)
}
