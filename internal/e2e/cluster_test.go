package e2e

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/generators/istio"
	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/simcluster"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

// world builds the pods, nodes and services a plan implies in a simulated
// cluster, and returns the targets the generated configuration must find,
// as "job URL team=… namespace=… service=…", followed by "gateway=…" or
// "waypoint=…" for the targets of a declared gateway or waypoint.
type world struct {
	c    *simcluster.Cluster
	p    *plan.Plan
	want []string
	// proxies are the declared gateways' and waypoints' pod IPs, with
	// their target label ("gateway=<name>", "waypoint=<name>").
	proxies map[string]string
	// proxyMetadata is the mesh-wide meshConfig.defaultConfig.proxyMetadata
	// of the istiod settings obsgen writes (none but under secure-port):
	// the cluster runs with them applied, and every injected proxy gets
	// them as its istio-proxy env.
	proxyMetadata map[string]string
}

func (w *world) expect(job, url, team, namespace, service string) {
	w.want = append(w.want, fmt.Sprintf("%s %s team=%s namespace=%s service=%s", job, url, team, namespace, service))
}

// dedicatedLabels are the target labels of the gateway and waypoint jobs,
// in the order lines shows them.
var dedicatedLabels = []string{plan.GatewayTargetLabel, plan.WaypointTargetLabel}

func (w *world) hasJob(kind plan.JobKind) bool {
	return slices.ContainsFunc(w.p.Jobs, func(j plan.Job) bool { return j.Kind == kind })
}

// appMode is how a workload's application port answers Prometheus. Under
// ambient with Prometheus enrolled, ztunnel on both ends carries the scrape
// over HBONE, so the application sees plaintext.
func (w *world) appMode() simcluster.Mode {
	switch {
	case !w.p.Mesh.Istio || w.p.Mesh.MTLS == "DISABLE":
		return simcluster.Plain
	case w.p.Mesh.Ambient && w.p.Scrape.Strategy == "direct":
		return simcluster.Plain
	case w.p.Mesh.MTLS == "STRICT":
		return simcluster.MutualTLS
	}
	return simcluster.Permissive
}

func buildWorld(t *testing.T, res *pipeline.Result) *world {
	w := newWorld(t, res)
	w.c.Start()
	return w
}

// newWorld is buildWorld before the cluster starts, for tests that add to
// it.
func newWorld(t *testing.T, res *pipeline.Result) *world {
	p := res.Plan
	w := &world{c: simcluster.New(t), p: p, proxies: map[string]string{}, proxyMetadata: proxyMetadataOf(t, res.Files)}
	w.platform()
	w.istiod()
	w.gateways()
	w.waypoints()
	for _, team := range p.Teams {
		for _, s := range team.Services {
			w.servicePod(s)
		}
	}
	w.unclaimedPods()
	return w
}

// proxyMetadataOf reads meshConfig.defaultConfig.proxyMetadata from the
// generated istiod Helm values, if any.
func proxyMetadataOf(t *testing.T, files []output.File) map[string]string {
	i := slices.IndexFunc(files, func(f output.File) bool { return f.Path == istio.SecureMetricsValuesPath })
	if i < 0 {
		return nil
	}
	var values struct {
		MeshConfig struct {
			DefaultConfig struct {
				ProxyMetadata map[string]string `yaml:"proxyMetadata"`
			} `yaml:"defaultConfig"`
		} `yaml:"meshConfig"`
	}
	require.NoError(t, yaml.Unmarshal(files[i].Data, &values))
	return values.MeshConfig.DefaultConfig.ProxyMetadata
}

// proxyMetrics are the metrics listeners of an injected proxy (sidecar or
// gateway) as Istio runs it with the world's proxy metadata, and the
// annotations the injector adds: Envoy's :15090 and the agent's :15020 in
// plaintext; with ENVOY_SECURE_MERGED_METRICS_PORT an mTLS listener there
// (tools/packaging/common/envoy_bootstrap.json: require_client_certificate,
// routes /stats/prometheus and /metrics to the agent) and the
// prometheus.istio.io/secure-port annotation (pkg/kube/inject/webhook.go);
// with METRICS_LOCALHOST_ACCESS_ONLY :15090 bound to localhost (absent
// here: it refuses connections) and :15020 answering 403.
func (w *world) proxyMetrics(ann map[string]string) []simcluster.Listener {
	return w.proxyListeners(ann, true)
}

