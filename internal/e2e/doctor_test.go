package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	goyaml "go.yaml.in/yaml/v3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/doctor"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/simcluster"
	"obsgen.dev/obsgen/internal/testtools"
)

// liveObjects are the policy objects the simulated cluster runs: obsgen's,
// as a cluster that applied the output runs them, minus what a case breaks.
type liveObjects struct {
	nps  []*networkingv1.NetworkPolicy
	pas  []*securityv1.PeerAuthentication
	aps  []*securityv1.AuthorizationPolicy
	anps []*anpv1alpha1.AdminNetworkPolicy
	banp *anpv1alpha1.BaselineAdminNetworkPolicy
}

func generatedObjects(res *pipeline.Result) *liveObjects {
	l := &liveObjects{}
	for _, list := range res.Policies.NetworkPolicies {
		for _, np := range list {
			l.nps = append(l.nps, np.DeepCopy())
		}
	}
	for _, pa := range res.Policies.PeerAuthentications {
		l.pas = append(l.pas, pa.DeepCopy())
	}
	for _, ap := range res.Policies.AuthorizationPolicies {
		l.aps = append(l.aps, ap.DeepCopy())
	}
	for _, anp := range res.Policies.AdminNetworkPolicies {
		l.anps = append(l.anps, anp.DeepCopy())
	}
	if b := res.Policies.BaselineAdminNetworkPolicy; b != nil {
		l.banp = b.DeepCopy()
	}
	return l
}

// dropNP removes the NetworkPolicies for which drop is true.
func (l *liveObjects) dropNP(t *testing.T, drop func(*networkingv1.NetworkPolicy) bool) {
	n := len(l.nps)
	l.nps = slices.DeleteFunc(l.nps, drop)
	require.Less(t, len(l.nps), n, "the case removes a NetworkPolicy")
}

// doctorWorld is the e2e world as a real cluster labels it: team
// namespaces enrolled in the data plane (the injector's namespaceSelector,
// or ambient's namespace label).
// doctorVariant is exampleVariant for a simulated cluster, whose API
// server listens on a loopback address (simcluster.AddAPIServer, port
// 6443): the profile's cluster.apiServerCIDRs also hold the loopback range,
// as a healthy cluster's profile holds its API server's endpoints.
func doctorVariant(t *testing.T, name string, change func(*v1alpha1.Profile)) *pipeline.Result {
	t.Helper()
	return exampleVariant(t, name, func(p *v1alpha1.Profile) {
		if p.Network.Stance != v1alpha1.StanceOpen {
			p.Cluster.APIServerCIDRs = append(p.Cluster.APIServerCIDRs, "127.0.0.0/8")
		}
		change(p)
	})
}

func doctorWorld(t *testing.T, res *pipeline.Result) *world {
	w := newWorld(t, res)
	for _, ns := range res.Plan.TeamNamespaces() {
		switch {
		case res.Plan.Mesh.Ambient:
			w.c.AddNamespace(ns, map[string]string{"istio.io/dataplane-mode": "ambient"})
		case res.Plan.Mesh.Sidecar:
			w.c.AddNamespace(ns, map[string]string{"istio-injection": "enabled"})
		}
	}
	return w
}

