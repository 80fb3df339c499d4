package prometheus_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml2 "go.yaml.in/yaml/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/promcheck"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/internal/verify"
	"obsgen.dev/obsgen/templates"
)

func operatorProfile(mesh v1alpha1.Mesh, shards int) *v1alpha1.Profile {
	return &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind,
		Metadata: v1alpha1.Metadata{Name: "t"}, Mesh: mesh,
		Monitoring: v1alpha1.Monitoring{Flavours: []v1alpha1.Flavour{v1alpha1.FlavourOperator},
			Prometheus: v1alpha1.Prometheus{Shards: shards}},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"}, Services: []v1alpha1.Service{
			{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}},
		}}},
	}
}

// generated holds the operator output by kind.
type generated struct {
	prometheus      monitoringv1.Prometheus
	service         *corev1.Service
	serviceMonitors map[string]monitoringv1.ServiceMonitor
	podMonitors     map[string]monitoringv1.PodMonitor
	scrapeConfigs   map[string]monitoringv1alpha1.ScrapeConfig
	additional      []string // job names
	// additionalRoles are the discovery roles of the additional jobs.
	additionalRoles []string
	rbac            rbac
	files           []output.File
}

// rbac is the operator flavour's RBAC file.
type rbac struct {
	account *corev1.ServiceAccount
	role    *rbacv1.ClusterRole
	binding *rbacv1.ClusterRoleBinding
}

func generate(t *testing.T, in *v1alpha1.Profile) (*plan.Plan, generated) {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	p := plan.Resolve(in)
	all, err := prometheus.Generate(p, engine)
	require.NoError(t, err)
	var files []output.File
	for _, f := range all {
		if strings.HasPrefix(f.Path, "operator/") {
			files = append(files, f)
		}
	}
	g := generated{serviceMonitors: map[string]monitoringv1.ServiceMonitor{}, podMonitors: map[string]monitoringv1.PodMonitor{},
		scrapeConfigs: map[string]monitoringv1alpha1.ScrapeConfig{}, files: files}
	for _, f := range files {
		if f.Path == prometheus.RBACPath {
			docs := strings.Split(string(f.Data), "\n---\n")
			require.Len(t, docs, 3)
			g.rbac = rbac{&corev1.ServiceAccount{}, &rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}}
			require.NoError(t, yaml.UnmarshalStrict([]byte(docs[0]), g.rbac.account))
			require.NoError(t, yaml.UnmarshalStrict([]byte(docs[1]), g.rbac.role))
			require.NoError(t, yaml.UnmarshalStrict([]byte(docs[2]), g.rbac.binding))
			continue
		}
		var meta metav1.TypeMeta
		if f.Path != prometheus.AdditionalPath {
			require.NoError(t, yaml.Unmarshal(f.Data, &meta))
		}
		switch meta.Kind {
		case "Prometheus":
			require.NoError(t, yaml.UnmarshalStrict(f.Data, &g.prometheus))
		case "PrometheusAgent":
			// TestAgentModeIsAPrometheusAgent reads it.
		case "Service":
			g.service = &corev1.Service{}
			require.NoError(t, yaml.UnmarshalStrict(f.Data, g.service))
		case "ServiceMonitor":
			var o monitoringv1.ServiceMonitor
			require.NoError(t, yaml.UnmarshalStrict(f.Data, &o))
			g.serviceMonitors[jobOf(t, o.Spec.Endpoints[0].RelabelConfigs)] = o
		case "PodMonitor":
			var o monitoringv1.PodMonitor
			require.NoError(t, yaml.UnmarshalStrict(f.Data, &o))
			g.podMonitors[jobOf(t, o.Spec.PodMetricsEndpoints[0].RelabelConfigs)] = o
		case "ScrapeConfig":
			var o monitoringv1alpha1.ScrapeConfig
			require.NoError(t, yaml.UnmarshalStrict(f.Data, &o))
			if o.Spec.JobName != nil {
				g.scrapeConfigs[*o.Spec.JobName] = o
			} else {
				g.scrapeConfigs[jobOf(t, o.Spec.RelabelConfigs)] = o
			}
		default:
			require.Equal(t, prometheus.AdditionalPath, f.Path)
			cfg, err := config.Load("scrape_configs:\n"+indent(string(f.Data)), promslog.NewNopLogger())
			require.NoError(t, err)
			for _, sc := range cfg.ScrapeConfigs {
				g.additional = append(g.additional, sc.JobName)
				for _, sd := range sc.ServiceDiscoveryConfigs {
					if k, ok := sd.(*kubernetes.SDConfig); ok {
						g.additionalRoles = append(g.additionalRoles, string(k.Role))
					}
				}
			}
		}
	}
	return p, g
}

func indent(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		b.WriteString("  " + line)
	}
	return b.String()
}

// jobOf reads the job name a monitor's first relabeling sets.
func jobOf(t *testing.T, rc []monitoringv1.RelabelConfig) string {
	t.Helper()
	if rc[0].Action == "labeldrop" {
		rc = rc[1:] // a monitor starts from discovery's labels
	}
	first := rc[0]
	require.Equal(t, "job", first.TargetLabel, "resources start by naming the job as the raw job_name does")
	return *first.Replacement
}