// proxyListeners is proxyMetrics for a proxy the sidecar injector
// processed (injected) or not (a Gateway API gateway's deployment, which
// gets the proxy metadata from files/kube-gateway.yaml but no annotation).
func (w *world) proxyListeners(ann map[string]string, injected bool) []simcluster.Listener {
	stats := []string{"/stats/prometheus"}
	merged := simcluster.Listener{Port: plan.PortMergedMetrics, Paths: stats}
	out := []simcluster.Listener{{Port: plan.PortEnvoyMetrics, Paths: stats}}
	if w.proxyMetadata["METRICS_LOCALHOST_ACCESS_ONLY"] == "true" {
		merged.Mode, out = simcluster.LocalhostOnly, nil
	}
	out = append(out, merged)
	if port := w.proxyMetadata["ENVOY_SECURE_MERGED_METRICS_PORT"]; port != "" && port != "0" {
		n, err := strconv.Atoi(port)
		if err != nil {
			panic(err)
		}
		out = append(out, simcluster.Listener{Port: n, Mode: simcluster.MutualTLS, Paths: []string{"/stats/prometheus", "/metrics"}})
		if injected {
			ann["prometheus.istio.io/secure-port"] = port
		}
	}
	return out
}

func (w *world) platform() {
	m := w.p.Monitoring
	node := w.c.AddNode(simcluster.Node{Name: "node-1"})
	w.expect("kubelet", "https://"+node+":10250/metrics", "", "", "")
	w.expect("cadvisor", "https://"+node+":10250/metrics/cadvisor", "", "", "")
	api := w.c.AddAPIServer()
	w.expect("kubernetes-apiservers", "https://"+api+":6443/metrics", "", "", "")
	ksm := w.c.AddPod(simcluster.Pod{Namespace: m.KubeStateMetrics.Namespace, Name: "kube-state-metrics-1",
		Labels: m.KubeStateMetrics.PodLabels.Map(), Node: "node-1",
		Containers: []simcluster.Container{{Name: "ksm", Ports: []simcluster.Port{{Name: "http-metrics", Number: 8080}}}},
		Serve:      []simcluster.Listener{{Port: 8080}}})
	w.expect("kube-state-metrics", "http://"+ksm+":8080/metrics", "", "", "")
	w.c.AddPod(simcluster.Pod{Namespace: m.NodeExporter.Namespace, Name: "node-exporter-1", HostNetwork: true, Node: "node-1",
		Labels:     m.NodeExporter.PodLabels.Map(),
		Containers: []simcluster.Container{{Name: "node-exporter", Ports: []simcluster.Port{{Name: "metrics", Number: 9100}}}},
		Serve:      []simcluster.Listener{{Port: 9100}}})
	w.expect("node-exporter", "http://"+node+":9100/metrics", "", "", "")
	// The monitoring stack scrapes itself: the Prometheus pods and, unless
	// Prometheus runs as an agent, Alertmanager. Under STRICT sidecars a
	// port-level PERMISSIVE policy lets the plaintext scrape in.
	mode := simcluster.Plain
	if w.p.Mesh.Sidecar && m.InMesh && w.p.Mesh.MTLS == "STRICT" {
		mode = simcluster.Permissive
	}
	prom := w.c.AddPod(simcluster.Pod{Namespace: m.Namespace, Name: "prometheus-0", Labels: m.Prometheus.PodLabels.Map(), Node: "node-1",
		Containers: []simcluster.Container{{Name: "prometheus", Ports: []simcluster.Port{{Name: "web", Number: plan.PortPrometheus}},
			Args: prometheusArgs(m.Prometheus)}},
		Serve: []simcluster.Listener{{Port: plan.PortPrometheus, Mode: mode}}})
	w.expect("prometheus", fmt.Sprintf("http://%s:%d/metrics", prom, plan.PortPrometheus), "", m.Namespace, "")
	if w.hasJob(plan.JobAlertmanager) {
		am := w.c.AddPod(simcluster.Pod{Namespace: m.Alertmanager.Namespace, Name: "alertmanager-0", Labels: m.Alertmanager.PodLabels.Map(), Node: "node-1",
			Containers: []simcluster.Container{{Name: "alertmanager", Ports: []simcluster.Port{{Name: "web", Number: int32(m.Alertmanager.Port)}}}},
			Serve:      []simcluster.Listener{{Port: m.Alertmanager.Port, Mode: mode}}})
		w.expect("alertmanager", fmt.Sprintf("http://%s:%d/metrics", am, m.Alertmanager.Port), "", m.Alertmanager.Namespace, "")
	}
}

