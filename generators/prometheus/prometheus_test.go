package prometheus

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"

	// kubernetes_sd_configs for Prometheus' loader; generate does not
	// link it (internal/promcheck checks the files).
	_ "github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

func profileWith(mesh v1alpha1.Mesh, inMesh bool) *v1alpha1.Profile {
	return &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind,
		Metadata:   v1alpha1.Metadata{Name: "t"},
		Mesh:       mesh,
		Monitoring: v1alpha1.Monitoring{InMesh: inMesh, Prometheus: v1alpha1.Prometheus{ExternalLabels: map[string]string{"region": "eu"}}},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"}, Services: []v1alpha1.Service{
			{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}},
		}}},
	}
}

func TestGeneratedConfigLoadsAndMatchesThePlan(t *testing.T) {
	off := false
	tests := map[string]struct {
		profile *v1alpha1.Profile
		tls     bool
	}{
		"merged":          {profile: profileWith(v1alpha1.Mesh{}, false)},
		"istio-certs":     {profile: profileWith(v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off}, false), tls: true},
		"permissive-port": {profile: profileWith(v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyPermissivePort}, true)},
		"direct":          {profile: profileWith(v1alpha1.Mesh{MTLS: v1alpha1.MTLSPermissive, MetricsMerging: &off}, false)},
		"ambient":         {profile: profileWith(v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict}, true)},
		"no mesh":         {profile: profileWith(v1alpha1.Mesh{Provider: v1alpha1.MeshNone}, false)},
	}
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := plan.Resolve(tc.profile)
			files, err := Generate(p, engine)
			require.NoError(t, err)
			require.Len(t, files, 3, "prometheus.yml, the pod patch and its Component")
			assert.Equal(t, ConfigPath, files[0].Path)
			assert.Equal(t, PodPatchPath, files[1].Path)
			assert.Equal(t, "prometheus/kustomization.yaml", files[2].Path)
			cfg, err := config.Load(string(files[0].Data), promslog.NewNopLogger())
			require.NoError(t, err)

			var names []string
			for _, sc := range cfg.ScrapeConfigs {
				names = append(names, sc.JobName)
				// cAdvisor's samples carry timestamps: without staleness
				// tracking a stopped container's series linger for 5m
				// (prometheus/prometheus#13060).
				assert.Equal(t, sc.JobName == string(plan.JobCAdvisor), sc.TrackTimestampsStaleness, "%s: track_timestamps_staleness", sc.JobName)
				if sc.JobName == string(plan.JobTeamServices) {
					assert.Equal(t, tc.tls, sc.HTTPClientConfig.TLSConfig.CertFile != "", "Istio client certificate only for istio-certs")
					assert.Equal(t, map[bool]string{true: "https", false: "http"}[tc.tls], sc.Scheme)
				}
			}
			var want []string
			for _, j := range p.Jobs {
				want = append(want, j.Name)
			}
			assert.Equal(t, want, names, "prometheus.yml has exactly the plan's jobs, in order")
			assert.Equal(t, "t", cfg.GlobalConfig.ExternalLabels.Get("cluster"))
			assert.Equal(t, "eu", cfg.GlobalConfig.ExternalLabels.Get("region"))
			assert.Equal(t, []string{"rules/*.yaml"}, cfg.RuleFiles)
			require.Len(t, cfg.AlertingConfig.AlertmanagerConfigs, 1)
		})
	}
}

// load reads a configuration with Prometheus' own loader.
func load(t *testing.T, data []byte) *config.Config {
	t.Helper()
	cfg, err := config.Load(string(data), promslog.NewNopLogger())
	require.NoError(t, err)
	return cfg
}

// brokenOverride is an engine whose template at path has old replaced by
// new.
func brokenOverride(t *testing.T, path, old, new string) *render.Engine {
	t.Helper()
	engine, err := render.New(templates.FS, testtools.Override(t, path, old, new))
	require.NoError(t, err)
	return engine
}