func TestEveryJobIsExpressedExactlyOnce(t *testing.T) {
	off := false
	tests := map[string]struct {
		mesh       v1alpha1.Mesh
		operator   string
		additional []string
		classed    []string
	}{
		"istio-certs before operator 0.74 puts the jobs that need certificate files into additionalScrapeConfigs": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off}, operator: "0.73",
			additional: []string{"kubelet", "cadvisor", "kubernetes-pods-istio-secure", "team-services"},
		},
		"istio-certs from operator 0.74 makes them ScrapeConfigs of the Istio scrape class": {
			mesh:       v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
			additional: []string{"kubelet", "cadvisor"}, classed: []string{"kubernetes-pods-istio-secure", "team-services"},
		},
		"secure-port makes the merged and team jobs ScrapeConfigs of the Istio scrape class": {
			mesh:       v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict},
			additional: []string{"kubelet", "cadvisor"}, classed: []string{"istio-merged", "team-services"},
		},
		"merged needs only the service-account token jobs there": {
			mesh: v1alpha1.Mesh{}, additional: []string{"kubelet", "cadvisor"},
		},
		"ambient": {
			mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict}, additional: []string{"kubelet", "cadvisor"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := operatorProfile(tc.mesh, 1)
			in.Monitoring.OperatorVersion = tc.operator
			p, g := generate(t, in)
			assert.Equal(t, tc.additional, g.additional)
			var classed []string
			for _, j := range p.Jobs {
				if sc, ok := g.scrapeConfigs[j.Name]; ok && sc.Spec.ScrapeClassName != nil {
					assert.Equal(t, prometheus.IstioScrapeClass, *sc.Spec.ScrapeClassName)
					assert.Equal(t, monitoringv1.SchemeHTTPS, *sc.Spec.Scheme, j.Name)
					classed = append(classed, j.Name)
				}
			}
			assert.Equal(t, tc.classed, classed)
			if len(tc.classed) == 0 {
				assert.Empty(t, g.prometheus.Spec.ScrapeClasses)
			} else {
				require.Len(t, g.prometheus.Spec.ScrapeClasses, 1)
				class := g.prometheus.Spec.ScrapeClasses[0]
				assert.Equal(t, prometheus.IstioScrapeClass, class.Name)
				assert.Nil(t, class.Default, "only the jobs that name it use the certificates")
				assert.Equal(t, p.Scrape.TLS.CertFile, class.TLSConfig.CertFile)
				assert.Equal(t, p.Scrape.TLS.KeyFile, class.TLSConfig.KeyFile)
				assert.Equal(t, p.Scrape.TLS.CAFile, class.TLSConfig.CAFile)
				assert.True(t, *class.TLSConfig.InsecureSkipVerify)
			}
			seen := map[string]int{}
			for _, j := range g.additional {
				seen[j]++
			}
			for j := range g.serviceMonitors {
				seen[j]++
			}
			for j := range g.podMonitors {
				seen[j]++
			}
			for j := range g.scrapeConfigs {
				seen[j]++
			}
			for _, j := range p.Jobs {
				assert.Equal(t, 1, seen[j.Name], "job %s", j.Name)
			}
			assert.Len(t, seen, len(p.Jobs), "no resource for a job the plan does not have")
		})
	}
}

func TestMonitorsCarryTheRawJobsRelabeling(t *testing.T) {
	off := false
	p, g := generate(t, operatorProfile(v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off}, 1))
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	f, err := prometheus.Config(p, engine, 0)
	require.NoError(t, err)
	cfg, err := verify.LoadPrometheus(f.Data, false)
	require.NoError(t, err)
	raw := map[string]*config.ScrapeConfig{}
	for _, sc := range cfg.ScrapeConfigs {
		raw[sc.JobName] = sc
	}

	envoy := g.podMonitors["envoy-stats"]
	ep := envoy.Spec.PodMetricsEndpoints[0]
	assert.Equal(t, "http-envoy-prom", *ep.Port)
	assert.True(t, envoy.Spec.NamespaceSelector.Any)
	// The operator's own target labels go first, then the job is named.
	assert.Equal(t, monitoringv1.RelabelConfig{Action: "labeldrop", Regex: "node|namespace|service|pod|container|endpoint"}, ep.RelabelConfigs[0])
	assert.Equal(t, fromPrometheus(raw["envoy-stats"].RelabelConfigs), ep.RelabelConfigs[2:])

	ksm := g.podMonitors["kube-state-metrics"]
	assert.Equal(t, int32(8080), *ksm.Spec.PodMetricsEndpoints[0].PortNumber)
	assert.True(t, ksm.Spec.PodMetricsEndpoints[0].HonorLabels)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}, ksm.Spec.Selector.MatchLabels)
	assert.Equal(t, fromPrometheus(raw["kube-state-metrics"].MetricRelabelConfigs), ksm.Spec.PodMetricsEndpoints[0].MetricRelabelConfigs)

	api := g.serviceMonitors["kubernetes-apiservers"]
	assert.Equal(t, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", api.Spec.Endpoints[0].TLSConfig.CAFile)
	assert.Equal(t, []string{"default"}, api.Spec.NamespaceSelector.MatchNames)

	pods := g.scrapeConfigs["kubernetes-pods"]
	assert.Equal(t, fromPrometheus(raw["kubernetes-pods"].RelabelConfigs), pods.Spec.RelabelConfigs)
	assert.Equal(t, monitoringv1alpha1.KubernetesRolePod, pods.Spec.KubernetesSDConfigs[0].Role)
}