func (w *world) istiod() {
	if !w.p.Mesh.Istio {
		return
	}
	ns := w.p.Mesh.IstioNamespace
	ip := w.c.AddPod(simcluster.Pod{Namespace: ns, Name: "istiod-1", Labels: map[string]string{"app": "istiod"}, Node: "node-1",
		Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15014"},
		Containers:  []simcluster.Container{{Name: "discovery", Ports: []simcluster.Port{{Name: "http-monitoring", Number: 15014}}}},
		Serve:       []simcluster.Listener{{Port: 15014}}})
	w.c.AddService(simcluster.Service{Namespace: ns, Name: "istiod", Labels: map[string]string{"app": "istiod"},
		Selector: map[string]string{"app": "istiod"},
		Ports:    []simcluster.ServicePort{{Name: "http-monitoring", Port: 15014, TargetPort: 15014}}})
	w.expect("istiod", "http://"+ip+":15014/metrics", "", ns, "")
	if w.p.Mesh.Ambient {
		zt := w.c.AddPod(simcluster.Pod{Namespace: ns, Name: "ztunnel-1", Labels: map[string]string{"app": "ztunnel"}, Node: "node-1",
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020"},
			Containers:  []simcluster.Container{{Name: "istio-proxy", Ports: []simcluster.Port{{Name: "ztunnel-stats", Number: 15020}}}},
			Serve:       []simcluster.Listener{{Port: 15020}}})
		w.expect("ztunnel", "http://"+zt+":15020/metrics", "", ns, "")
	}
}

// jobPort is the port of the plan's job of kind.
func (w *world) jobPort(kind plan.JobKind) int {
	i := slices.IndexFunc(w.p.Jobs, func(j plan.Job) bool { return j.Kind == kind })
	return w.p.Jobs[i].Endpoint.Port
}

// jobScheme is the scheme of the plan's job of kind.
func (w *world) jobScheme(kind plan.JobKind) string {
	i := slices.IndexFunc(w.p.Jobs, func(j plan.Job) bool { return j.Kind == kind })
	return w.p.Jobs[i].Endpoint.Scheme
}

// teamOf is the team of namespace ns, or "".
func (w *world) teamOf(ns string) string {
	for _, t := range w.p.Teams {
		if slices.Contains(t.Namespaces, ns) {
			return t.Name
		}
	}
	return ""
}

// gateways adds each declared gateway's pod as Istio's gateway chart and
// gateway injection template make it: the chart's prometheus.io
// annotations (15020, /stats/prometheus; manifests/charts/gateway/
// values.yaml), the injector's sidecar.istio.io/status, the istio-proxy
// container's http-envoy-prom port 15090, and both metrics ports serving
// in plaintext. istio-gateways must find it once, on its port.
func (w *world) gateways() {
	for _, g := range w.p.Mesh.Gateways {
		ann := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus",
			"inject.istio.io/templates": "gateway", "sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
		serve := w.proxyMetrics(ann)
		ip := w.c.AddPod(simcluster.Pod{Namespace: g.Namespace, Name: g.Name + "-gateway-1", Labels: g.PodLabels.Map(), Node: "node-1",
			Annotations: ann,
			Containers:  []simcluster.Container{{Name: "istio-proxy", Ports: []simcluster.Port{{Name: "http-envoy-prom", Number: 15090}}}},
			Serve:       serve})
		w.proxies[ip] = plan.GatewayTargetLabel + "=" + g.Name
		w.expect(string(plan.JobGateways), fmt.Sprintf("%s://%s:%d/stats/prometheus", w.jobScheme(plan.JobGateways), ip, w.jobPort(plan.JobGateways)),
			w.teamOf(g.Namespace), g.Namespace, "")
		w.want[len(w.want)-1] += " " + w.proxies[ip]
	}
}

// waypoints adds each declared waypoint's pod as Istio's waypoint template
// makes it (manifests/charts/istio-control/istio-discovery/files/
// waypoint.yaml): not enrolled nor injected, the prometheus.io annotations
// on 15020, and the istio-proxy container's metrics, status-port and
// http-envoy-prom ports. istio-waypoints must find it once, on 15020, with
// the team of its namespace.
func (w *world) waypoints() {
	for _, wp := range w.p.Mesh.Waypoints {
		labels := map[string]string{plan.WaypointLabel: wp.Name, "gateway.networking.k8s.io/gateway-class-name": "istio-waypoint",
			"gateway.istio.io/managed": "istio.io-mesh-controller", "istio.io/dataplane-mode": "none", "sidecar.istio.io/inject": "false",
			"service.istio.io/canonical-name": wp.Name, "service.istio.io/canonical-revision": "latest"}
		ip := w.c.AddPod(simcluster.Pod{Namespace: wp.Namespace, Name: wp.Name + "-1", Labels: labels, Node: "node-1",
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus",
				"istio.io/rev": "default"},
			Containers: []simcluster.Container{{Name: "istio-proxy", Ports: []simcluster.Port{
				{Name: "metrics", Number: 15020}, {Name: "status-port", Number: 15021}, {Name: "http-envoy-prom", Number: 15090}}}},
			Serve: []simcluster.Listener{{Port: 15020, Paths: []string{"/stats/prometheus"}},
				{Port: 15090, Paths: []string{"/stats/prometheus"}}}})
		w.proxies[ip] = plan.WaypointTargetLabel + "=" + wp.Name
		w.expect(string(plan.JobWaypoints), fmt.Sprintf("http://%s:%d/stats/prometheus", ip, w.jobPort(plan.JobWaypoints)),
			w.teamOf(wp.Namespace), wp.Namespace, "")
		w.want[len(w.want)-1] += " " + w.proxies[ip]
	}
}