// diagnose starts the cluster, runs Prometheus with the generated
// configuration (edited by edit), reads the cluster's state from the fake
// API server as obsgen doctor's live mode does and Prometheus' targets
// from its HTTP API, and diagnoses.
func diagnose(t *testing.T, res *pipeline.Result, w *world, live *liveObjects, edit func(string) string) *doctor.Report {
	t.Helper()
	// Applied an hour ago, as the API server stamps objects.
	created := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
	stamp := func(m *metav1.ObjectMeta) {
		if m.CreationTimestamp.IsZero() {
			m.CreationTimestamp = created
		}
	}
	for _, np := range live.nps {
		stamp(&np.ObjectMeta)
		w.c.AddObject("networkpolicies", np)
	}
	for _, pa := range live.pas {
		stamp(&pa.ObjectMeta)
		w.c.AddObject("peerauthentications", pa)
	}
	for _, ap := range live.aps {
		stamp(&ap.ObjectMeta)
		w.c.AddObject("authorizationpolicies", ap)
	}
	for _, anp := range live.anps {
		stamp(&anp.ObjectMeta)
		w.c.AddObject("adminnetworkpolicies", anp)
	}
	if live.banp != nil {
		stamp(&live.banp.ObjectMeta)
		w.c.AddObject("baselineadminnetworkpolicies", live.banp)
	}
	w.c.Start()
	config := w.c.RewriteConfig(configOf(t, res, 0))
	if edit != nil {
		config = edit(config)
	}
	prom := simcluster.StartPrometheus(t, config)
	prom.WaitForTargets(t, simcluster.DefaultTimeout, simcluster.DefaultSettle)
	targets := fetchTargets(t, prom.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := clusterstate.FromAPI(ctx, &rest.Config{Host: w.c.APIServerURL()})
	require.NoError(t, err)
	return doctor.Diagnose(doctor.Input{Plan: res.Plan, Profile: res.Loaded.Profile, Policies: res.Policies, Files: res.Files,
		State: st, Targets: targets})
}

func fetchTargets(t *testing.T, base string) *doctor.Targets {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/targets")
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	targets, err := doctor.ParseTargets(data)
	require.NoError(t, err)
	return targets
}

func reportText(r *doctor.Report) string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

// serviceOf is the plan's service name in ns.
func serviceOf(t *testing.T, p *plan.Plan, name string) plan.Service {
	for _, s := range p.ServiceTargets {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s", name)
	return plan.Service{}
}

// TestDoctorFindsNothingOnHealthyClusters runs the diagnosis on simulated
// clusters that run obsgen's output as written: every target up, every
// flow allowed, no drift; the report must be empty, whatever the strategy.
func TestDoctorFindsNothingOnHealthyClusters(t *testing.T) {
	testtools.Find(t, "prometheus")
	for _, name := range []string{"default-permissive", "strict-deny", "admin-network-policy"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := doctorVariant(t, name, func(*v1alpha1.Profile) {})
			w := doctorWorld(t, res)
			r := diagnose(t, res, w, generatedObjects(res), nil)
			assert.True(t, r.Healthy(), "%s", reportText(r))
			assert.Positive(t, r.ExpectedTargets)
			assert.Equal(t, r.ExpectedTargets, r.HealthyTargets)
		})
	}
}