func TestThePrometheusResourceSelectsEveryMonitorAndIsWired(t *testing.T) {
	off := false
	_, g := generate(t, operatorProfile(v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off}, 3))
	spec := g.prometheus.Spec
	for _, sel := range []*metav1.LabelSelector{spec.ServiceMonitorSelector, spec.PodMonitorSelector, spec.ScrapeConfigSelector} {
		require.NotNil(t, sel)
		assert.Equal(t, map[string]string{prometheus.ProfileLabel: "t"}, sel.MatchLabels)
	}
	// Rules: the profile's, and of those only the ones for Prometheus
	// (a Thanos Ruler's carry the same profile label).
	require.NotNil(t, spec.RuleSelector)
	assert.Equal(t, map[string]string{prometheus.ProfileLabel: "t", plan.EvaluatorLabel: plan.EvaluatorPrometheus}, spec.RuleSelector.MatchLabels)
	for _, f := range g.files {
		if strings.HasSuffix(f.Path, ".yaml") && f.Path != prometheus.AdditionalPath {
			assert.Contains(t, string(f.Data), prometheus.ProfileLabel+": t", "%s is selected by the Prometheus resource", f.Path)
		}
	}
	assert.Equal(t, int32(3), *spec.Shards)
	assert.Equal(t, &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "prometheus-additional-scrape-configs"}, Key: prometheus.AdditionalKey}, spec.AdditionalScrapeConfigs)
	assert.Equal(t, "true", spec.PodMetadata.Labels["sidecar.istio.io/inject"], "the injector selects the label")
	assert.NotContains(t, spec.PodMetadata.Annotations, "sidecar.istio.io/inject")
	require.Len(t, spec.Volumes, 1)
	assert.Equal(t, corev1.StorageMediumMemory, spec.Volumes[0].EmptyDir.Medium)
	assert.Equal(t, "/etc/prom-certs/", spec.VolumeMounts[0].MountPath)
	// The Service the Prometheus Operator creates for every Alertmanager
	// (pkg/alertmanager/statefulset.go, alertmanager-operated).
	assert.Equal(t, "alertmanager-operated", spec.Alerting.Alertmanagers[0].Name)
	assert.Equal(t, "t", spec.ExternalLabels["cluster"])
}

// operatorPodLabels are the labels the Prometheus Operator puts on every pod
// of a Prometheus resource named name, as StatefulSet selector labels
// (makeSelectorLabels in pkg/prometheus/server/operator.go, with the shard
// label of pkg/prometheus/server/statefulset.go); they never change.
func operatorPodLabels(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/managed-by": "prometheus-operator", "app.kubernetes.io/name": "prometheus",
		"app.kubernetes.io/instance": name, "operator.prometheus.io/name": name, "prometheus": name,
		"operator.prometheus.io/shard": "0"}
}

// TestTheDefaultPrometheusAddressExists: the data source, Kiali and the
// federation target default to http://<prometheus.name>.<namespace>.svc:9090,
// and the operator creates only prometheus-operated, so the operator
// flavour writes that Service, selecting the operator's pods on their web
// port; an agent or a sharded Prometheus gets none (a Service across
// shards would answer with a random part of the series).
func TestTheDefaultPrometheusAddressExists(t *testing.T) {
	in := operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, 1)
	in.Monitoring.Prometheus.Federation = &v1alpha1.Federation{Enabled: true}
	p, g := generate(t, in)
	require.NotNil(t, g.service, "the operator flavour writes the Service the defaults name")
	svc := g.service
	u, err := url.Parse(p.Dashboards.Datasource.URL)
	require.NoError(t, err)
	host := svc.Name + "." + svc.Namespace + ".svc"
	assert.Equal(t, host+":9090", u.Host, "the data source's default is this Service")
	require.NotNil(t, p.Federation)
	assert.Equal(t, []string{host + ":9090"}, p.Federation.Targets, "the federation target's default is this Service")
	pods := operatorPodLabels(g.prometheus.Name)
	require.NotEmpty(t, svc.Spec.Selector)
	for k, v := range svc.Spec.Selector {
		assert.Equal(t, v, pods[k], "the selector %s=%s matches the operator's Prometheus pods", k, v)
	}
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, int32(9090), svc.Spec.Ports[0].Port)
	assert.Equal(t, "web", svc.Spec.Ports[0].TargetPort.String(), "the operator names Prometheus' container port web")
	assert.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)

	assert.Equal(t, "http", *svc.Spec.Ports[0].AppProtocol, "Istio does not sniff the port")

	// Nothing names it: a Service of that name the platform runs is left
	// alone.
	elsewhere := operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, 1)
	elsewhere.Dashboards.Datasource.URL = "http://thanos-query.monitoring.svc:9090"
	elsewhere.Monitoring.Prometheus.Federation = &v1alpha1.Federation{Enabled: true, Targets: []string{"prometheus.example.net:443"}}
	_, other := generate(t, elsewhere)
	assert.Nil(t, other.service, "neither the data source nor federation reaches Prometheus through it")
	fedOnly := operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, 1)
	fedOnly.Dashboards.Datasource.URL = "http://thanos-query.monitoring.svc:9090"
	fedOnly.Monitoring.Prometheus.Federation = &v1alpha1.Federation{Enabled: true}
	_, fed := generate(t, fedOnly)
	assert.NotNil(t, fed.service, "the federation target's default names it")

	// A short name resolves in the caller's namespace: Grafana elsewhere
	// does not reach it, Kiali in the monitoring namespace does.
	short := operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, 1)
	short.Dashboards.Datasource.URL = "http://prometheus:9090"
	short.Monitoring.Grafana.Namespace = "grafana"
	_, none := generate(t, short)
	assert.Nil(t, none.service, "Grafana in another namespace resolves prometheus there")
	short.Kiali = v1alpha1.Kiali{Enabled: true, Namespace: "monitoring"}
	_, kiali := generate(t, short)
	assert.NotNil(t, kiali.service, "Kiali in the monitoring namespace queries it")
	// The global Prometheus resolves a short target in its own namespace.
	shortFed := operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, 1)
	shortFed.Dashboards.Datasource.URL = "http://thanos-query.monitoring.svc:9090"
	shortFed.Monitoring.Prometheus.Federation = &v1alpha1.Federation{Enabled: true, Targets: []string{"prometheus:9090"}}
	_, sf := generate(t, shortFed)
	assert.Nil(t, sf.service, "a short federation target names no namespace")

	_, sharded := generate(t, operatorProfile(v1alpha1.Mesh{}, 3))
	assert.Nil(t, sharded.service, "no Service across shards")
	agent := operatorProfile(v1alpha1.Mesh{}, 1)
	agent.Monitoring.Prometheus.Mode = v1alpha1.ModeAgent
	agent.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "central", URL: "http://thanos:19291/api/v1/receive"}}
	_, ag := generate(t, agent)
	assert.Nil(t, ag.service, "an agent answers no queries")
}