// checkDedicatedTargets requires each declared gateway's and waypoint's
// pod to be one active target, up, of its own job with its target label,
// and of no other job: the generic proxy and annotation jobs leave it
// alone.
func (w *world) checkDedicatedTargets(t *testing.T, targets []simcluster.Target) {
	t.Helper()
	for ip, label := range w.proxies {
		var got []simcluster.Target
		for _, tg := range targets {
			if strings.Contains(tg.ScrapeURL, "//"+ip+":") {
				got = append(got, tg)
			}
		}
		if !assert.Len(t, got, 1, "%s (%s) is one target: %v", ip, label, got) {
			continue
		}
		name, value, _ := strings.Cut(label, "=")
		job := map[string]plan.JobKind{plan.GatewayTargetLabel: plan.JobGateways, plan.WaypointTargetLabel: plan.JobWaypoints}[name]
		assert.Equal(t, string(job), got[0].Job(), label)
		assert.Equal(t, value, got[0].Labels[name], "%s: target label", label)
		assert.Equal(t, "up", got[0].Health, "%s: %s", label, got[0].LastError)
	}
}

// sidecarPod adds a sidecar-injected pod: its application port answers as
// the mTLS mode makes it (mode), Envoy's 15090 and the agent's merged 15020
// in plaintext, and with metrics merging the injector's annotations.
func (w *world) sidecarPod(ns, name string, labels map[string]string, appPort int, appPath string, annotated bool, mode simcluster.Mode) string {
	if !w.p.Mesh.Sidecar {
		return w.c.AddPod(simcluster.Pod{Namespace: ns, Name: name, Labels: labels, Node: "node-1",
			Containers: []simcluster.Container{{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(appPort)}}}},
			Serve:      []simcluster.Listener{{Port: appPort, Mode: mode, Paths: []string{appPath}}}})
	}
	ann := map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
	if annotated || w.p.Mesh.MetricsMerging {
		ann["prometheus.io/scrape"] = "true"
		ann["prometheus.io/port"] = fmt.Sprint(appPort)
		ann["prometheus.io/path"] = appPath
	}
	if w.p.Mesh.MetricsMerging {
		ann["prometheus.io/port"], ann["prometheus.io/path"] = "15020", "/stats/prometheus"
	}
	return w.c.AddPod(simcluster.Pod{Namespace: ns, Name: name, Labels: labels, Annotations: ann, Node: "node-1",
		Containers: []simcluster.Container{
			{Name: "app", Ports: []simcluster.Port{{Name: "http", Number: int32(appPort)}}},
			{Name: "istio-proxy", Ports: []simcluster.Port{{Name: "http-envoy-prom", Number: 15090}}},
		},
		Serve: append([]simcluster.Listener{{Port: appPort, Mode: mode, Paths: []string{appPath}}}, w.proxyMetrics(ann)...)})
}

func (w *world) servicePod(s plan.Service) {
	labels := s.Selector.Map()
	if labels == nil {
		labels = map[string]string{"app": s.Name}
	}
	mode := w.appMode()
	if w.p.Scrape.Strategy == "permissive-port" {
		mode = simcluster.Permissive // the port-level PeerAuthentication opens exactly this port
	}
	ip := w.sidecarPod(s.Namespace, s.Name+"-1", labels, s.AppPort, s.AppPath, false, mode)
	e := s.Endpoint
	w.expect(s.Job, fmt.Sprintf("%s://%s:%d%s", e.Scheme, ip, e.Port, e.Path), s.Team, s.Namespace, s.Name)
	if w.hasJob(plan.JobEnvoyStats) {
		w.expect("envoy-stats", "http://"+ip+":15090/stats/prometheus", s.Team, s.Namespace, "")
	}
}