// TestDoctorNamesTheCauseOfEachBreak breaks one thing per simulated cluster
// and requires the report's first finding to name that cause and its fix.
func TestDoctorNamesTheCauseOfEachBreak(t *testing.T) {
	testtools.Find(t, "prometheus")
	strictPermissivePort := func(p *v1alpha1.Profile) { p.Mesh.ScrapeStrategy = v1alpha1.StrategyPermissivePort }
	cases := map[string]struct {
		example string
		change  func(*v1alpha1.Profile)
		breakIt func(t *testing.T, w *world, live *liveObjects)
		edit    func(config string) string
		cause   string
		subject string
		fix     string
	}{
		"a pod of a declared service runs without its sidecar (merged metrics: :15020 refuses)": {
			example: "default-permissive",
			breakIt: func(t *testing.T, w *world, _ *liveObjects) {
				s := serviceOf(t, w.p, "frontend")
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "frontend-nosidecar", Labels: s.Selector.Map(), Node: "node-1",
					Containers: []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}},
					Serve:      []simcluster.Listener{{Port: s.AppPort}}})
			},
			cause: doctor.CauseNoSidecar, subject: "frontend-nosidecar", fix: "istio-injection=enabled",
		},
		"a pod without its sidecar answers Istio TLS in plaintext (istio-certs)": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, _ *liveObjects) {
				s := serviceOf(t, w.p, "checkout")
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "checkout-nosidecar", Labels: s.Selector.Map(), Node: "node-1",
					Annotations: map[string]string{"sidecar.istio.io/inject": "false"},
					Containers:  []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}},
					Serve:       []simcluster.Listener{{Port: s.AppPort, Paths: []string{s.AppPath}}}})
			},
			cause: doctor.CauseNoSidecar, subject: "checkout-nosidecar", fix: "sidecar.istio.io/inject=false",
		},
		"a foreign workload PeerAuthentication makes the opened port STRICT": {
			example: "strict-deny", change: strictPermissivePort,
			breakIt: func(t *testing.T, w *world, live *liveObjects) {
				s := serviceOf(t, w.p, "checkout")
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "checkout-canary", Labels: map[string]string{"app": "checkout", "track": "canary"},
					Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}, Node: "node-1",
					Containers: []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}, {Name: "istio-proxy"}},
					Serve:      []simcluster.Listener{{Port: s.AppPort, Mode: simcluster.MutualTLS, Paths: []string{s.AppPath}}}})
				live.pas = append(live.pas, &securityv1.PeerAuthentication{
					// Older than obsgen's: Istio applies the oldest of two
					// workload policies.
					ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "canary-strict", CreationTimestamp: metav1.NewTime(time.Now().Add(-24 * time.Hour))},
					Spec: securityv1beta1.PeerAuthentication{Selector: &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{"track": "canary"}},
						Mtls: &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_STRICT}}})
			},
			cause: doctor.CauseForeignPeerAuth, subject: "checkout-canary", fix: "canary-strict",
		},
		"obsgen's port-level PeerAuthentication is not applied": {
			example: "strict-deny", change: strictPermissivePort,
			breakIt: func(t *testing.T, w *world, live *liveObjects) {
				s := serviceOf(t, w.p, "checkout")
				n := len(live.pas)
				live.pas = slices.DeleteFunc(live.pas, func(pa *securityv1.PeerAuthentication) bool {
					return pa.Namespace == s.Namespace && pa.Spec.Selector != nil && pa.Spec.PortLevelMtls[uint32(s.AppPort)] != nil
				})
				require.Less(t, len(live.pas), n)
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "checkout-strict", Labels: s.Selector.Map(),
					Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}, Node: "node-1",
					Containers: []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}, {Name: "istio-proxy"}},
					Serve:      []simcluster.Listener{{Port: s.AppPort, Mode: simcluster.MutualTLS, Paths: []string{s.AppPath}}}})
			},
			cause: doctor.CauseStrictPlaintext, subject: "checkout-strict", fix: "kubectl apply -k",
		},
		"the NetworkPolicy that lets Prometheus in is missing": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, live *liveObjects) {
				s := serviceOf(t, w.p, "indexer")
				live.dropNP(t, func(np *networkingv1.NetworkPolicy) bool {
					return np.Namespace == s.Namespace && np.Name == "obsgen-"+s.Name
				})
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "indexer-dropped", Labels: s.Selector.Map(),
					Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}, Node: "node-1",
					Containers: []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}, {Name: "istio-proxy"}},
					Serve:      []simcluster.Listener{{Port: s.AppPort, Mode: simcluster.Blackhole}}})
			},
			cause: doctor.CauseNetworkPolicy, subject: "indexer-dropped", fix: "kubectl apply -k",
		},
		"an AuthorizationPolicy denies Prometheus (403)": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, live *liveObjects) {
				s := serviceOf(t, w.p, "checkout")
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "checkout-locked", Labels: map[string]string{"app": "checkout", "tier": "locked"},
					Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}, Node: "node-1",
					Containers: []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}, {Name: "istio-proxy"}},
					Serve:      []simcluster.Listener{{Port: s.AppPort, Mode: simcluster.MutualTLS, Status: http.StatusForbidden}}})
				live.aps = append(live.aps, &securityv1.AuthorizationPolicy{
					ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "locked-deny-monitoring"},
					Spec: securityv1beta1.AuthorizationPolicy{Selector: &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{"tier": "locked"}},
						Action: securityv1beta1.AuthorizationPolicy_DENY,
						Rules:  []*securityv1beta1.Rule{{From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{Namespaces: []string{w.p.Monitoring.Namespace}}}}}}}})
			},
			cause: doctor.CauseAuthorization, subject: "checkout-locked", fix: "ALLOW policy",
		},
		"the merged metrics port answers localhost only (403)": {
			example: "default-permissive",
			breakIt: func(t *testing.T, w *world, _ *liveObjects) {
				s := serviceOf(t, w.p, "frontend")
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "frontend-hardened", Labels: s.Selector.Map(), Node: "node-1",
					Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`},
					Containers:  []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}, {Name: "istio-proxy"}},
					Serve:       []simcluster.Listener{{Port: plan.PortMergedMetrics, Mode: simcluster.LocalhostOnly, Paths: []string{"/stats/prometheus"}}}})
			},
			cause: doctor.CauseLocalhostOnly, subject: "frontend-hardened", fix: "secure-port",
		},
		"the application serves its metrics on another path (404)": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, _ *liveObjects) {
				s := serviceOf(t, w.p, "checkout")
				w.c.AddPod(simcluster.Pod{Namespace: s.Namespace, Name: "checkout-custom-path", Labels: s.Selector.Map(), Node: "node-1",
					Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`, "prometheus.io/path": "/actuator/prometheus"},
					Containers:  []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(s.AppPort)}}}, {Name: "istio-proxy"}},
					Serve:       []simcluster.Listener{{Port: s.AppPort, Mode: simcluster.MutualTLS, Paths: []string{"/actuator/prometheus"}}}})
			},
			cause: doctor.CauseWrongPath, subject: "checkout-custom-path", fix: ".path: /actuator/prometheus",
		},
		"Prometheus runs a configuration without the team services job": {
			example: "strict-deny",
			breakIt: func(*testing.T, *world, *liveObjects) {},
			edit:    withoutJob("team-services"),
			cause:   doctor.CauseNotDiscovered, subject: "service payments/checkout", fix: "kubectl apply -k",
		},
		"a Service names the metrics port for gRPC": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, _ *liveObjects) {
				s := serviceOf(t, w.p, "checkout")
				w.c.AddService(simcluster.Service{Namespace: s.Namespace, Name: "checkout", Selector: s.Selector.Map(),
					Ports: []simcluster.ServicePort{{Name: "grpc-metrics", Port: int32(s.AppPort)}}})
			},
			cause: doctor.CauseProtocol, subject: "service payments/checkout", fix: "http-metrics",
		},
		"obsgen's PeerAuthentication was edited on the cluster": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, live *liveObjects) {
				i := slices.IndexFunc(live.pas, func(pa *securityv1.PeerAuthentication) bool { return pa.Spec.Mtls != nil })
				require.GreaterOrEqual(t, i, 0)
				live.pas[i].Spec.Mtls.Mode = securityv1beta1.PeerAuthentication_MutualTLS_PERMISSIVE
			},
			cause: doctor.CauseDriftEdited, subject: "PeerAuthentication", fix: "kubectl apply -k",
		},
		"a second Prometheus runs with the default 15 days while the objectives read 30": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, _ *liveObjects) {
				m := w.p.Monitoring
				w.c.AddPod(simcluster.Pod{Namespace: m.Namespace, Name: "prometheus-1", Labels: m.Prometheus.PodLabels.Map(), Node: "node-1",
					Containers: []simcluster.Container{{Name: "prometheus", Image: "quay.io/prometheus/prometheus:v3.5.0",
						Args: []string{"--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"}}}})
			},
			cause: doctor.CauseShortRetention, subject: "monitoring/prometheus-1", fix: "--storage.tsdb.retention.time=30d",
		},
		"meshed pods run in a namespace no team owns": {
			example: "strict-deny",
			breakIt: func(t *testing.T, w *world, _ *liveObjects) {
				w.c.AddPod(simcluster.Pod{Namespace: "orphans", Name: "legacy-1", Labels: map[string]string{"app": "legacy"}, Node: "node-1",
					Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`},
					Containers:  []simcluster.Container{{Name: "app"}, {Name: "istio-proxy"}}})
			},
			cause: doctor.CauseUncoveredNamespace, subject: "namespace orphans", fix: "obsgen team add",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			change := tc.change
			if change == nil {
				change = func(*v1alpha1.Profile) {}
			}
			res := doctorVariant(t, tc.example, change)
			w := doctorWorld(t, res)
			live := generatedObjects(res)
			tc.breakIt(t, w, live)
			r := diagnose(t, res, w, live, tc.edit)
			text := reportText(r)
			require.NotEmpty(t, r.Findings, "%s", text)
			top := r.Findings[0]
			assert.Equal(t, tc.cause, top.Cause, "%s", text)
			assert.Contains(t, top.Subject, tc.subject, "%s", text)
			assert.Contains(t, top.Fix, tc.fix, "%s", text)
		})
	}
}

// withoutJob removes a job from a Prometheus configuration.
func withoutJob(name string) func(string) string {
	return func(config string) string {
		var cfg map[string]any
		if err := goyaml.Unmarshal([]byte(config), &cfg); err != nil {
			panic(err)
		}
		jobs, _ := cfg["scrape_configs"].([]any)
		cfg["scrape_configs"] = slices.DeleteFunc(jobs, func(j any) bool { return j.(map[string]any)["job_name"] == name })
		out, err := goyaml.Marshal(cfg)
		if err != nil {
			panic(err)
		}
		return string(out)
	}
}

// TestDoctorReadsStateFiles checks the file mode on the same evidence: the
// objects written as `kubectl get -o yaml` writes them (a List, and
// multi-document YAML) diagnose like the live API.
func TestDoctorReadsStateFiles(t *testing.T) {
	dir := t.TempDir()
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{
		map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop", "labels": map[string]any{"istio-injection": "enabled"}}},
		map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "frontend-1", "namespace": "shop", "labels": map[string]any{"app": "frontend"}},
			"spec":   map[string]any{"containers": []any{map[string]any{"name": "app"}}},
			"status": map[string]any{"phase": "Running", "podIP": "10.244.1.5"}},
	}}
	data, err := yaml.Marshal(list)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: x, namespace: shop}
`), 0o644))
	got, err := clusterstate.Load([]string{dir})
	require.NoError(t, err)
	require.Len(t, got.Pods, 1)
	require.Len(t, got.PeerAuthentications, 1)
	assert.Equal(t, 1, got.Skipped["apps/v1/Deployment"])
	res := doctorVariant(t, "default-permissive", func(*v1alpha1.Profile) {})
	r := doctor.Diagnose(doctor.Input{Plan: res.Plan, Profile: res.Loaded.Profile, Policies: res.Policies, State: got})
	text := reportText(r)
	require.NotEmpty(t, r.Findings, text)
	assert.Equal(t, doctor.CauseNoSidecar, r.Findings[0].Cause, text)
	assert.Contains(t, text, "predicted from the cluster state", text)
}