// TestThePrometheusPodsMayDiscoverWhatTheirJobsAsk: the operator runs the
// Prometheus pods with spec.serviceAccountName but creates neither the
// account nor its permissions (prometheus-operator
// Documentation/platform/rbac.md). The operator flavour writes both, and
// the ClusterRole grants every read each job's discovery makes, per the
// Prometheus documentation of kubernetes_sd_config (role pod: pods;
// endpoints: endpoints, services, pods; endpointslice: endpointslices,
// services, pods; node: nodes) and the operator's monitors (ServiceMonitor:
// endpoints or EndpointSlices; PodMonitor: pods), the kubelet's /metrics
// and /metrics/cadvisor (nodes/metrics, kubelet authorization) and the API
// server's /metrics (a non-resource URL).
func TestThePrometheusPodsMayDiscoverWhatTheirJobsAsk(t *testing.T) {
	needs := map[string][]string{
		"pod": {"pods"}, "endpoints": {"endpoints", "services", "pods"},
		"endpointslice": {"endpointslices", "services", "pods"}, "node": {"nodes"},
	}
	group := map[string]string{"endpointslices": "discovery.k8s.io"}
	agent := operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio, DataPlane: v1alpha1.DataPlaneAmbient}, 1)
	agent.Monitoring.Prometheus.Mode = v1alpha1.ModeAgent
	agent.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "central", URL: "http://thanos:19291/api/v1/receive"}}
	named := operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, 2)
	named.Monitoring.Prometheus.ServiceAccount = "prom-scraper"
	for name, in := range map[string]*v1alpha1.Profile{
		"sidecars": operatorProfile(v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, 1), "agent": agent, "named account, shards": named,
	} {
		t.Run(name, func(t *testing.T) {
			p, g := generate(t, in)
			r := g.rbac
			require.NotNil(t, r.account, "the operator flavour writes the account its pods run as")
			assert.Equal(t, p.Monitoring.Prometheus.ServiceAccount, r.account.Name)
			assert.Equal(t, p.Monitoring.Namespace, r.account.Namespace)
			if !p.Monitoring.Prometheus.Agent {
				assert.Equal(t, r.account.Name, g.prometheus.Spec.ServiceAccountName)
				assert.Equal(t, r.account.Namespace, g.prometheus.Namespace)
			}
			assert.Empty(t, r.role.Namespace)
			assert.Equal(t, rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: r.role.Name}, r.binding.RoleRef)
			assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: r.account.Name, Namespace: r.account.Namespace}}, r.binding.Subjects)
			assert.Contains(t, r.role.Name, p.Monitoring.Namespace, "cluster-scoped: the name tells two profiles' apart")

			grants := func(apiGroup, resource, verb string) bool {
				for _, rule := range r.role.Rules {
					if slices.Contains(rule.APIGroups, apiGroup) && slices.Contains(rule.Resources, resource) && slices.Contains(rule.Verbs, verb) {
						return true
					}
				}
				return false
			}
			roles := slices.Clone(g.additionalRoles)
			for range g.podMonitors {
				roles = append(roles, "pod")
			}
			for range g.serviceMonitors {
				roles = append(roles, "endpoints", "endpointslice")
			}
			for _, sc := range g.scrapeConfigs {
				for _, sd := range sc.Spec.KubernetesSDConfigs {
					roles = append(roles, strings.ToLower(string(sd.Role)))
				}
			}
			require.NotEmpty(t, roles)
			for _, role := range roles {
				require.Contains(t, needs, role, "a discovery role this test does not know")
				for _, res := range needs[role] {
					for _, verb := range []string{"get", "list", "watch"} {
						assert.True(t, grants(group[res], res, verb), "role %s needs %s %s", role, verb, res)
					}
				}
			}
			if slices.Contains(g.additional, "kubelet") {
				assert.True(t, grants("", "nodes/metrics", "get"), "the kubelet authorizes /metrics and /metrics/cadvisor as nodes/metrics")
			}
			if _, ok := g.serviceMonitors["kubernetes-apiservers"]; ok {
				assert.True(t, slices.ContainsFunc(r.role.Rules, func(rule rbacv1.PolicyRule) bool {
					return slices.Contains(rule.NonResourceURLs, "/metrics") && slices.Contains(rule.Verbs, "get")
				}), "the API server's /metrics is a non-resource URL")
			}
		})
	}
}

func TestEachFlavourWritesOnlyItsFiles(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	paths := func(flavours ...v1alpha1.Flavour) []string {
		in := operatorProfile(v1alpha1.Mesh{}, 1)
		in.Monitoring.Flavours = flavours
		files, err := prometheus.Generate(plan.Resolve(in), engine)
		require.NoError(t, err)
		var out []string
		for _, f := range files {
			out = append(out, strings.SplitN(f.Path, "/", 2)[0])
		}
		return out
	}
	assert.NotContains(t, paths(v1alpha1.FlavourPrometheus), "operator")
	assert.NotContains(t, paths(v1alpha1.FlavourOperator), "prometheus")
	both := paths(v1alpha1.FlavourPrometheus, v1alpha1.FlavourOperator)
	assert.Contains(t, both, "operator")
	assert.Contains(t, both, "prometheus")
}