// annotationReaches tells whether Prometheus may reach an annotated pod the
// profile does not describe on port: always under the open stance; under a
// deny stance only when a flow opens that port from Prometheus to every pod
// (scrape-proxies). The annotation-driven jobs must discover exactly those
// pods: any other would be a target down for good.
func (w *world) annotationReaches(port int) bool {
	if w.p.Network.Stance == v1alpha1.StanceOpen {
		return true
	}
	for _, f := range w.p.Flows {
		if f.To.Any && f.From.Namespace == w.p.Monitoring.Namespace && slices.Contains(f.Ports, plan.PortProto{Port: port, Protocol: "TCP"}) {
			return true
		}
	}
	return false
}

// unclaimedPods adds an annotated sidecar pod no team service claims and an
// annotated pod without a sidecar.
func (w *world) unclaimedPods() {
	if len(w.p.Teams) > 0 && w.p.Mesh.Sidecar {
		team := w.p.Teams[0]
		ns := team.Namespaces[0]
		ip := w.sidecarPod(ns, "extra-1", map[string]string{"app": "extra"}, 9000, "/metrics", true, w.appMode())
		switch {
		case w.hasJob(plan.JobIstioMerged):
			w.expect("istio-merged", fmt.Sprintf("%s://%s:%d/stats/prometheus", w.jobScheme(plan.JobIstioMerged), ip, w.jobPort(plan.JobIstioMerged)), team.Name, ns, "")
		case w.hasJob(plan.JobPodsIstioSecure) && w.annotationReaches(9000):
			w.expect("kubernetes-pods-istio-secure", "https://"+ip+":9000/metrics", team.Name, ns, "")
		case w.p.Scrape.Strategy == "direct" && w.annotationReaches(9000):
			w.expect("kubernetes-pods", "http://"+ip+":9000/metrics", team.Name, ns, "")
		}
		if w.hasJob(plan.JobEnvoyStats) {
			w.expect("envoy-stats", "http://"+ip+":15090/stats/prometheus", team.Name, ns, "")
		}
	}
	if w.p.Mesh.Sidecar {
		// A Gateway API gateway's proxy as istiod deploys it (files/
		// kube-gateway.yaml): gateway-name label, the prometheus.io
		// annotations on 15020, sidecar.istio.io/inject "false" and no
		// injector status, but the mesh's proxy metadata.
		ann := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus"}
		ip := w.c.AddPod(simcluster.Pod{Namespace: "edge", Name: "api-gw-istio-1", Node: "node-1",
			Labels: map[string]string{"gateway.networking.k8s.io/gateway-name": "api-gw", "sidecar.istio.io/inject": "false",
				"gateway.istio.io/managed": "istio.io-gateway-controller"},
			Annotations: ann,
			Containers:  []simcluster.Container{{Name: "istio-proxy", Ports: []simcluster.Port{{Name: "http-envoy-prom", Number: 15090}}}},
			Serve:       w.proxyListeners(ann, false)})
		if w.p.Scrape.Strategy == v1alpha1.StrategySecurePort {
			w.expect("istio-merged", fmt.Sprintf("https://%s:%d/stats/prometheus", ip, plan.PortSecureMergedMetrics), "", "edge", "")
		} else {
			if w.annotationReaches(15020) {
				w.expect("kubernetes-pods", "http://"+ip+":15020/stats/prometheus", "", "edge", "")
			}
			if w.hasJob(plan.JobEnvoyStats) {
				w.expect("envoy-stats", "http://"+ip+":15090/stats/prometheus", "", "edge", "")
			}
		}
	}
	// A gateway of another Gateway API class with the same gateway-name
	// label (files/agentgateway.yaml: agentgateway, no Envoy, no
	// pilot-agent): its metrics stay with kubernetes-pods, in plaintext.
	agw := w.c.AddPod(simcluster.Pod{Namespace: "edge", Name: "ai-gw-1", Node: "node-1",
		Labels:      map[string]string{"gateway.networking.k8s.io/gateway-name": "ai-gw", "gateway.istio.io/managed": "istio.io-agentgateway-controller"},
		Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/metrics"},
		Containers:  []simcluster.Container{{Name: "agentgateway", Ports: []simcluster.Port{{Name: "metrics", Number: 15020}}}},
		Serve:       []simcluster.Listener{{Port: 15020}}})
	if w.annotationReaches(15020) {
		w.expect("kubernetes-pods", "http://"+agw+":15020/metrics", "", "edge", "")
	}
	ip := w.c.AddPod(simcluster.Pod{Namespace: "tools", Name: "batch-1", Node: "node-1",
		Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9000"},
		Containers:  []simcluster.Container{{Name: "batch", Ports: []simcluster.Port{{Name: "http", Number: 9000}}}},
		Serve:       []simcluster.Listener{{Port: 9000}}})
	if w.annotationReaches(9000) {
		w.expect("kubernetes-pods", "http://"+ip+":9000/metrics", "", "tools", "")
	}
}