// TestAConfigPrometheusRejectsNeverReachesTheWriter: an override that
// renders a configuration Prometheus cannot load fails generation, for the
// common template mistakes, and Prometheus' own loader (obsgen-verify's)
// refuses each too.
func TestAConfigPrometheusRejectsNeverReachesTheWriter(t *testing.T) {
	for name, tc := range map[string]struct {
		path, old, new, want string
	}{
		"an unknown field": {configTemplate, "  scrape_interval:", "  scrape_intervall:", "scrape_intervall"},
		"an unknown field of a job": {"prometheus/_scrape-configs.tmpl", "    honor_labels: true", "    honour_labels: true",
			"field honour_labels not found"},
		"a bad regular expression": {"prometheus/_helpers.tmpl", "        regex: (.+:.+)", "        regex: (.+:.+",
			"error parsing regexp"},
		"a bad relabel action": {"prometheus/_helpers.tmpl", "        action: drop", "        action: remove",
			`unknown relabel action "remove"`},
		"a misindented relabeling": {"prometheus/_helpers.tmpl", "        target_label: namespace", "       target_label: namespace",
			"yaml"},
		"a bad discovery role": {"prometheus/_helpers.tmpl", "      - role: pod", "      - role: pods", `unknown Kubernetes SD role "pods"`},
	} {
		t.Run(name, func(t *testing.T) {
			engine := brokenOverride(t, tc.path, tc.old, tc.new)
			p := plan.Resolve(profileWith(v1alpha1.Mesh{}, false))
			_, err := Generate(p, engine)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "prometheus/prometheus.yml is not a valid Prometheus configuration")
			assert.Contains(t, err.Error(), tc.want)
			f, err := renderConfig(p, engine, 0)
			require.NoError(t, err)
			_, err = config.Load(string(f.Data), promslog.NewNopLogger())
			assert.Error(t, err, "Prometheus refuses it too")
		})
	}
}

// TestTheOperatorsScrapeConfigsAreChecked: the jobs the operator flavour
// passes as additionalScrapeConfigs come from their own template.
func TestTheOperatorsScrapeConfigsAreChecked(t *testing.T) {
	engine := brokenOverride(t, jobsTemplate, `{{- template "prom.scrapeConfigs" . }}`, `{{- template "prom.scrapeConfigs" . }}
    scrape_intervall: 1m`)
	in := profileWith(v1alpha1.Mesh{}, false)
	in.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourOperator}
	_, err := Generate(plan.Resolve(in), engine)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "operator/additional-scrape-configs.yaml is not a valid list of Prometheus scrape configs")
	assert.Contains(t, err.Error(), "scrape_intervall")
}

func TestPodPatchWiresPrometheusForTheStrategy(t *testing.T) {
	off := false
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	patch := func(in *v1alpha1.Profile) *appsv1.StatefulSet {
		files, err := Generate(plan.Resolve(in), engine)
		require.NoError(t, err)
		var s appsv1.StatefulSet
		require.NoError(t, yaml.UnmarshalStrict(files[1].Data, &s))
		return &s
	}

	s := patch(profileWith(v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off}, false))
	ann := s.Spec.Template.Annotations
	assert.Equal(t, "true", s.Spec.Template.Labels["sidecar.istio.io/inject"], "istio-certs needs the cert-writing sidecar: the injector selects the label")
	assert.NotContains(t, ann, "sidecar.istio.io/inject")
	assert.Equal(t, "", ann["traffic.sidecar.istio.io/includeOutboundIPRanges"], "scrapes bypass the sidecar")
	assert.Contains(t, ann["proxy.istio.io/config"], "OUTPUT_CERTS: /etc/istio-output-certs")
	require.Len(t, s.Spec.Template.Spec.Volumes, 1)
	assert.Equal(t, corev1.StorageMediumMemory, s.Spec.Template.Spec.Volumes[0].EmptyDir.Medium)
	require.Len(t, s.Spec.Template.Spec.Containers, 1)
	assert.Equal(t, "/etc/prom-certs/", s.Spec.Template.Spec.Containers[0].VolumeMounts[0].MountPath)

	s = patch(profileWith(v1alpha1.Mesh{}, false))
	assert.Equal(t, map[string]string{"sidecar.istio.io/inject": "false"}, s.Spec.Template.Labels, "outside the mesh: no sidecar")
	assert.Empty(t, s.Spec.Template.Annotations)
	assert.Empty(t, s.Spec.Template.Spec.Volumes)

	s = patch(profileWith(v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict}, true))
	assert.Equal(t, map[string]string{"istio.io/dataplane-mode": "ambient"}, s.Spec.Template.Labels, "enrolled in ambient")

	in := profileWith(v1alpha1.Mesh{}, false)
	in.Monitoring.Prometheus.Workload = v1alpha1.WorkloadDeployment
	files, err := Generate(plan.Resolve(in), engine)
	require.NoError(t, err)
	assert.Contains(t, string(files[1].Data), "kind: Deployment")
}