func TestAgentModeIsAPrometheusAgent(t *testing.T) {
	in := operatorProfile(v1alpha1.Mesh{}, 1)
	in.Monitoring.Prometheus.Mode = v1alpha1.ModeAgent
	in.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "central", URL: "http://thanos:19291/api/v1/receive",
		Queue: &v1alpha1.Queue{MaxSamplesPerSend: 2000}}}
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	files, err := prometheus.Generate(plan.Resolve(in), engine)
	require.NoError(t, err)
	i := slices.IndexFunc(files, func(f output.File) bool { return f.Path == prometheus.PrometheusPath })
	require.GreaterOrEqual(t, i, 0)
	var agent monitoringv1alpha1.PrometheusAgent
	require.NoError(t, yaml.UnmarshalStrict(files[i].Data, &agent))
	assert.Equal(t, "PrometheusAgent", agent.Kind)
	require.Len(t, agent.Spec.RemoteWrite, 1)
	assert.Equal(t, monitoringv1.URL("http://thanos:19291/api/v1/receive"), agent.Spec.RemoteWrite[0].URL)
	assert.Equal(t, 2000, agent.Spec.RemoteWrite[0].QueueConfig.MaxSamplesPerSend)
	assert.Equal(t, map[string]string{prometheus.ProfileLabel: "t"}, agent.Spec.PodMonitorSelector.MatchLabels)
}

// fromPrometheus converts relabel rules as Prometheus' loader parsed them,
// leaving out its defaults, for comparison with what the resources carry.
func fromPrometheus(in []*relabel.Config) []monitoringv1.RelabelConfig {
	out := make([]monitoringv1.RelabelConfig, 0, len(in))
	for _, c := range in {
		rc := monitoringv1.RelabelConfig{TargetLabel: c.TargetLabel, Modulus: int64(c.Modulus)}
		for _, l := range c.SourceLabels {
			rc.SourceLabels = append(rc.SourceLabels, monitoringv1.LabelName(l))
		}
		if c.Separator != relabel.DefaultRelabelConfig.Separator {
			rc.Separator = &c.Separator
		}
		if re := c.Regex.String(); re != relabel.DefaultRelabelConfig.Regex.String() {
			rc.Regex = re
		}
		if c.Replacement != relabel.DefaultRelabelConfig.Replacement {
			rc.Replacement = &c.Replacement
		}
		if c.Action != relabel.Replace {
			rc.Action = string(c.Action)
		}
		out = append(out, rc)
	}
	return out
}

// TestResourcesCopyWhatPrometheusLoads: the operator resources read the
// raw jobs without Prometheus' loader; for every example profile and every
// job, what they copy equals what Prometheus' loader parses from the same
// bytes.
func TestResourcesCopyWhatPrometheusLoads(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	off := false
	for name, mesh := range map[string]v1alpha1.Mesh{
		"istio-certs": {MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off}, "merged": {MTLS: v1alpha1.MTLSPermissive},
		"secure-port": {MTLS: v1alpha1.MTLSStrict},
		"ambient":     {DataPlane: v1alpha1.DataPlaneAmbient}, "no mesh": {Provider: v1alpha1.MeshNone},
	} {
		p := plan.Resolve(operatorProfile(mesh, 1))
		f, err := prometheus.Config(p, engine, 0)
		require.NoError(t, err)
		cfg, err := verify.LoadPrometheus(f.Data, false)
		require.NoError(t, err)
		jobs, err := prometheus.ParseJobs(f.Data)
		require.NoError(t, err)
		require.Len(t, jobs, len(cfg.ScrapeConfigs), name)
		for _, sc := range cfg.ScrapeConfigs {
			j := jobs[sc.JobName]
			require.NotNil(t, j, "%s: %s", name, sc.JobName)
			assert.Equal(t, fromPrometheus(sc.RelabelConfigs), prometheus.Relabelings(j.RelabelConfigs), "%s: %s", name, sc.JobName)
			assert.Equal(t, fromPrometheus(sc.MetricRelabelConfigs), prometheus.Relabelings(j.MetricRelabelConfigs), "%s: %s", name, sc.JobName)
			sameRelabeling(t, sc.RelabelConfigs, operatorReads(t, prometheus.Relabelings(j.RelabelConfigs)), name+": "+sc.JobName)
			sameRelabeling(t, sc.MetricRelabelConfigs, operatorReads(t, prometheus.Relabelings(j.MetricRelabelConfigs)), name+": "+sc.JobName)
			assert.Equal(t, sc.MetricsPath, j.MetricsPath, "%s: %s", name, sc.JobName)
			assert.Equal(t, sc.Scheme, j.Scheme, "%s: %s", name, sc.JobName)
			assert.Equal(t, sc.HonorLabels, j.HonorLabels, "%s: %s", name, sc.JobName)
		}
		// A ScrapeConfig of the Istio scrape class gets, from the class, the
		// TLS settings the raw job writes (the operator merges a class's
		// tlsConfig whole into a ScrapeConfig without one, promcfg.go
		// mergeSafeTLSConfigWithScrapeClass).
		_, g := generate(t, operatorProfile(mesh, 1))
		for job, sc := range g.scrapeConfigs {
			if sc.Spec.ScrapeClassName == nil {
				assert.Nil(t, sc.Spec.TLSConfig, "%s: %s", name, job)
				continue
			}
			require.Len(t, g.prometheus.Spec.ScrapeClasses, 1)
			class := g.prometheus.Spec.ScrapeClasses[0].TLSConfig
			assert.Nil(t, sc.Spec.TLSConfig, "%s: %s: the class's TLS applies whole only without the resource's own", name, job)
			var raw *config.ScrapeConfig
			for _, c := range cfg.ScrapeConfigs {
				if c.JobName == job {
					raw = c
				}
			}
			require.NotNil(t, raw, job)
			tls := raw.HTTPClientConfig.TLSConfig
			assert.Equal(t, "https", raw.Scheme, job)
			assert.Equal(t, tls.CAFile, class.CAFile, job)
			assert.Equal(t, tls.CertFile, class.CertFile, job)
			assert.Equal(t, tls.KeyFile, class.KeyFile, job)
			assert.Equal(t, tls.InsecureSkipVerify, *class.InsecureSkipVerify, job)
		}
	}
}