// lines renders Prometheus' active targets like world.want, and the ones
// that are not up.
func lines(ts simcluster.Targets) (all, down []string) {
	for _, t := range ts.Active {
		line := fmt.Sprintf("%s %s team=%s namespace=%s service=%s", t.Job(), t.ScrapeURL,
			t.Labels["team"], t.Labels["namespace"], t.Labels["service"])
		for _, l := range dedicatedLabels {
			if v := t.Labels[l]; v != "" {
				line += " " + l + "=" + v
			}
		}
		all = append(all, line)
		if t.Health != "up" {
			down = append(down, fmt.Sprintf("%s %s: %s %s", t.Job(), t.ScrapeURL, t.Health, t.LastError))
		}
	}
	slices.Sort(all)
	return all, down
}

// exampleVariant generates an example profile with some fields changed.
func exampleVariant(t *testing.T, name string, change func(*v1alpha1.Profile)) *pipeline.Result {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	for _, ex := range examples(t) {
		if ex.result.Plan.Name != name {
			continue
		}
		p := *ex.result.Loaded.Profile
		change(&p)
		data, err := yaml.Marshal(&p)
		require.NoError(t, err)
		res, err := pipeline.Run(ex.file, data, engine)
		var diags diag.List
		require.False(t, errors.As(err, &diags), "%v", err)
		require.NoError(t, err)
		return res
	}
	t.Fatalf("no example %s", name)
	return nil
}

func configOf(t *testing.T, res *pipeline.Result, shard int) string {
	t.Helper()
	name := prometheus.ConfigFile(res.Plan, shard)
	i := slices.IndexFunc(res.Files, func(f output.File) bool { return f.Path == name })
	require.GreaterOrEqual(t, i, 0, name)
	return string(res.Files[i].Data)
}

// TestRealPrometheusScrapesTheSimulatedCluster starts the real Prometheus
// server with each generated configuration against a simulated cluster:
// it must discover exactly the expected targets, with the right job, port,
// scheme and labels, and scrape every one of them successfully, including
// application ports that accept only mutual TLS from a test CA. A declared
// gateway is one target of istio-gateways, with metrics merging off (on
// 15090, where envoy-stats would find it too) and on (15020, where
// istio-merged would).
func TestRealPrometheusScrapesTheSimulatedCluster(t *testing.T) {
	testtools.Find(t, "prometheus")
	off, on := false, true
	// A gateway in its own namespace, labelled as Istio's gateway chart
	// labels istio-ingress (helm install istio-ingress istio/gateway).
	gateway := v1alpha1.Gateway{Name: "public", Namespace: "istio-ingress", PodLabels: map[string]string{"istio": "ingress"}, Ports: []int{8080, 8443}}
	tests := map[string]struct {
		profile  string
		change   func(*v1alpha1.Profile)
		strategy v1alpha1.ScrapeStrategy
	}{
		// Metrics merging off: the gateway on Envoy's 15090, the port
		// envoy-stats scrapes on sidecars, and not by envoy-stats too.
		"STRICT, istio-certs, a gateway": {profile: "strict-deny", strategy: "istio-certs",
			change: func(p *v1alpha1.Profile) {
				p.Mesh.Gateways = []v1alpha1.Gateway{gateway}
				p.Monitoring.Prometheus.IstioCertificates = v1alpha1.IstioCertificates{}
			}},
		// Metrics merging on before Istio 1.31: the gateway on 15020, and
		// not by istio-merged.
		"STRICT, merged, a gateway": {profile: "strict-deny", strategy: "merged",
			change: func(p *v1alpha1.Profile) {
				p.Mesh.MetricsMerging = &on
				p.Mesh.Version = "1.30"
				p.Monitoring.Prometheus.IstioCertificates = v1alpha1.IstioCertificates{}
				p.Mesh.Gateways = []v1alpha1.Gateway{gateway}
			}},
		// Prometheus' certificate from cert-manager instead of the
		// cert-writing sidecar (the example's own choice).
		"STRICT, istio-certs, cert-manager": {profile: "strict-deny", strategy: "istio-certs",
			change: func(p *v1alpha1.Profile) {
				require.Equal(t, v1alpha1.CertificatesCertManager, p.Monitoring.Prometheus.IstioCertificates.Source)
			}},
		"STRICT, secure-port, cert-manager": {profile: "strict-deny", strategy: "secure-port",
			change: func(p *v1alpha1.Profile) { p.Mesh.MetricsMerging = &on }},
		// Istio 1.31 with merging: every proxy runs with the generated
		// istiod settings, so its plaintext ports answer localhost only and
		// the mTLS listener serves the merged metrics; the gateway too.
		"STRICT, secure-port, a gateway": {profile: "strict-deny", strategy: "secure-port",
			change: func(p *v1alpha1.Profile) {
				p.Mesh.MetricsMerging = &on
				p.Monitoring.Prometheus.IstioCertificates = v1alpha1.IstioCertificates{}
				p.Mesh.Gateways = []v1alpha1.Gateway{gateway}
			}},
		"PERMISSIVE, merged": {profile: "default-permissive", change: func(*v1alpha1.Profile) {}, strategy: "merged"},
		"PERMISSIVE, direct": {profile: "default-permissive", strategy: "direct",
			change: func(p *v1alpha1.Profile) { p.Mesh.MetricsMerging = &off }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := exampleVariant(t, tc.profile, tc.change)
			require.Equal(t, tc.strategy, res.Plan.Scrape.Strategy)
			w := buildWorld(t, res)
			// The rule files load next to the configuration (rule_files:
			// rules/*.yaml); rules evaluate every second here.
			ruleFiles := map[string][]byte{}
			for _, f := range res.Files {
				if name, ok := strings.CutPrefix(f.Path, "prometheus/rules/"); ok {
					ruleFiles["rules/"+name] = f.Data
				}
			}
			config := strings.Replace(w.c.RewriteConfig(configOf(t, res, 0)), "evaluation_interval: 30s", "evaluation_interval: 1s", 1)
			prom := simcluster.StartPrometheusWithFiles(t, config, ruleFiles)
			targets := prom.WaitForTargets(t, simcluster.DefaultTimeout, simcluster.DefaultSettle)
			got, down := lines(targets)
			slices.Sort(w.want)
			assert.Equal(t, w.want, got, "discovered targets")
			assert.Empty(t, down, "every target must be up")
			w.checkDedicatedTargets(t, targets.Active)
			if tc.strategy == v1alpha1.StrategySecurePort {
				checkSecurePort(t, w, targets)
			}
			checkRulesEvaluate(t, prom, ruleFiles)
		})
	}
}