func TestAgentModeWritesRemotelyWithoutRulesOrAlerting(t *testing.T) {
	in := profileWith(v1alpha1.Mesh{}, false)
	in.Monitoring.Prometheus.Mode = v1alpha1.ModeAgent
	in.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "central", URL: "https://mimir.example/api/v1/push",
		Headers: map[string]string{"X-Scope-OrgID": "t1"},
		Queue:   &v1alpha1.Queue{Capacity: 5000, MaxShards: 10, BatchSendDeadline: "5s"}}}
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	f, err := Config(plan.Resolve(in), engine, 0)
	require.NoError(t, err)
	cfg := load(t, f.Data)
	assert.Empty(t, cfg.RuleFiles)
	assert.Empty(t, cfg.AlertingConfig.AlertmanagerConfigs)
	assert.NotContains(t, string(f.Data), "evaluation_interval")
	require.Len(t, cfg.RemoteWriteConfigs, 1)
	rw := cfg.RemoteWriteConfigs[0]
	assert.Equal(t, "central", rw.Name)
	assert.Equal(t, "https://mimir.example/api/v1/push", rw.URL.String())
	assert.Equal(t, map[string]string{"X-Scope-OrgID": "t1"}, rw.Headers)
	assert.Equal(t, 5000, rw.QueueConfig.Capacity)
	assert.Equal(t, 10, rw.QueueConfig.MaxShards)
	assert.Equal(t, "5s", rw.QueueConfig.BatchSendDeadline.String())
}

// TestTeamAlertLabelsAreAddedByAlertRelabeling runs the generated
// alert_relabel_configs through Prometheus' relabeling: a team's alerts get
// its teams[].alerting.labels, other alerts do not.
func TestTeamAlertLabelsAreAddedByAlertRelabeling(t *testing.T) {
	in := profileWith(v1alpha1.Mesh{}, false)
	in.Teams[0].Alerting.Labels = map[string]string{"cost_center": "4711", "tier": "gold"}
	in.Teams = append(in.Teams, v1alpha1.Team{Name: "shop-admin", Namespaces: []string{"shop-admin"}})
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	files, err := Generate(plan.Resolve(in), engine)
	require.NoError(t, err)
	cfg, err := config.Load(string(files[0].Data), promslog.NewNopLogger())
	require.NoError(t, err)
	relabelled := func(team string) labels.Labels {
		lb := labels.NewBuilder(labels.FromStrings("alertname", "KubePodCrashLooping", "team", team))
		require.True(t, relabel.ProcessBuilder(lb, cfg.AlertingConfig.AlertRelabelConfigs...))
		return lb.Labels()
	}
	assert.Equal(t, labels.FromStrings("alertname", "KubePodCrashLooping", "cost_center", "4711", "team", "shop", "tier", "gold"), relabelled("shop"))
	assert.Equal(t, labels.FromStrings("alertname", "KubePodCrashLooping", "team", "shop-admin"), relabelled("shop-admin"), "the regex is anchored")
}

// defaultJob is the job of kind in the configuration of a sidecar mesh
// with the default settings, as Prometheus loads it.
func defaultJob(t *testing.T, kind plan.JobKind) *config.ScrapeConfig {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	files, err := Generate(plan.Resolve(profileWith(v1alpha1.Mesh{}, false)), engine)
	require.NoError(t, err)
	cfg, err := config.Load(string(files[0].Data), promslog.NewNopLogger())
	require.NoError(t, err)
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName == string(kind) {
			return sc
		}
	}
	t.Fatalf("no job %s", kind)
	return nil
}

// TestIstiodIsScrapedUnderEveryRevision: the istio-discovery chart names
// its Service istiod, or istiod-<revision> for a revisioned control plane
// (each selecting its own revision's pods), with the monitoring port
// http-monitoring. The istiod job keeps both, and only that port.
func TestIstiodIsScrapedUnderEveryRevision(t *testing.T) {
	job := defaultJob(t, plan.JobIstiod)
	kept := func(service, port string) bool {
		lb := labels.NewBuilder(labels.FromStrings("__address__", "10.244.0.2:15014", "__meta_kubernetes_namespace", "istio-system",
			"__meta_kubernetes_service_name", service, "__meta_kubernetes_endpoint_port_name", port, "__meta_kubernetes_pod_name", "istiod-1"))
		return relabel.ProcessBuilder(lb, job.RelabelConfigs...)
	}
	assert.True(t, kept("istiod", "http-monitoring"))
	assert.True(t, kept("istiod-1-24", "http-monitoring"), "a revisioned control plane")
	assert.True(t, kept("istiod-canary", "http-monitoring"))
	assert.False(t, kept("istiod", "grpc-xds"))
	assert.False(t, kept("istiod-1-24", "https-webhook"))
	assert.False(t, kept("istio-ingressgateway", "http-monitoring"))
	assert.False(t, kept("myistiod", "http-monitoring"), "anchored")
}