// operatorReads is what Prometheus reads from relabelings an operator
// resource carries: the operator writes each field only when it is set
// (prometheus-operator pkg/prometheus/promcfg.go generateRelabelConfig:
// source_labels when any, separator and replacement when not nil,
// target_label and regex when not empty, modulus when not 0, action in
// lower case when not empty), and Prometheus decodes that as it decodes
// any relabel_configs entry (relabel.Config.UnmarshalYAML).
func operatorReads(t *testing.T, in []monitoringv1.RelabelConfig) []*relabel.Config {
	t.Helper()
	var written []yaml2.MapSlice
	for _, c := range in {
		m := yaml2.MapSlice{}
		if len(c.SourceLabels) > 0 {
			m = append(m, yaml2.MapItem{Key: "source_labels", Value: c.SourceLabels})
		}
		if c.Separator != nil {
			m = append(m, yaml2.MapItem{Key: "separator", Value: *c.Separator})
		}
		if c.TargetLabel != "" {
			m = append(m, yaml2.MapItem{Key: "target_label", Value: c.TargetLabel})
		}
		if c.Regex != "" {
			m = append(m, yaml2.MapItem{Key: "regex", Value: c.Regex})
		}
		if c.Modulus != 0 {
			m = append(m, yaml2.MapItem{Key: "modulus", Value: c.Modulus})
		}
		if c.Replacement != nil {
			m = append(m, yaml2.MapItem{Key: "replacement", Value: *c.Replacement})
		}
		if c.Action != "" {
			m = append(m, yaml2.MapItem{Key: "action", Value: strings.ToLower(c.Action)})
		}
		written = append(written, m)
	}
	data, err := yaml2.Marshal(written)
	require.NoError(t, err)
	var out []*relabel.Config
	require.NoError(t, yaml2.UnmarshalStrict(data, &out), "%s", data)
	for _, c := range out {
		// As the loader does for a scrape config (Prometheus 3's default).
		require.NoError(t, c.Validate(model.UTF8Validation))
	}
	return out
}

// sameRelabeling compares two relabelings as Prometheus runs them.
func sameRelabeling(t *testing.T, want, got []*relabel.Config, where string) {
	t.Helper()
	require.Len(t, got, len(want), where)
	for i := range want {
		w, g := want[i], got[i]
		at := fmt.Sprintf("%s: relabeling %d", where, i)
		assert.Equal(t, w.SourceLabels, g.SourceLabels, at)
		assert.Equal(t, w.Separator, g.Separator, at)
		assert.Equal(t, w.TargetLabel, g.TargetLabel, at)
		assert.Equal(t, w.Modulus, g.Modulus, at)
		assert.Equal(t, w.Replacement, g.Replacement, at)
		assert.Equal(t, w.Action, g.Action, at)
		// Prometheus anchors every expression as ^(?s:...)$.
		for _, value := range []string{"", "a", "istiod;http-monitoring", "10.0.0.1:15020", "x\ny", "__meta_kubernetes_pod_label_app"} {
			assert.Equal(t, w.Regex.MatchString(value), g.Regex.MatchString(value), "%s: regex %q against %q", at, g.Regex.String(), value)
		}
	}
}

// crdRelabelActions reads the actions a RelabelConfig's CRD takes from the
// kubebuilder enum marker of the operator's API type, in the module obsgen
// links.
func crdRelabelActions(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring").Output()
	require.NoError(t, err)
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "v1", "prometheus_types.go"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?s)type RelabelConfig struct \{.*?\+kubebuilder:validation:Enum=([^\n]+)\n(?:\s*//[^\n]*\n)*\s*Action string`).FindSubmatch(src)
	require.NotNil(t, m, "the enum of RelabelConfig.Action")
	return strings.Split(strings.TrimSpace(string(m[1])), ";")
}

// TestRelabelingsMeanInTheOperatorWhatTheyMeanInPrometheus: relabelings an
// override may write that the operator's defaults would change (an empty
// or null regex, which the operator leaves out and Prometheus then reads
// as (.*); an action spelled in capitals, which the CRD refuses), copied
// into a resource, run in Prometheus as the raw job runs them.
func TestRelabelingsMeanInTheOperatorWhatTheyMeanInPrometheus(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testtools.RepoRoot(t), "out", "strict-deny", "prometheus", "prometheus.yml"))
	require.NoError(t, err)
	rule := "      - source_labels: [__meta_kubernetes_node_name]\n        target_label: node\n"
	edited := testtools.Edit(t, string(data), rule, rule+
		"      - source_labels: [__address__, job]\n        target_label: a\n        separator: null\n        replacement: null\n        regex: null\n"+
		"      - source_labels: [__address__]\n        target_label: b\n        separator: \"\"\n        replacement: \"\"\n        regex: \"\"\n        action: REPLACE\n"+
		"      - source_labels: [__address__]\n        target_label: __tmp_hash\n        modulus: 3\n        action: hashMod\n"+
		"      - source_labels: [__tmp_hash]\n        regex: \"\"\n        action: Drop\n"+
		"      - regex: 0\n        action: LabelDrop\n"+
		"      - source_labels: [c]\n        target_label: d\n        action: KeepEqual\n")
	cfg, err := verify.LoadPrometheus([]byte(edited), false)
	require.NoError(t, err)
	jobs, err := prometheus.ParseJobs([]byte(edited))
	require.NoError(t, err)
	actions := crdRelabelActions(t)
	require.Contains(t, actions, "hashmod")
	for _, sc := range cfg.ScrapeConfigs {
		j := jobs[sc.JobName]
		require.NotNil(t, j, sc.JobName)
		for k, upstream := range [][]*relabel.Config{sc.RelabelConfigs, sc.MetricRelabelConfigs} {
			copied := prometheus.Relabelings([][]promcheck.Relabeling{j.RelabelConfigs, j.MetricRelabelConfigs}[k])
			sameRelabeling(t, upstream, operatorReads(t, copied), sc.JobName)
			for _, rc := range copied {
				if rc.Action != "" {
					assert.Contains(t, actions, rc.Action, "%s: the CRD takes the action", sc.JobName)
				}
			}
		}
	}
}