// checkSecurePort: under secure-port every proxy target was scraped over
// mTLS on the secure listener, and what the proxies refuse is refused: the
// listener without a client certificate or in plaintext, :15020 (403) and
// :15090 (closed) from outside the pod.
func checkSecurePort(t *testing.T, w *world, targets simcluster.Targets) {
	t.Helper()
	proxies := 0
	for _, tg := range targets.Active {
		if tg.Job() != string(plan.JobIstioMerged) && tg.Job() != string(plan.JobGateways) && !strings.Contains(tg.Job(), "/") {
			continue
		}
		proxies++
		assert.True(t, strings.HasPrefix(tg.ScrapeURL, "https://") && strings.Contains(tg.ScrapeURL, fmt.Sprintf(":%d/", plan.PortSecureMergedMetrics)),
			"%s %s: the secure listener", tg.Job(), tg.ScrapeURL)
		host := strings.Split(strings.TrimPrefix(tg.ScrapeURL, "https://"), ":")[0]
		plain := &http.Client{Timeout: 5 * time.Second}
		resp, err := plain.Get(fmt.Sprintf("http://%s:%d/stats/prometheus", host, plan.PortMergedMetrics))
		if assert.NoError(t, err) {
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: :15020 answers localhost only", host)
			resp.Body.Close()
		}
		_, err = plain.Get(fmt.Sprintf("http://%s:%d/stats/prometheus", host, plan.PortEnvoyMetrics))
		assert.Error(t, err, "%s: :15090 is bound to localhost", host)
		// Envoy closes the connection: no filter chain matches plaintext.
		_, err = plain.Get(fmt.Sprintf("http://%s:%d/stats/prometheus", host, plan.PortSecureMergedMetrics))
		assert.Error(t, err, "%s: the secure listener refuses plaintext", host)
		noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the point is the missing client certificate
		_, err = noCert.Get(fmt.Sprintf("https://%s:%d/stats/prometheus", host, plan.PortSecureMergedMetrics))
		assert.Error(t, err, "%s: the secure listener requires a client certificate", host)
	}
	assert.Greater(t, proxies, 2, "sidecar, team-service and gateway targets")
	for _, sc := range w.c.Scrapes() {
		if strings.HasSuffix(sc.Addr, fmt.Sprintf(":%d", plan.PortSecureMergedMetrics)) {
			assert.Equal(t, "mtls", sc.Transport, sc.Addr)
		}
	}
}