// TestTheScrapeOptOutIsReadAsTheInjectorReadsIt: the sidecar injector
// takes prometheus.io/scrape through strconv.ParseBool (istio/istio
// pkg/kube/inject/webhook.go getPrometheusScrape), so every spelling it
// reads as false opts the pod out of the merged job, and one it cannot
// parse does not.
func TestTheScrapeOptOutIsReadAsTheInjectorReadsIt(t *testing.T) {
	job := defaultJob(t, plan.JobIstioMerged)
	for _, value := range []string{"", "true", "True", "1", "t", "yes", "no", "off"} {
		parsed, err := strconv.ParseBool(value)
		optOut := err == nil && !parsed
		lb := labels.NewBuilder(labels.FromStrings("__address__", "10.244.1.5:8080", "__meta_kubernetes_namespace", "web",
			"__meta_kubernetes_pod_name", "web-1", "__meta_kubernetes_pod_ip", "10.244.1.5", "__meta_kubernetes_pod_phase", "Running",
			"__meta_kubernetes_pod_annotation_sidecar_istio_io_status", "{}", "__meta_kubernetes_pod_annotation_prometheus_io_scrape", value))
		assert.Equal(t, !optOut, relabel.ProcessBuilder(lb, job.RelabelConfigs...), "prometheus.io/scrape: %q", value)
	}
	for _, value := range []string{"0", "f", "F", "FALSE", "false", "False"} {
		parsed, err := strconv.ParseBool(value)
		require.NoError(t, err)
		require.False(t, parsed)
		lb := labels.NewBuilder(labels.FromStrings("__address__", "10.244.1.5:8080", "__meta_kubernetes_namespace", "web",
			"__meta_kubernetes_pod_name", "web-1", "__meta_kubernetes_pod_ip", "10.244.1.5", "__meta_kubernetes_pod_phase", "Running",
			"__meta_kubernetes_pod_annotation_sidecar_istio_io_status", "{}", "__meta_kubernetes_pod_annotation_prometheus_io_scrape", value))
		assert.False(t, relabel.ProcessBuilder(lb, job.RelabelConfigs...), "prometheus.io/scrape: %q opts out", value)
	}
}

// TestJobsThatCarryTheTeamLabel: a job's relabeling sets the team target
// label exactly when the plan says its targets carry it (what Alertmanager's
// TargetDown inhibitions rely on), for every strategy.
func TestJobsThatCarryTheTeamLabel(t *testing.T) {
	off := false
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	for name, mesh := range map[string]v1alpha1.Mesh{
		"merged": {}, "istio-certs": {MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		"ambient": {DataPlane: v1alpha1.DataPlaneAmbient}, "no mesh": {Provider: v1alpha1.MeshNone},
	} {
		p := plan.Resolve(profileWith(mesh, false))
		files, err := Generate(p, engine)
		require.NoError(t, err)
		cfg, err := config.Load(string(files[0].Data), promslog.NewNopLogger())
		require.NoError(t, err)
		for i, sc := range cfg.ScrapeConfigs {
			team := false
			for _, rc := range sc.RelabelConfigs {
				team = team || rc.TargetLabel == "team"
			}
			assert.Equal(t, p.Jobs[i].CarriesTeam(), team, "%s: job %s", name, sc.JobName)
		}
	}
}

// TestAnOverrideThatDropsAJobFailsTheOperatorFlavour: the operator
// resources copy each job of the rendered configuration; an override that
// renders none for a job of the plan is an error naming the job.
func TestAnOverrideThatDropsAJobFailsTheOperatorFlavour(t *testing.T) {
	engine := brokenOverride(t, "prometheus/_scrape-configs.tmpl", "{{- range .Jobs }}", `{{- range .Jobs }}{{ if eq .Kind "istiod" }}{{ continue }}{{ end }}`)
	in := profileWith(v1alpha1.Mesh{}, false)
	in.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourOperator}
	_, err := Generate(plan.Resolve(in), engine)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "renders no scrape job")
	assert.Contains(t, err.Error(), "istiod")
}