// TestJobLabelsAreTheRawFlavours: a target of each job, run through the
// relabelings Prometheus gets from the operator resource (after the job
// label the operator gives it: scrapeConfig/<namespace>/<name> for a
// ScrapeConfig, the monitor's own for a monitor), ends with the labels the
// raw job gives it (job_name, then the raw relabelings), on a release with
// ScrapeConfig jobName and on one without; team-services sets job itself
// (<team>/<service>).
func TestJobLabelsAreTheRawFlavours(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	target := map[string]string{
		"__address__": "10.0.0.1:8080", "__meta_kubernetes_namespace": "shop", "__meta_kubernetes_pod_label_app": "web",
		"__meta_kubernetes_pod_ip": "10.0.0.1", "__meta_kubernetes_pod_phase": "Running", "__meta_kubernetes_pod_name": "web-1",
		"__meta_kubernetes_pod_container_port_number": "8080", "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
		"__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape": "true",
		"__meta_kubernetes_pod_container_name":                         "app", "__meta_kubernetes_pod_container_port_name": "http-envoy-prom",
		"__meta_kubernetes_pod_label_app_kubernetes_io_name": "kube-state-metrics",
		"__meta_kubernetes_service_name":                     "web", "__meta_kubernetes_endpoint_address_target_kind": "Pod",
		"__meta_kubernetes_endpoint_address_target_name": "web-1",
	}
	for _, version := range []string{"0.74", "0.94"} {
		in := operatorProfile(v1alpha1.Mesh{}, 1)
		in.Monitoring.OperatorVersion = version
		p, g := generate(t, in)
		f, err := prometheus.Config(p, engine, 0)
		require.NoError(t, err)
		cfg, err := verify.LoadPrometheus(f.Data, false)
		require.NoError(t, err)
		kept := 0
		for _, sc := range cfg.ScrapeConfigs {
			var operatorJob string
			var copied []monitoringv1.RelabelConfig
			var adds []*relabel.Config // the operator's own target labels, first
			if o, ok := g.scrapeConfigs[sc.JobName]; ok {
				operatorJob = "scrapeConfig/monitoring/" + o.Name
				if o.Spec.JobName != nil {
					operatorJob = *o.Spec.JobName
				}
				copied = o.Spec.RelabelConfigs
			} else if o, ok := g.podMonitors[sc.JobName]; ok {
				ep := o.Spec.PodMetricsEndpoints[0]
				operatorJob, copied = "podMonitor/monitoring/"+o.Name+"/0", ep.RelabelConfigs
				adds = operatorPodMonitorLabels(ep)
			} else if o, ok := g.serviceMonitors[sc.JobName]; ok {
				operatorJob, copied = "serviceMonitor/monitoring/"+o.Name+"/0", o.Spec.Endpoints[0].RelabelConfigs
				adds = operatorServiceMonitorLabels(o.Spec.Endpoints[0])
			} else {
				continue // additionalScrapeConfigs: the raw job itself
			}
			rawBuilder := labels.NewBuilder(labels.FromMap(target)).Set("job", sc.JobName)
			wantKept := relabel.ProcessBuilder(rawBuilder, sc.RelabelConfigs...)
			want := rawBuilder.Labels()
			opBuilder := labels.NewBuilder(labels.FromMap(target)).Set("job", operatorJob)
			gotKept := relabel.ProcessBuilder(opBuilder, append(adds, operatorReads(t, copied)...)...)
			got := opBuilder.Labels()
			require.Equal(t, wantKept, gotKept, "%s %s", version, sc.JobName)
			if wantKept {
				kept++
				assert.Equal(t, want.Get("job"), got.Get("job"), "%s %s", version, sc.JobName)
				assert.Equal(t, want, got, "%s %s", version, sc.JobName)
			}
		}
		assert.Positive(t, kept, "%s: a job keeps the target", version)
	}
}

// TestTeamAlertLabelsReachAlertmanagerInBothFlavours: a team's extra alert
// labels (teams[].alerting.labels) are the raw configuration's
// alert_relabel_configs; the Prometheus resource carries them as its
// Alertmanager endpoint's alertRelabelings, which the operator writes as
// that endpoint's alert_relabel_configs (promcfg.go), with the same
// meaning.
func TestTeamAlertLabelsReachAlertmanagerInBothFlavours(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	in := operatorProfile(v1alpha1.Mesh{}, 1)
	in.Teams[0].Alerting.Labels = map[string]string{"cost_center": "4711", "tier": "gold"}
	p, g := generate(t, in)
	f, err := prometheus.Config(p, engine, 0)
	require.NoError(t, err)
	cfg, err := verify.LoadPrometheus(f.Data, false)
	require.NoError(t, err)
	require.Len(t, cfg.AlertingConfig.AlertRelabelConfigs, 2)
	ams := g.prometheus.Spec.Alerting.Alertmanagers
	require.Len(t, ams, 1)
	sameRelabeling(t, cfg.AlertingConfig.AlertRelabelConfigs, operatorReads(t, ams[0].AlertRelabelConfigs), "alert relabelings")
	alert := labels.NewBuilder(labels.FromStrings("alertname", "X", "team", "shop"))
	require.True(t, relabel.ProcessBuilder(alert, operatorReads(t, ams[0].AlertRelabelConfigs)...))
	assert.Equal(t, "4711", alert.Get("cost_center"))

	in.Monitoring.OperatorVersion = "0.73"
	_, err = prometheus.Generate(plan.Resolve(in), engine)
	require.ErrorContains(t, err, "from Prometheus Operator 0.74 on")
}

