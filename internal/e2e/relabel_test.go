package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/scrape"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
)

// pod is a pod as Kubernetes service discovery (role: pod) sees it.
type pod struct {
	namespace, name, ip string
	labels, annotations map[string]string
	ports               map[string]int // container port name -> number
}

var nonLabelChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// discovered returns one target per container port, with the meta labels
// Prometheus' pod discovery sets.
func (p pod) discovered() []model.LabelSet {
	base := model.LabelSet{
		"__meta_kubernetes_namespace": model.LabelValue(p.namespace),
		"__meta_kubernetes_pod_name":  model.LabelValue(p.name),
		"__meta_kubernetes_pod_ip":    model.LabelValue(p.ip),
		"__meta_kubernetes_pod_phase": "Running",
	}
	for k, v := range p.labels {
		base[model.LabelName("__meta_kubernetes_pod_label_"+nonLabelChar.ReplaceAllString(k, "_"))] = model.LabelValue(v)
	}
	for k, v := range p.annotations {
		base[model.LabelName("__meta_kubernetes_pod_annotation_"+nonLabelChar.ReplaceAllString(k, "_"))] = model.LabelValue(v)
	}
	var out []model.LabelSet
	for name, port := range p.ports {
		t := base.Clone()
		t["__address__"] = model.LabelValue(fmt.Sprintf("%s:%d", p.ip, port))
		t["__meta_kubernetes_pod_container_port_name"] = model.LabelValue(name)
		t["__meta_kubernetes_pod_container_port_number"] = model.LabelValue(fmt.Sprint(port))
		out = append(out, t)
	}
	return out
}