// TestWhatAnOperatorResourceCannotHoldFailsTheOperatorFlavour: an override
// may write a job Prometheus loads but an operator resource cannot copy
// without scraping something else; the raw flavour takes it, the operator
// flavour fails with the job and the setting, and nothing panics.
func TestWhatAnOperatorResourceCannotHoldFailsTheOperatorFlavour(t *testing.T) {
	istiod := "{{- else if eq .Kind \"istiod\" }}\n"
	keep := "        regex: istiod(-.+)?;http-monitoring\n"
	for name, tc := range map[string]struct{ old, new, want string }{
		"an empty scheme":       {istiod, istiod + "    scheme: \"\"\n", `scrape job "istiod" writes scheme ""`},
		"an unknown scheme":     {istiod, istiod + "    scheme: ftp\n", `writes scheme "ftp"`},
		"a null metrics path":   {istiod, istiod + "    metrics_path: null\n", `scrape job "istiod" writes an empty metrics_path`},
		"an empty metrics path": {istiod, istiod + "    metrics_path: \"\"\n", "write metrics_path: /"},
		"a modulus beyond int64": {keep, keep + "      - source_labels: [__address__]\n        modulus: 18446744073709551615\n        target_label: __tmp_hash\n        action: hashmod\n",
			"relabel_configs[1] writes modulus 18446744073709551615"},
	} {
		t.Run(name, func(t *testing.T) {
			engine := brokenOverride(t, "prometheus/_scrape-configs.tmpl", tc.old, tc.new)
			in := profileWith(v1alpha1.Mesh{}, false)
			in.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourPrometheus}
			files, err := Generate(plan.Resolve(in), engine)
			require.NoError(t, err, "the raw flavour")
			for _, f := range files {
				if f.Path == ConfigPath {
					_, err := config.Load(string(f.Data), promslog.NewNopLogger())
					require.NoError(t, err, "Prometheus loads it")
				}
			}
			in.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourOperator}
			_, err = Generate(plan.Resolve(in), engine)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestASchemeInCapitalsIsCopiedAsTheCRDsTakeIt: Prometheus scrapes scheme
// HTTPS as https (url.Parse lower-cases it); the monitor carries https,
// which every supported release's CRD takes.
func TestASchemeInCapitalsIsCopiedAsTheCRDsTakeIt(t *testing.T) {
	istiod := "{{- else if eq .Kind \"istiod\" }}\n"
	engine := brokenOverride(t, "prometheus/_scrape-configs.tmpl", istiod, istiod+"    scheme: HTTPS\n")
	in := profileWith(v1alpha1.Mesh{}, false)
	in.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourOperator}
	files, err := Generate(plan.Resolve(in), engine)
	require.NoError(t, err)
	var found bool
	for _, f := range files {
		if f.Path == "operator/servicemonitor-istiod.yaml" {
			found = true
			assert.Contains(t, string(f.Data), "\n      scheme: https\n")
		}
	}
	assert.True(t, found)
}

// TestShardsDifferOnlyInWhatNamesTheShard: the configurations of a
// sharded Prometheus are shard 0's with the shard's number in its comment,
// hashmod keep and external label, so only shard 0's is checked; each of
// them loads in Prometheus' loader to the same jobs but for the kept hash.
// Anything else that differs makes a shard checked on its own.
func TestShardsDifferOnlyInWhatNamesTheShard(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	in := profileWith(v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyPermissivePort}, true)
	in.Monitoring.Prometheus.Shards = 12
	in.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "store", URL: "http://thanos-receive.thanos:19291/api/v1/receive"}}
	p := plan.Resolve(in)
	configs, _, err := renderConfigs(p, engine)
	require.NoError(t, err)
	require.Len(t, configs, 12)
	base := load(t, configs[0].Data)
	for i, f := range configs[1:] {
		shard := i + 1
		require.True(t, sameButShard(configs[0].Data, f.Data, shard), "shard %d", shard)
		cfg := load(t, f.Data)
		assert.Equal(t, strconv.Itoa(shard), cfg.GlobalConfig.ExternalLabels.Get("shard"))
		require.Len(t, cfg.ScrapeConfigs, len(base.ScrapeConfigs))
		for j, sc := range cfg.ScrapeConfigs {
			want := base.ScrapeConfigs[j].RelabelConfigs
			require.Len(t, sc.RelabelConfigs, len(want), sc.JobName)
			for k, rc := range sc.RelabelConfigs {
				if rc.Action == relabel.Keep && len(rc.SourceLabels) == 1 && rc.SourceLabels[0] == "__tmp_hash" {
					assert.Equal(t, strconv.Itoa(shard), rc.Regex.String(), "%s keeps its shard", sc.JobName)
					continue
				}
				assert.Equal(t, want[k], rc, "%s relabeling %d", sc.JobName, k)
			}
		}
	}
	zero := string(configs[0].Data)
	one := string(configs[1].Data)
	for name, other := range map[string]string{
		"another job name":        strings.Replace(one, `job_name: "kubernetes-pods"`, `job_name: "kubernetes-podz"`, 1),
		"a regex not the shard's": strings.Replace(one, `regex: "1"`, `regex: ".*"`, 1),
		"another shard's number":  strings.Replace(one, `regex: "1"`, `regex: "2"`, 1),
		"another indentation":     strings.Replace(one, `        regex: "1"`, `      regex: "1"`, 1),
		"a line more":             one + "# more\n",
		"a line less":             strings.TrimSuffix(one, "\n")[:strings.LastIndex(strings.TrimSuffix(one, "\n"), "\n")+1],
		"the comment of shard 2":  strings.Replace(one, "# Shard 1 of 12", "# Shard 2 of 12", 1),
	} {
		require.False(t, one == other, name)
		assert.False(t, sameButShard([]byte(zero), []byte(other), 1), name)
	}
}