// operatorPodMonitorLabels are the target labels the operator gives a
// PodMonitor's targets before the endpoint's relabelings
// (pkg/prometheus/promcfg.go generatePodMonitorConfig, v0.93.0): namespace,
// container and pod from the discovery, endpoint from port or targetPort.
func operatorPodMonitorLabels(ep monitoringv1.PodMetricsEndpoint) []*relabel.Config {
	out := []*relabel.Config{
		fromMeta("__meta_kubernetes_namespace", "namespace"),
		fromMeta("__meta_kubernetes_pod_container_name", "container"),
		fromMeta("__meta_kubernetes_pod_name", "pod"),
	}
	switch {
	case ep.Port != nil && *ep.Port != "":
		out = append(out, constant("endpoint", *ep.Port))
	case ep.TargetPort != nil && ep.TargetPort.String() != "":
		out = append(out, constant("endpoint", ep.TargetPort.String()))
	}
	return out
}

// operatorServiceMonitorLabels are the same for a ServiceMonitor
// (generateServiceMonitorConfig): node or pod from the endpoint's target,
// namespace, service, pod, container, and endpoint from the port.
func operatorServiceMonitorLabels(ep monitoringv1.Endpoint) []*relabel.Config {
	target := []model.LabelName{"__meta_kubernetes_endpoint_address_target_kind", "__meta_kubernetes_endpoint_address_target_name"}
	out := []*relabel.Config{
		{SourceLabels: target, Separator: ";", Regex: relabel.MustNewRegexp("Node;(.*)"), Replacement: "${1}", TargetLabel: "node", Action: relabel.Replace, NameValidationScheme: model.UTF8Validation},
		{SourceLabels: target, Separator: ";", Regex: relabel.MustNewRegexp("Pod;(.*)"), Replacement: "${1}", TargetLabel: "pod", Action: relabel.Replace, NameValidationScheme: model.UTF8Validation},
		fromMeta("__meta_kubernetes_namespace", "namespace"),
		fromMeta("__meta_kubernetes_service_name", "service"),
		fromMeta("__meta_kubernetes_pod_name", "pod"),
		fromMeta("__meta_kubernetes_pod_container_name", "container"),
	}
	if ep.Port != "" {
		out = append(out, constant("endpoint", ep.Port))
	}
	return out
}

func fromMeta(meta, label string) *relabel.Config {
	return &relabel.Config{SourceLabels: []model.LabelName{model.LabelName(meta)}, Separator: ";", Regex: relabel.DefaultRelabelConfig.Regex,
		Replacement: "$1", TargetLabel: label, Action: relabel.Replace, NameValidationScheme: model.UTF8Validation}
}

func constant(label, value string) *relabel.Config {
	return &relabel.Config{Separator: ";", Regex: relabel.DefaultRelabelConfig.Regex, Replacement: value, TargetLabel: label, Action: relabel.Replace, NameValidationScheme: model.UTF8Validation}
}

// TestPrometheusStorageIsAClaimPrometheusCanWrite: with storage, each pod
// claims a ReadWriteOnce volume of the size and class, and the pod runs
// with the group of Prometheus' image user (nobody) so the new volume is
// writable (the operator sets no security context itself; its storage
// documentation's example); the retention is what the rules read.
func TestPrometheusStorageIsAClaimPrometheusCanWrite(t *testing.T) {
	in := operatorProfile(v1alpha1.Mesh{}, 1)
	in.Teams[0].Services[0].SLOs = &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9}}
	_, g := generate(t, in)
	assert.Nil(t, g.prometheus.Spec.Storage, "an emptyDir unless storage is set")
	assert.Nil(t, g.prometheus.Spec.SecurityContext)
	assert.Equal(t, monitoringv1.Duration("30d"), g.prometheus.Spec.Retention)

	in.Monitoring.Prometheus.Storage = &v1alpha1.PrometheusStorage{Size: "80Gi", StorageClassName: "fast"}
	_, g = generate(t, in)
	s := g.prometheus.Spec.Storage
	require.NotNil(t, s)
	claim := s.VolumeClaimTemplate.Spec
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, claim.AccessModes)
	assert.Equal(t, "80Gi", claim.Resources.Requests.Storage().String())
	assert.Equal(t, "fast", *claim.StorageClassName)
	sc := g.prometheus.Spec.SecurityContext
	require.NotNil(t, sc)
	assert.Equal(t, int64(65534), *sc.FSGroup)
	assert.Equal(t, int64(65534), *sc.RunAsUser)
	assert.True(t, *sc.RunAsNonRoot)
}

// TestOperatorShardsCarryTheRawShardLabel: each raw shard has the
// external label shard="<i>"; the operator's shards get "$(SHARD)", which
// its config reloader expands per shard as it does in the operator's own
// sharding relabelings. The operator's prometheus and prometheus_replica
// labels are named "" so neither flavour has them.
func TestOperatorShardsCarryTheRawShardLabel(t *testing.T) {
	_, g := generate(t, operatorProfile(v1alpha1.Mesh{}, 1))
	assert.NotContains(t, g.prometheus.Spec.ExternalLabels, plan.ShardLabel)
	assert.Equal(t, "", *g.prometheus.Spec.PrometheusExternalLabelName)
	assert.Equal(t, "", *g.prometheus.Spec.ReplicaExternalLabelName)
	_, g = generate(t, operatorProfile(v1alpha1.Mesh{}, 3))
	assert.Equal(t, "$(SHARD)", g.prometheus.Spec.ExternalLabels[plan.ShardLabel])
	assert.Equal(t, int32(3), *g.prometheus.Spec.Shards)
}