// checkRulesEvaluate waits until the real Prometheus has evaluated every
// rule of the generated rule files, and requires each one healthy: loaded,
// evaluated, no error.
func checkRulesEvaluate(t *testing.T, prom *simcluster.Prometheus, ruleFiles map[string][]byte) {
	t.Helper()
	require.NotEmpty(t, ruleFiles, "the raw flavour has rule files")
	want := 0
	for _, data := range ruleFiles {
		groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
		require.Empty(t, errs)
		for _, g := range groups.Groups {
			want += len(g.Rules)
		}
	}
	var groups []simcluster.RuleGroup
	deadline := time.Now().Add(simcluster.DefaultTimeout)
	for {
		var err error
		groups, err = prom.Rules(t.Context())
		require.NoError(t, err)
		evaluated, total := 0, 0
		for _, g := range groups {
			for _, r := range g.Rules {
				total++
				if !r.LastEvaluation.IsZero() {
					evaluated++
				}
			}
		}
		if total == want && evaluated == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus loaded %d of %d rules and evaluated %d", total, want, evaluated)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, g := range groups {
		for _, r := range g.Rules {
			assert.Equal(t, "ok", r.Health, "%s %s: %s", g.Name, r.Name, r.LastError)
		}
	}
	t.Logf("%d rules in %d groups loaded and evaluated", want, len(groups))
}

// TestRealPrometheusShardsSplitTheTargets runs both shards of the sharded
// example against one simulated cluster: together they find exactly the
// expected targets, each in one shard, all up.
func TestRealPrometheusShardsSplitTheTargets(t *testing.T) {
	testtools.Find(t, "prometheus")
	res := exampleVariant(t, "calico-global-deny", func(*v1alpha1.Profile) {})
	require.Equal(t, 2, res.Plan.Scrape.Shards)
	w := buildWorld(t, res)
	require.NotEmpty(t, res.Plan.Mesh.Gateways, "the example declares gateways")
	seen := map[string]int{}
	var active []simcluster.Target
	for shard := range res.Plan.Scrape.Shards {
		targets := simcluster.RunPrometheus(t, w.c.RewriteConfig(configOf(t, res, shard)))
		active = append(active, targets.Active...)
		got, down := lines(targets)
		assert.Empty(t, down, "shard %d: every target must be up", shard)
		for _, l := range got {
			if prev, dup := seen[l]; dup {
				t.Errorf("%s is scraped by shards %d and %d", l, prev, shard)
			}
			seen[l] = shard
		}
	}
	var union []string
	for l := range seen {
		union = append(union, l)
	}
	slices.Sort(union)
	slices.Sort(w.want)
	assert.Equal(t, w.want, union, "the shards together find exactly the expected targets")
	w.checkDedicatedTargets(t, active)
}

// TestRealPrometheusAgentScrapesAndRemoteWrites runs the ambient example, an
// agent, with the real `prometheus --agent`: it finds and scrapes the
// expected targets and remote-writes samples to the configured endpoint (a
// receiver on loopback that checks the remote-write protocol headers).
func TestRealPrometheusAgentScrapesAndRemoteWrites(t *testing.T) {
	testtools.Find(t, "prometheus")
	var writes atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/receive" && len(body) > 0 &&
			r.Header.Get("Content-Encoding") == "snappy" && r.Header.Get("X-Prometheus-Remote-Write-Version") != "" {
			writes.Add(1)
		}
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	res := exampleVariant(t, "ambient", func(p *v1alpha1.Profile) {
		p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "central", URL: receiver.URL + "/api/v1/receive"}}
	})
	require.True(t, res.Plan.Monitoring.Prometheus.Agent)
	require.NotEmpty(t, res.Plan.Mesh.Waypoints, "the example declares a waypoint")
	w := buildWorld(t, res)
	prom := simcluster.StartPrometheus(t, w.c.RewriteConfig(configOf(t, res, 0)), "--agent")
	targets := prom.WaitForTargets(t, 60*time.Second, 2*time.Second)
	got, down := lines(targets)
	slices.Sort(w.want)
	assert.Equal(t, w.want, got, "discovered targets")
	assert.Empty(t, down, "every target must be up")
	w.checkDedicatedTargets(t, targets.Active)
	assert.Eventually(t, func() bool { return writes.Load() > 0 }, 30*time.Second, 100*time.Millisecond,
		"the agent remote-writes what it scrapes")
}

// prometheusArgs are the Prometheus server's arguments as prometheus.yml
// asks for them (the retention its rules read).
func prometheusArgs(pr plan.Prometheus) []string {
	args := []string{"--config.file=/etc/prometheus/prometheus.yml"}
	if pr.Agent {
		return append(args, "--agent")
	}
	if pr.RawRetention != "" {
		args = append(args, "--storage.tsdb.retention.time="+pr.RawRetention)
	}
	return args
}