// TestUnmergedSidecarPodsKeepTheirApplicationMetrics: a pod annotated
// prometheus.istio.io/merge-metrics: "false" keeps its prometheus.io
// annotations on its application's port (istio/istio
// pkg/kube/inject/webhook.go, applyPrometheusMerge), so the merged :15020
// that istio-merged scrapes has none of its application's metrics. Under
// PERMISSIVE kubernetes-pods scrapes that port in plaintext; under STRICT
// the sidecar would refuse a plaintext scrape, so it is left out there.
func TestUnmergedSidecarPodsKeepTheirApplicationMetrics(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	podsJob := func(mtls v1alpha1.MTLSMode) *config.ScrapeConfig {
		files, err := Generate(plan.Resolve(profileWith(v1alpha1.Mesh{MTLS: mtls}, false)), engine)
		require.NoError(t, err)
		for _, sc := range load(t, files[0].Data).ScrapeConfigs {
			if sc.JobName == string(plan.JobPods) {
				return sc
			}
		}
		t.Fatalf("no %s job", plan.JobPods)
		return nil
	}
	target := func(sidecar bool, port string) *labels.Builder {
		l := labels.FromStrings("__address__", "10.244.1.5:8080", "__meta_kubernetes_namespace", "web",
			"__meta_kubernetes_pod_name", "web-1", "__meta_kubernetes_pod_ip", "10.244.1.5", "__meta_kubernetes_pod_phase", "Running",
			"__meta_kubernetes_pod_annotation_prometheus_io_scrape", "true", "__meta_kubernetes_pod_annotation_prometheus_io_port", port)
		lb := labels.NewBuilder(l)
		if sidecar {
			lb.Set("__meta_kubernetes_pod_annotation_sidecar_istio_io_status", "{}")
		}
		return lb
	}
	permissive := podsJob(v1alpha1.MTLSPermissive)
	lb := target(true, "8080")
	require.True(t, relabel.ProcessBuilder(lb, permissive.RelabelConfigs...), "an unmerged sidecar pod is scraped")
	assert.Equal(t, "10.244.1.5:8080", lb.Get("__address__"), "on its application's port")
	assert.False(t, relabel.ProcessBuilder(target(true, "15020"), permissive.RelabelConfigs...), "a merged one is istio-merged's")
	noPort := target(true, "")
	noPort.Del("__meta_kubernetes_pod_annotation_prometheus_io_port")
	noPort.Set("__address__", "10.244.1.5:15090")
	assert.False(t, relabel.ProcessBuilder(noPort, permissive.RelabelConfigs...), "without a port annotation every container port, the proxy's too")
	assert.True(t, relabel.ProcessBuilder(target(false, "9402"), permissive.RelabelConfigs...), "a pod without a sidecar as before")

	strict := podsJob(v1alpha1.MTLSStrict)
	assert.False(t, relabel.ProcessBuilder(target(true, "8080"), strict.RelabelConfigs...), "STRICT refuses the plaintext scrape")
	assert.True(t, relabel.ProcessBuilder(target(false, "9402"), strict.RelabelConfigs...))
}