// scrapedTargets applies each pod-role job's relabeling, as Prometheus does,
// and returns the distinct targets as "job scheme://address path team=...
// service=...", followed by "gateway=..." or "waypoint=..." when set.
func scrapedTargets(t *testing.T, cfg *config.Config, pods []pod) []string {
	t.Helper()
	seen := map[string]bool{}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, sc := range cfg.ScrapeConfigs {
		sd := podRole(sc)
		if sd == nil {
			continue
		}
		for _, p := range pods {
			if ns := sd.NamespaceDiscovery.Names; len(ns) > 0 && !slices.Contains(ns, p.namespace) {
				continue
			}
			for _, target := range p.discovered() {
				res, err := scrape.PopulateLabels(lb, sc, target, nil)
				require.NoError(t, err)
				if res.IsEmpty() {
					continue
				}
				key := fmt.Sprintf("%s %s://%s%s team=%s service=%s", res.Get("job"), res.Get("__scheme__"),
					res.Get("__address__"), res.Get("__metrics_path__"), res.Get("team"), res.Get("service"))
				for _, l := range dedicatedLabels {
					if v := res.Get(l); v != "" {
						key += " " + l + "=" + v
					}
				}
				seen[key] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// podRole returns the job's pod discovery config, or nil.
func podRole(sc *config.ScrapeConfig) *kubernetes.SDConfig {
	for _, sd := range sc.ServiceDiscoveryConfigs {
		if k, ok := sd.(*kubernetes.SDConfig); ok && k.Role == kubernetes.RolePod {
			return k
		}
	}
	return nil
}

// targetsOfProfile returns what the example's configurations scrape
// together (every shard, when the profile is sharded).
func targetsOfProfile(t *testing.T, profile string, pods []pod) []string {
	t.Helper()
	for _, ex := range examples(t) {
		if ex.result.Plan.Name == profile {
			return targetsOf(t, ex.result, pods)
		}
	}
	t.Fatalf("no example profile %s", profile)
	return nil
}

func targetsOf(t *testing.T, res *pipeline.Result, pods []pod) []string {
	t.Helper()
	var out []string
	for shard := range max(res.Plan.Scrape.Shards, 1) {
		name := prometheus.ConfigFile(res.Plan, shard)
		i := slices.IndexFunc(res.Files, func(f output.File) bool { return f.Path == name })
		require.GreaterOrEqual(t, i, 0, name)
		cfg, err := config.Load(string(res.Files[i].Data), promslog.NewNopLogger())
		require.NoError(t, err)
		out = append(out, scrapedTargets(t, cfg, pods)...)
	}
	slices.Sort(out)
	return out
}

var sidecarPorts = map[string]int{"http": 8080, "http-envoy-prom": 15090}

func TestEachPodIsScrapedOnceOnTheStrategysPort(t *testing.T) {
	sidecar := map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
	// A gateway pod as Istio's gateway chart annotates it
	// (manifests/charts/gateway/values.yaml) and the injector marks it.
	gateway := map[string]string{"sidecar.istio.io/status": "{}", "inject.istio.io/templates": "gateway",
		"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus"}
	gatewayPorts := map[string]int{"http-envoy-prom": 15090}
	// A waypoint pod as Istio's waypoint template makes it
	// (manifests/charts/istio-control/istio-discovery/files/waypoint.yaml).
	waypoint := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus"}
	waypointLabels := map[string]string{"gateway.networking.k8s.io/gateway-name": "waypoint", "istio.io/dataplane-mode": "none",
		"sidecar.istio.io/inject": "false"}
	waypointPorts := map[string]int{"metrics": 15020, "status-port": 15021, "http-envoy-prom": 15090}
	// The declared waypoint, and another the profile does not declare.
	waypoints := []pod{
		{namespace: "media", name: "waypoint-1", ip: "10.4.0.9", labels: waypointLabels, annotations: waypoint, ports: waypointPorts},
		{namespace: "media", name: "other-waypoint-1", ip: "10.4.0.10", annotations: waypoint, ports: waypointPorts,
			labels: map[string]string{"gateway.networking.k8s.io/gateway-name": "other", "istio.io/dataplane-mode": "none"}},
	}
	merged := map[string]string{"sidecar.istio.io/status": "{}", "prometheus.io/scrape": "true",
		"prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus"}
	plain := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9000"}
	annotatedSidecar := map[string]string{"sidecar.istio.io/status": "{}", "prometheus.io/scrape": "true", "prometheus.io/port": "9000"}
	tests := map[string]struct {
		profile string
		// open runs the example under the open network stance and Istio's
		// allow authorization: nothing keeps Prometheus from a pod.
		open bool
		pods []pod
		want []string
	}{
		"istio-certs: a declared service is scraped over TLS on its app port, Envoy on 15090": {
			profile: "strict-deny",
			pods: []pod{{namespace: "payments", name: "checkout-1", ip: "10.1.0.5",
				labels: map[string]string{"app": "checkout"}, annotations: sidecar, ports: sidecarPorts}},
			want: []string{
				"envoy-stats http://10.1.0.5:15090/stats/prometheus team=payments service=",
				"payments/checkout https://10.1.0.5:8080/metrics team=payments service=checkout",
			},
		},
		// Under the example's default-deny stance the policies let
		// Prometheus reach only 15090 on pods it does not know: neither
		// annotated application port is discovered.
		"istio-certs, default-deny: undeclared annotated pods are left alone, Envoy's 15090 is scraped": {
			profile: "strict-deny",
			pods: []pod{
				{namespace: "search", name: "cache-1", ip: "10.1.0.6", labels: map[string]string{"app": "cache"},
					annotations: annotatedSidecar, ports: sidecarPorts},
				{namespace: "tools", name: "job-1", ip: "10.1.0.7", annotations: plain, ports: map[string]int{"http": 9000}},
				{namespace: "istio-system", name: "istio-cni-node-x", ip: "10.0.0.5", labels: map[string]string{"k8s-app": "istio-cni-node"},
					annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15014", "prometheus.io/path": "/metrics"},
					ports:       map[string]int{"metrics": 15014}},
			},
			want: []string{
				"envoy-stats http://10.1.0.6:15090/stats/prometheus team=search service=",
			},
		},
		"istio-certs, open: an undeclared annotated sidecar pod goes to the secure job, a plain one to kubernetes-pods": {
			profile: "strict-deny", open: true,
			pods: []pod{
				{namespace: "search", name: "cache-1", ip: "10.1.0.6", labels: map[string]string{"app": "cache"},
					annotations: annotatedSidecar, ports: sidecarPorts},
				{namespace: "tools", name: "job-1", ip: "10.1.0.7", annotations: plain, ports: map[string]int{"http": 9000}},
			},
			want: []string{
				"envoy-stats http://10.1.0.6:15090/stats/prometheus team=search service=",
				"kubernetes-pods http://10.1.0.7:9000/metrics team= service=",
				"kubernetes-pods-istio-secure https://10.1.0.6:9000/metrics team=search service=",
			},
		},
		"merged: a declared service is scraped on 15020 once, and Envoy's port 15090 is not scraped as well": {
			profile: "default-permissive",
			pods: []pod{
				{namespace: "shop", name: "frontend-1", ip: "10.2.0.5", labels: map[string]string{"app": "frontend"},
					annotations: merged, ports: sidecarPorts},
				{namespace: "shop", name: "cart-1", ip: "10.2.0.6", labels: map[string]string{"app": "cart"},
					annotations: merged, ports: sidecarPorts},
			},
			want: []string{
				"istio-merged http://10.2.0.6:15020/stats/prometheus team=shop service=",
				"shop/frontend http://10.2.0.5:15020/stats/prometheus team=shop service=frontend",
			},
		},
		"permissive-port: the app port is scraped in plaintext and annotated sidecar pods are left alone": {
			profile: "calico-global-deny",
			pods: []pod{
				{namespace: "orders", name: "api-1", ip: "10.3.0.5", labels: map[string]string{"app": "order-api"},
					annotations: sidecar, ports: map[string]int{"http": 9090, "http-envoy-prom": 15090}},
				{namespace: "identity-admin", name: "admin-1", ip: "10.3.0.6", annotations: annotatedSidecar, ports: sidecarPorts},
			},
			want: []string{
				"envoy-stats http://10.3.0.5:15090/stats/prometheus team=orders service=",
				"envoy-stats http://10.3.0.6:15090/stats/prometheus team=identity service=",
				"orders/order-api http://10.3.0.5:9090/metrics team=orders service=order-api",
			},
		},
		"secure-port: a declared gateway is scraped once on 15092 by istio-gateways, an undeclared one by istio-merged": {
			profile: "admin-network-policy",
			pods: []pod{
				{namespace: "istio-ingress", name: "istio-ingress-1", ip: "10.5.0.5", labels: map[string]string{"app": "istio-ingress", "istio": "ingress"},
					annotations: gateway, ports: gatewayPorts},
				{namespace: "istio-system", name: "istio-ingressgateway-1", ip: "10.5.0.6", labels: map[string]string{"app": "istio-ingressgateway", "istio": "ingressgateway"},
					annotations: gateway, ports: gatewayPorts},
			},
			want: []string{
				"istio-gateways https://10.5.0.5:15092/stats/prometheus team= service= gateway=public",
				"istio-merged https://10.5.0.6:15092/stats/prometheus team= service=",
			},
		},
		"permissive-port: declared gateways are scraped by istio-gateways only, not by envoy-stats": {
			profile: "calico-global-deny",
			pods: []pod{
				{namespace: "istio-system", name: "istio-ingressgateway-1", ip: "10.3.0.7", labels: map[string]string{"app": "istio-ingressgateway", "istio": "ingressgateway"},
					annotations: gateway, ports: gatewayPorts},
				{namespace: "istio-egress", name: "istio-egressgateway-1", ip: "10.3.0.8", labels: map[string]string{"app": "istio-egressgateway", "istio": "egressgateway"},
					annotations: gateway, ports: gatewayPorts},
			},
			want: []string{
				"istio-gateways http://10.3.0.7:15020/stats/prometheus team= service= gateway=ingress",
				"istio-gateways http://10.3.0.8:15020/stats/prometheus team= service= gateway=egress",
			},
		},
		"ambient, open: the declared waypoint on 15020 by istio-waypoints with its namespace's team, not by kubernetes-pods": {
			profile: "ambient", open: true,
			pods: waypoints,
			want: []string{
				"istio-waypoints http://10.4.0.9:15020/stats/prometheus team=media service= waypoint=waypoint",
				"kubernetes-pods http://10.4.0.10:15020/stats/prometheus team=media service=",
			},
		},
		// The example's deny stance opens no port to every pod in ambient,
		// so another waypoint is not discovered at all.
		"ambient, default-deny: the declared waypoint by istio-waypoints, no annotation-driven job": {
			profile: "ambient",
			pods:    waypoints,
			want: []string{
				"istio-waypoints http://10.4.0.9:15020/stats/prometheus team=media service= waypoint=waypoint",
			},
		},
		"ambient: ztunnel on 15020, the service directly, nothing twice": {
			profile: "ambient",
			pods: []pod{
				{namespace: "istio-system", name: "ztunnel-x", ip: "10.4.0.2", labels: map[string]string{"app": "ztunnel"},
					annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020"},
					ports:       map[string]int{"ztunnel-stats": 15020}},
				{namespace: "media", name: "transcoder-1", ip: "10.4.0.5", labels: map[string]string{"app": "transcoder"},
					annotations: plain, ports: map[string]int{"http": 9100}},
			},
			want: []string{
				"media/transcoder http://10.4.0.5:9100/metrics team=media service=transcoder",
				"ztunnel http://10.4.0.2:15020/metrics team= service=",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.open {
				res := exampleVariant(t, tc.profile, func(p *v1alpha1.Profile) {
					p.Network.Stance, p.Mesh.Authorization = v1alpha1.StanceOpen, v1alpha1.AuthorizationAllow
				})
				assert.Equal(t, tc.want, targetsOf(t, res, tc.pods))
				return
			}
			assert.Equal(t, tc.want, targetsOfProfile(t, tc.profile, tc.pods))
		})
	}
}
